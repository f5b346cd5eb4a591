#!/usr/bin/env bash
# Compile cost of a one-function user crate that depends on conduit-metrics-runtime:
# minimal (`default-features = false`), default and all features.
#
#   scripts/compile-cost.sh          clean debug builds of each, timed in this one run,
#                                    printed as the table of docs/performance.md
#   scripts/compile-cost.sh --check  no build: fails if the minimal set resolves to more
#                                    than 45 crates (the test command runs this)
set -euo pipefail
cd "$(dirname "$0")/.."
workspace=$(pwd)
max_minimal_crates=45
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

make_crate() { # name, dependency spec
  mkdir -p "$work/$1/src"
  cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "user-$1"
version = "0.1.0"
edition = "2024"

[dependencies]
conduit-metrics-runtime = { path = "$workspace/conduit-metrics-runtime"$2 }

[workspace]
TOML
  cat > "$work/$1/src/lib.rs" <<'RUST'
use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "transcription")]
pub fn transcribe(provider: &str, audio: &[u8]) -> Result<usize, std::io::Error> {
    let _ = provider;
    Ok(audio.len())
}
RUST
  # The workspace's lock file pins the same versions the workspace builds with.
  cp "$workspace/Cargo.lock" "$work/$1/Cargo.lock"
}

make_crate minimal ", default-features = false"
make_crate default ""
make_crate all ", features = [\"http-listener\", \"tls-ring\", \"axum\", \"gzip\", \"process-metrics\", \"toml\", \"push-gateway\", \"recorder\", \"reqwest\", \"anyhow\", \"eyre\", \"opentelemetry\"]"

# Packages a build compiles: the user crate and every normal, build and proc-macro
# dependency (what `cargo build` prints a `Compiling` line for).
crates() {
  (cd "$work/$1" && cargo tree --offline -e normal,build --prefix none --no-dedupe 2>/dev/null) \
    | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u | wc -l
}

if [ "${1:-}" = "--check" ]; then
  minimal=$(crates minimal)
  default=$(crates default)
  echo "crates compiled for a one-function user crate: minimal $minimal (at most $max_minimal_crates), default $default"
  if [ "$minimal" -gt "$max_minimal_crates" ]; then
    echo "error: default-features = false compiles $minimal crates, more than $max_minimal_crates" >&2
    exit 1
  fi
  exit 0
fi

declare -A seconds count
for variant in minimal default all; do
  start=$(date +%s.%N)
  log=$(cd "$work/$variant" && CARGO_TARGET_DIR="$work/$variant/target" cargo build --offline 2>&1)
  end=$(date +%s.%N)
  seconds[$variant]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
  count[$variant]=$(grep -c '^ *Compiling ' <<<"$log")
done
echo "| features | crates compiled | clean debug build | vs default |"
echo "|---|---|---|---|"
for variant in minimal default all; do
  ratio=$(awk -v a="${seconds[$variant]}" -v b="${seconds[default]}" 'BEGIN { printf "%.2f", a / b }')
  printf '| %s | %s | %.1f s | %s |\n' "$variant" "${count[$variant]}" "${seconds[$variant]}" "$ratio"
done
