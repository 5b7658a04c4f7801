# The two commands a newcomer needs (see README.md):
#   make run    the server on generated demo data (embedded store, no AWS needed)
#   make test   every test: Rust, WASM parity, web in headless Chromium
# And for the importer's and the filters' robustness (docs/fuzzing.md):
#   make fuzz   every cargo-fuzz target for FUZZ_SECONDS seconds each (nightly; installed if missing)
.PHONY: run test fuzz
run:
	./scripts/run.sh
test:
	./scripts/test.sh

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= import_sniff normalize filter_compile graphql_request
# New inputs libFuzzer finds go here (git-ignored); fuzz/corpus/<target> holds the committed seeds.
FUZZ_WORK ?= fuzz/work
fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(abspath $(FUZZ_WORK))/$$t || exit 1; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s (CARGO_TARGET_DIR=$${CARGO_TARGET_DIR:-fuzz/target})"; \
		(cd fuzz && cargo +nightly fuzz run -O $$t $(abspath $(FUZZ_WORK))/$$t corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048) || exit 1; \
	done
