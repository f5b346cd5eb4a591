//! OpenMetrics 1.0 beside the text format 0.0.4: the same samples, counters and units
//! written as OpenMetrics wants, `# EOF` last, accepted by an independent parser (Python's
//! `prometheus_client`); the endpoint negotiates by `Accept`.

mod common;

use std::collections::BTreeSet;

use common::{http, python_openmetrics_families};
use conduit_metrics_runtime::MetricsConfig;
use conduit_metrics_runtime::serving::{EndpointServer, ExpositionFormat};

fn samples(text: &str) -> BTreeSet<&str> {
    text.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn openmetrics_has_the_same_samples_and_the_metadata_openmetrics_wants() {
    let registry = common::registry_with_every_family();
    let text = registry.render_format(ExpositionFormat::Text);
    let openmetrics = registry.render_format(ExpositionFormat::OpenMetrics);
    assert!(openmetrics.ends_with("\n# EOF\n"), "{openmetrics}");
    assert_eq!(openmetrics.matches("# EOF").count(), 1);
    // The same series, names and values: a scraper stores the same whatever it asked.
    assert_eq!(samples(&text), samples(&openmetrics));
    // Counters are named without `_total` in their metadata, and keep it in samples.
    assert!(openmetrics.contains("# TYPE conduit_audio_requests counter\n"));
    assert!(openmetrics.contains("# HELP conduit_audio_requests Total number"));
    assert!(openmetrics.contains("conduit_audio_requests_total{operation="));
    // The guide's cost counter has no `_total`: `unknown`, so its name stays.
    assert!(openmetrics.contains("# TYPE conduit_audio_cost_dollars unknown\n"));
    assert!(openmetrics.contains("\nconduit_audio_cost_dollars{operation=\"tts\"} "));
    // Units, where the family name ends in one.
    for (family, unit) in [
        ("conduit_audio_request_duration_seconds", "seconds"),
        ("conduit_audio_request_size_bytes", "bytes"),
        ("conduit_audio_time_to_first_byte_seconds", "seconds"),
        ("conduit_audio_audio_seconds", "seconds"),
    ] {
        assert!(
            openmetrics.contains(&format!("# UNIT {family} {unit}\n")),
            "{family}"
        );
    }
    // `"` in help text is escaped as OpenMetrics wants.
    assert!(openmetrics.contains(r#"provider=\"other\""#));
    // An independent parser accepts every family.
    let families = python_openmetrics_families(&openmetrics)
        .unwrap_or_else(|error| panic!("{error}\n{openmetrics}"));
    assert_eq!(
        families,
        // Without the facade's dropped-series counter, the model label's and the exports'.
        conduit_metrics_runtime::catalogue::ALL_FAMILIES.len() - 3
    );
}

#[test]
fn the_endpoint_answers_each_scraper_in_the_format_it_asks_for() {
    let registry = common::registry_with_every_family();
    let config = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let server =
        EndpointServer::start_with_formats(&config, |format| registry.render_bytes(format))
            .unwrap();
    let addr = server.local_addr();
    let scrape = |accept: &str| {
        http(
            addr,
            &format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"),
        )
    };
    // What Prometheus 2.42 sends.
    let (status, head, body) = scrape(
        "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n",
    );
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    assert!(body.ends_with("# EOF\n"));
    // The body depends on Accept here, and caches must know it.
    assert!(
        head.contains("vary: Accept, Accept-Encoding")
            || head.contains("Vary: Accept, Accept-Encoding"),
        "{head}"
    );
    // Anyone else, and a server given a text-only render, answer text 0.0.4.
    for accept in ["", "Accept: text/plain\r\n", "Accept: */*\r\n"] {
        let (_, head, body) = scrape(accept);
        assert!(
            head.contains("text/plain; version=0.0.4"),
            "{accept}: {head}"
        );
        assert!(!body.contains("# EOF"));
    }
    server.shutdown();
    let text_only = EndpointServer::start(&config, move || registry.render()).unwrap();
    let addr = text_only.local_addr();
    let (_, head, _) = http(
        addr,
        &format!(
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: application/openmetrics-text\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    // A text-only body does not vary with Accept.
    assert!(
        !head.to_ascii_lowercase().contains("vary: accept,"),
        "{head}"
    );
    text_only.shutdown();
}
