//! Memory is bounded by label cardinality, not by traffic: a million calls do not grow
//! resident memory more than a few MiB over the first thousand.

use conduit_metrics_runtime::{CallOutcome, CallSite, Operation, Status};

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * page_size as u64
}

static SITE: CallSite = CallSite::new(Operation::Transcription);

fn calls(range: std::ops::Range<u64>) {
    const PROVIDERS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for i in range {
        let provider = PROVIDERS[(i % 8) as usize];
        let status = Status::ALL[(i % Status::ALL.len() as u64) as usize];
        SITE.start(provider).finish_with(
            CallOutcome::new(status)
                .size(i % 100_000)
                .cost(0.001)
                .cache_hit(i % 3 == 0),
        );
    }
}

#[test]
fn a_million_calls_cost_no_more_memory_than_a_thousand() {
    calls(0..1_000);
    let _ = conduit_metrics_runtime::global().render();
    let after_thousand = resident_bytes();
    calls(1_000..1_000_000);
    let _ = conduit_metrics_runtime::global().render();
    let after_million = resident_bytes();
    let growth = after_million.saturating_sub(after_thousand);
    assert!(
        growth < 2 * 1024 * 1024,
        "resident memory grew by {growth} bytes between 1e3 and 1e6 calls"
    );
    let text = conduit_metrics_runtime::global().render();
    let total: f64 = text
        .lines()
        .filter(|l| l.starts_with("conduit_audio_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(total, 1_000_000.0);
}
