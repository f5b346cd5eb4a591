#!/usr/bin/env bash
# Runs every check and test of the workspace from a fresh clone, installing what the
# tests need first. This is the command README.md documents and .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: promtool and prometheus (package `prometheus`), a real
# Pushgateway (package `prometheus-pushgateway`), a real Alertmanager with amtool
# (package `prometheus-alertmanager`), VictoriaMetrics (package `victoria-metrics`) and
# Python's prometheus_client and protobuf.
missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
# A second global store for the fleet test's remote write, answering PromQL.
command -v victoria-metrics >/dev/null 2>&1 || missing+=(victoria-metrics)
# An OpenMetrics parser independent of ours: Python's prometheus_client, for Debian's own
# python3 (a python3 earlier on PATH, e.g. pyenv's, does not see it; the tests call
# /usr/bin/python3).
/usr/bin/python3 -c 'import prometheus_client.openmetrics.parser' >/dev/null 2>&1 || missing+=(python3-prometheus-client)
# A protobuf decoder independent of ours: Google's Python protobuf runtime, with classes
# protoc generates from client_model's metrics.proto (which imports the well-known
# Timestamp of libprotobuf-dev).
/usr/bin/python3 -c 'import google.protobuf' >/dev/null 2>&1 || missing+=(python3-protobuf)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/timestamp.proto ] || missing+=(libprotobuf-dev)
# The audio-duration tests' oracle and sources: ffmpeg makes WAV, FLAC, MP3, Ogg, M4A and
# WebM files and ffprobe times them; espeak-ng speaks the sentence they hold.
command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The official OTLP message classes (PyPI's opentelemetry-proto) for the OTLP receiver of
# conduit-metrics-runtime/tests/otlp.rs, for the python3 on PATH (it brings its own
# protobuf runtime, so Debian's python3 is left alone).
python3 -c 'import opentelemetry.proto.collector.metrics.v1.metrics_service_pb2' >/dev/null 2>&1 \
  || python3 -m pip install --quiet opentelemetry-proto
command -v cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest --locked
command -v cargo-hack >/dev/null 2>&1 || cargo install cargo-hack --locked

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> each Cargo feature of the runtime on its own, and none (warnings are errors)"
# A target directory of its own: other RUSTFLAGS would rebuild the main one.
CARGO_TARGET_DIR=target/feature-check RUSTFLAGS="-D warnings" \
  cargo hack check -p conduit-metrics-runtime --each-feature --no-dev-deps
echo "==> compile cost of default-features = false"
./scripts/compile-cost.sh --check
echo "==> cargo nextest run (default features, with audio-duration for its oracle tests)"
# The demo and the workspace tests enable audio-duration already; naming it here keeps the
# runtime's ffprobe-oracle tests (required-features) from being skipped if they stop.
cargo nextest run --workspace --features conduit-metrics-runtime/audio-duration --locked --no-fail-fast
echo "==> OTLP export (feature otlp, with opentelemetry for exemplars): its unit tests and the real-decoder test"
cargo nextest run -p conduit-metrics-runtime --features otlp,opentelemetry --lib --test otlp --locked --no-fail-fast
echo "==> the runtime's unit tests with default-features = false, and with tls alone"
cargo nextest run -p conduit-metrics-runtime --lib --no-default-features --locked --no-fail-fast
cargo nextest run -p conduit-metrics-runtime --lib --no-default-features --features tls --locked --no-fail-fast
echo "==> doctests"
cargo test --workspace --doc --locked
echo "==> cargo package of the published crates (macros, runtime), verification build included"
# --allow-dirty: a run on a working tree with changes still checks what would be packaged.
cargo package -p conduit-metrics-macros -p conduit-metrics-runtime --locked --allow-dirty
echo "==> cargo doc with every feature, as docs.rs builds it (warnings are errors: broken links, missing docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --all-features -p conduit-metrics-runtime -p conduit-metrics-macros
