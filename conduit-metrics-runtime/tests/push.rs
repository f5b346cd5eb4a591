//! Push mode against a real Pushgateway (Debian `prometheus-pushgateway`, started here):
//! periodic pushes, and the final push on shutdown that keeps the last observations.

mod common;

use std::time::{Duration, Instant};

use common::servers::pushgateway;
use conduit_metrics_runtime::{MetricsConfig, Operation, Status};

/// The value of our counter in the gateway's exposition (job and instance added by it).
fn pushed(gateway: std::net::SocketAddr) -> Option<f64> {
    let (status, _, body) = common::get(gateway, "/metrics");
    assert_eq!(status, 200);
    body.lines()
        .filter(|line| line.starts_with("conduit_audio_requests_total{"))
        .filter(|line| line.contains("job=\"batch_transcriber\""))
        .filter(|line| line.contains("instance=\"worker-1\""))
        .filter(|line| line.contains("provider=\"push\"") && line.contains("status=\"success\""))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

/// Installs in push mode (no listener) to `gateway`, grouped as the tests read it.
fn install_pushing_to(
    gateway: std::net::SocketAddr,
    interval: Duration,
) -> conduit_metrics_runtime::MetricsHandle {
    MetricsConfig::builder()
        .no_listener()
        .export_interval(interval)
        .metrics_window(Duration::from_secs(2))
        .push_gateway(&format!("http://{gateway}"))
        .push_grouping("batch_transcriber", Some("worker-1".to_owned()))
        .build()
        .unwrap()
        .install()
        .unwrap()
}

#[test]
fn pushes_every_interval_and_once_more_on_shutdown() {
    let gateway = pushgateway();
    let handle = install_pushing_to(gateway.addr, Duration::from_millis(200));
    assert_eq!(handle.local_addr(), None);

    conduit_metrics_runtime::start_call(Operation::Transcription, "push").finish(Status::Success);
    let deadline = Instant::now() + Duration::from_secs(20);
    while pushed(gateway.addr) != Some(1.0) {
        assert!(
            Instant::now() < deadline,
            "no periodic push reached the gateway"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Recorded just before shutdown: only the final push can deliver these.
    for _ in 0..4 {
        conduit_metrics_runtime::start_call(Operation::Transcription, "push")
            .finish(Status::Success);
    }
    handle.shutdown().expect("final push");
    assert_eq!(pushed(gateway.addr), Some(5.0));
}

/// The promise of docs/guarantees.md, as it says it: 10,000 calls from 4 threads, recorded right up to
/// shutdown (no wait in between), all reach the Pushgateway through the final push.
#[test]
fn ten_thousand_calls_from_four_threads_up_to_shutdown_all_reach_the_gateway() {
    let gateway = pushgateway();
    let handle = install_pushing_to(gateway.addr, Duration::from_millis(100));
    // Periodic pushes run while the threads record.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..2_500 {
                    conduit_metrics_runtime::start_call(Operation::Transcription, "push")
                        .finish(Status::Success);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    handle.shutdown().expect("final push");
    assert_eq!(pushed(gateway.addr), Some(10_000.0));
}
