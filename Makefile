# The two commands a newcomer needs (see README.md):
#   make run    the server on generated demo data (embedded store, no AWS needed)
#   make test   every test: Rust, WASM parity, web in headless Chromium
.PHONY: run test
run:
	./scripts/run.sh
test:
	./scripts/test.sh
