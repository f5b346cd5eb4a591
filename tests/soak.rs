//! Soak: recording at full speed on two threads, a scrape every second, for
//! `CONDUIT_SOAK_SECONDS` (default 15; e.g. 300 for a five-minute soak). Memory stays
//! flat and every count is exact at the end. The run is bounded by that duration.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use conduit_metrics_runtime::{AudioStatus, MetricsConfig, audio_metric};

#[derive(Debug, AudioStatus)]
enum SoakError {
    #[audio_status("timeout")]
    Timeout,
}

#[audio_metric(operation = "transcription", size = audio.len())]
fn transcribe(provider: &str, audio: &[u8], fail: bool) -> Result<usize, SoakError> {
    if fail {
        Err(SoakError::Timeout)
    } else {
        Ok(audio.len())
    }
}

#[test]
fn memory_stays_flat_and_counts_exact_at_full_speed() {
    let seconds: u64 = std::env::var("CONDUIT_SOAK_SECONDS")
        .ok()
        .map(|s| {
            s.parse()
                .expect("CONDUIT_SOAK_SECONDS must be a whole number of seconds")
        })
        .unwrap_or(15)
        .clamp(3, 3600);
    let handle = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .export_interval(Duration::from_secs(1))
        .metrics_window(Duration::from_secs(30))
        .cache_expiration(Duration::ZERO)
        .build()
        .unwrap()
        .install()
        .unwrap();
    let addr = handle.local_addr().unwrap();
    let running = Arc::new(AtomicBool::new(true));
    let recorders: Vec<_> = (0..2)
        .map(|worker| {
            let running = running.clone();
            std::thread::spawn(move || {
                let providers = ["soak-a", "soak-b", "soak-c", "soak-d"];
                let audio = [0u8; 4096];
                let (mut ok, mut failed) = (0u64, 0u64);
                let mut i = worker;
                while running.load(Relaxed) {
                    for _ in 0..1000 {
                        let fail = i % 10 == 0;
                        let _ = transcribe(providers[i % 4], &audio, fail);
                        if fail {
                            failed += 1
                        } else {
                            ok += 1
                        }
                        i += 1;
                    }
                }
                (ok, failed)
            })
        })
        .collect();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut memory_at_quarter = None;
    let mut scrapes = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(1));
        let (status, body) = runtime.block_on(common::get(addr, "/metrics"));
        assert_eq!(status, 200);
        assert!(
            body.contains("conduit_audio_provider_error_rate{provider=\"soak-a\"}") || scrapes < 3
        );
        scrapes += 1;
        if memory_at_quarter.is_none() && started.elapsed() >= Duration::from_secs(seconds / 4) {
            memory_at_quarter = Some(common::resident_bytes());
        }
    }
    running.store(false, Relaxed);
    let (mut ok, mut failed) = (0, 0);
    for recorder in recorders {
        let (o, f) = recorder.join().unwrap();
        ok += o;
        failed += f;
    }
    let growth = common::resident_bytes().saturating_sub(memory_at_quarter.unwrap());
    assert!(
        growth < 4 * 1024 * 1024,
        "memory grew by {growth} bytes while soaking"
    );
    // A scrape a second is the plan; a busy 2-core machine stretches each round, so
    // half as many proves the scrapes ran throughout without timing the machine.
    assert!(
        scrapes as u64 >= (seconds / 2).max(3),
        "{scrapes} scrapes in {seconds} s"
    );

    let text = handle.render();
    let sum = |status: &str| -> f64 {
        ["soak-a", "soak-b", "soak-c", "soak-d"]
            .iter()
            .map(|p| common::value(&text, &format!("conduit_audio_requests_total{{operation=\"transcription\",provider=\"{p}\",status=\"{status}\"}}")))
            .sum()
    };
    assert_eq!(sum("success"), ok as f64);
    assert_eq!(sum("timeout"), failed as f64);
    let sizes: f64 = ["soak-a", "soak-b", "soak-c", "soak-d"]
        .iter()
        .map(|p| common::value(&text, &format!("conduit_audio_request_size_bytes_count{{operation=\"transcription\",provider=\"{p}\"}}")))
        .sum();
    assert_eq!(sizes, (ok + failed) as f64);
    eprintln!(
        "soak: {} calls in {seconds} s, {scrapes} scrapes, memory growth {growth} bytes",
        ok + failed
    );
}
