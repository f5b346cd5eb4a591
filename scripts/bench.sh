#!/usr/bin/env bash
# Runs the runtime's benchmarks and prints the tables of docs/performance.md from this one
# run: every baseline beside what is compared with it, every ratio from the same run.
#
#   scripts/bench.sh          criterion's default sampling (a few minutes)
#   scripts/bench.sh --quick  shorter sampling, to try the script (noisier figures)
set -euo pipefail
cd "$(dirname "$0")/.."
args=(--noplot)
if [ "${1:-}" = "--quick" ]; then
  args+=(--warm-up-time 0.5 --measurement-time 1)
fi
# Only this run's figures go into the tables.
rm -rf target/criterion
cargo bench -p conduit-metrics-runtime --bench hot_path --bench recording --bench streaming --bench models -- "${args[@]}"
cargo bench -p conduit-metrics-runtime --features otlp --bench otlp -- "${args[@]}"
cargo bench -p conduit-metrics-runtime --features opentelemetry --bench exemplars -- "${args[@]}"
cargo bench -p conduit-metrics-runtime --features audio-duration --bench audio_duration -- "${args[@]}"
echo
python3 scripts/bench_tables.py target/criterion
