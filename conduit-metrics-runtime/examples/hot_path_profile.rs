//! A tight loop over `#[audio_metric]` calls, for profilers:
//! `perf record -e cpu-clock -g target/release/examples/hot_path_profile` or
//! `valgrind --tool=callgrind target/release/examples/hot_path_profile 200000`.

use std::hint::black_box;

use conduit_metrics_runtime::audio_metric;

#[audio_metric(operation = "transcription")]
fn transcribe(provider: &str, audio: &[u8]) -> Result<u64, ()> {
    Ok(audio.iter().map(|&b| u64::from(b)).sum())
}

fn main() {
    let calls: u64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000_000);
    let audio = [7u8; 64];
    let mut total = 0;
    for _ in 0..calls {
        total += transcribe(black_box("openai"), black_box(&audio)).unwrap_or(0);
    }
    println!("{total}");
}
