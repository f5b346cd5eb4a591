//! Exactness under concurrency: tasks on a multi-thread runtime and plain threads make
//! calls of every operation, several providers and every outcome (success, each error
//! status, cancelled by a timeout and by dropping, panics) while scrapes run the whole
//! time. Afterwards every counter, every histogram count and the active gauges equal
//! what the test did.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use conduit_metrics_runtime::{AudioStatus, MetricsConfig, Operation, Status, audio_metric};

#[derive(Debug, Clone, Copy, AudioStatus)]
enum Failure {
    #[audio_status("timeout")]
    Timeout,
    #[audio_status("rate_limited")]
    RateLimited,
    #[audio_status("invalid_request")]
    Invalid,
    #[audio_status("provider_unavailable")]
    Down,
    Other,
}

/// What a call should end as.
#[derive(Debug, Clone, Copy)]
enum Plan {
    Succeed,
    Fail(Failure),
    Panic,
    Hang,
}

fn status_of(plan: Plan) -> Status {
    match plan {
        Plan::Succeed => Status::Success,
        Plan::Fail(Failure::Timeout) => Status::Timeout,
        Plan::Fail(Failure::RateLimited) => Status::RateLimited,
        Plan::Fail(Failure::Invalid) => Status::InvalidRequest,
        Plan::Fail(Failure::Down) => Status::ProviderUnavailable,
        Plan::Fail(Failure::Other) => Status::Error,
        Plan::Panic => Status::Panic,
        Plan::Hang => Status::Cancelled,
    }
}

async fn act(plan: Plan) -> Result<u32, Failure> {
    tokio::task::yield_now().await;
    match plan {
        Plan::Succeed => Ok(1),
        Plan::Fail(failure) => Err(failure),
        Plan::Panic => panic!("planned panic"),
        Plan::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(0)
        }
    }
}

#[audio_metric(operation = "transcription")]
async fn transcribe(provider: &str, plan: Plan) -> Result<u32, Failure> {
    act(plan).await
}

#[audio_metric(operation = "tts")]
async fn speak(provider: String, plan: Plan) -> Result<u32, Failure> {
    act(plan).await
}

#[audio_metric(operation = "translation")]
fn translate(provider: &str, plan: Plan) -> Result<u32, Failure> {
    match plan {
        Plan::Succeed | Plan::Hang => Ok(1),
        Plan::Fail(failure) => Err(failure),
        Plan::Panic => panic!("planned panic"),
    }
}

const PROVIDERS: [&str; 5] = ["conc-a", "conc-b", "conc-c", "conc-d", "conc-e"];
const PLANS: [Plan; 8] = [
    Plan::Succeed,
    Plan::Succeed,
    Plan::Fail(Failure::Timeout),
    Plan::Fail(Failure::RateLimited),
    Plan::Fail(Failure::Invalid),
    Plan::Fail(Failure::Down),
    Plan::Fail(Failure::Other),
    Plan::Panic,
];

type Tally = BTreeMap<(Operation, &'static str, Status), u64>;

fn count(tally: &mut Tally, operation: Operation, provider: &'static str, status: Status) {
    *tally.entry((operation, provider, status)).or_default() += 1;
}

/// One async worker: calls of both async operations, including cancellations by timeout
/// and by dropping a started future, and panics inside spawned tasks.
async fn async_worker(seed: usize) -> Tally {
    let mut tally = Tally::new();
    for i in 0..60 {
        let provider = PROVIDERS[(seed + i) % PROVIDERS.len()];
        let plan = PLANS[(seed * 7 + i) % PLANS.len()];
        match (i % 4, plan) {
            (0, _) => {
                // Cancelled by a caller's timeout.
                let result = tokio::time::timeout(
                    Duration::from_millis(1),
                    transcribe(provider, Plan::Hang),
                )
                .await;
                assert!(result.is_err());
                count(
                    &mut tally,
                    Operation::Transcription,
                    provider,
                    Status::Cancelled,
                );
            }
            (1, _) => {
                // Cancelled by dropping a future that was polled once.
                let call = speak(provider.to_owned(), Plan::Hang);
                tokio::pin!(call);
                tokio::select! {
                    biased;
                    _ = &mut call => unreachable!("hangs"),
                    _ = std::future::ready(()) => {}
                }
                count(&mut tally, Operation::Tts, provider, Status::Cancelled);
            }
            (_, Plan::Panic) => {
                let joined = tokio::spawn(transcribe(provider, Plan::Panic)).await;
                assert!(joined.unwrap_err().is_panic());
                count(
                    &mut tally,
                    Operation::Transcription,
                    provider,
                    Status::Panic,
                );
            }
            (2, plan) => {
                let _ = transcribe(provider, plan).await;
                count(
                    &mut tally,
                    Operation::Transcription,
                    provider,
                    status_of(plan),
                );
            }
            (_, plan) => {
                let _ = speak(provider.to_owned(), plan).await;
                count(&mut tally, Operation::Tts, provider, status_of(plan));
            }
        }
    }
    tally
}

/// One plain thread: synchronous calls, panics caught by the test.
fn thread_worker(seed: usize) -> Tally {
    let mut tally = Tally::new();
    for i in 0..400 {
        let provider = PROVIDERS[(seed + i) % PROVIDERS.len()];
        let plan = PLANS[(seed * 3 + i) % PLANS.len()];
        let result = std::panic::catch_unwind(|| translate(provider, plan));
        assert_eq!(result.is_err(), matches!(plan, Plan::Panic));
        count(
            &mut tally,
            Operation::Translation,
            provider,
            status_of(plan),
        );
    }
    tally
}

#[test]
fn every_count_is_exact_under_concurrency_with_scrapes_running() {
    // Panics are expected here by the hundred; keep the output readable.
    std::panic::set_hook(Box::new(|_| {}));
    let handle = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .cache_expiration(Duration::ZERO)
        .build()
        .unwrap()
        .install()
        .unwrap();
    let addr = handle.local_addr().unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let scraping = Arc::new(AtomicBool::new(true));
    let scrapes = Arc::new(AtomicU64::new(0));
    let scraper = {
        let scraping = scraping.clone();
        let scrapes = scrapes.clone();
        let handle = handle.clone();
        runtime.spawn(async move {
            while scraping.load(Relaxed) {
                let (status, body) = common::get(addr, "/metrics").await;
                assert_eq!(status, 200);
                assert!(body.contains("conduit_audio_requests_total"));
                let _ = handle.render();
                scrapes.fetch_add(1, Relaxed);
            }
        })
    };

    // The workers start once scrapes are under way, so they overlap the whole run.
    while scrapes.load(Relaxed) < 3 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let threads: Vec<_> = (0..4)
        .map(|seed| std::thread::spawn(move || thread_worker(seed)))
        .collect();
    let tasks: Vec<_> = (0..200)
        .map(|seed| runtime.spawn(async_worker(seed)))
        .collect();
    let mut expected = Tally::new();
    for task in tasks {
        for (key, n) in runtime.block_on(task).unwrap() {
            *expected.entry(key).or_default() += n;
        }
    }
    for thread in threads {
        for (key, n) in thread.join().unwrap() {
            *expected.entry(key).or_default() += n;
        }
    }
    scraping.store(false, Relaxed);
    runtime.block_on(scraper).unwrap();
    assert!(scrapes.load(Relaxed) >= 3, "scrapes did not run alongside");
    let _ = std::panic::take_hook();

    let text = handle.render();
    let value = |series: String| common::value(&text, &series);
    let mut calls = 0;
    for &operation in &[
        Operation::Transcription,
        Operation::Tts,
        Operation::Translation,
    ] {
        for provider in PROVIDERS {
            let mut completed = 0;
            for &status in Status::ALL {
                let want = expected
                    .get(&(operation, provider, status))
                    .copied()
                    .unwrap_or(0);
                let got = value(format!(
                    "conduit_audio_requests_total{{operation=\"{operation}\",provider=\"{provider}\",status=\"{status}\"}}"
                ));
                assert_eq!(got, want as f64, "{operation} {provider} {status}");
                if status != Status::Cancelled {
                    completed += want;
                }
                calls += want;
            }
            let count = value(format!(
                "conduit_audio_request_duration_seconds_count{{operation=\"{operation}\",provider=\"{provider}\"}}"
            ));
            assert_eq!(count, completed as f64, "{operation} {provider} durations");
        }
        assert_eq!(
            value(format!(
                "conduit_audio_active_operations{{operation=\"{operation}\"}}"
            )),
            0.0
        );
    }
    assert_eq!(calls, 200 * 60 + 4 * 400);
}
