#!/bin/sh
# AWS sync benchmark (issue 7): 10 regions x 20,000 gdlens-demo findings served by the local
# GuardDuty fixture with 20 ms added per call; full first syncs into a fresh SQLite store at
# concurrency 1, 2, 4, 8, 10, then one run with a binding rate cap. Extra arguments are passed
# on (see crates/gdlens-aws/benches/aws_sync.rs). The machine's load is printed before and after:
# the figures are wall-clock and move with it.
set -eu
cd "$(dirname "$0")/../.."
echo "before: $(uptime)"
cargo bench -p gdlens-aws --bench aws_sync -- "$@"
echo "after: $(uptime)"
