//! No install path panics. Each way `install` can fail is an `Err`, and each is tried
//! from plain code, from inside a current-thread Tokio runtime and from inside a
//! multi-thread one (`#[tokio::main]` is the usual caller); so is the path that used to
//! panic there, an application that installed its own `metrics` recorder first, which
//! now succeeds. Every test runs in its own process (nextest), so each starts with
//! nothing installed.

use std::io::Write as _;

use conduit_metrics_testkit::LogCapture;

use conduit_metrics_runtime::serving::ServeError;
use conduit_metrics_runtime::{FacadeMetrics, InstallError, MetricsConfig, Operation, Status};

/// The same check from sync code and from inside both kinds of Tokio runtime.
macro_rules! in_every_context {
    ($($name:ident => $check:ident;)+) => {$(
        mod $name {
            #[test]
            fn from_sync_code() {
                crate::$check();
            }

            #[tokio::test(flavor = "current_thread")]
            async fn inside_a_current_thread_runtime() {
                crate::$check();
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn inside_a_multi_thread_runtime() {
                crate::$check();
            }
        }
    )+};
}

in_every_context! {
    address_taken => address_taken;
    second_install => second_install;
    missing_tls_files => missing_tls_files;
    unusable_tls_files => unusable_tls_files;
    invalid_environment => invalid_environment;
    application_recorder_first => application_recorder_first;
    unusable_push_ca => unusable_push_ca;
}

fn on_loopback() -> conduit_metrics_runtime::MetricsConfigBuilder {
    MetricsConfig::builder().listen("127.0.0.1:0".parse().unwrap())
}

fn address_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let config = MetricsConfig::builder().listen(address).build().unwrap();
    let error = config.install().unwrap_err();
    assert!(
        matches!(error, InstallError::Serve(ServeError::Bind { address: a, .. }) if a == address),
        "{error}"
    );
    // Nothing stays installed: the next install succeeds.
    let handle = on_loopback().build().unwrap().install().unwrap();
    handle.shutdown().unwrap();
}

fn second_install() {
    let handle = on_loopback().build().unwrap().install().unwrap();
    let error = on_loopback().build().unwrap().install().unwrap_err();
    assert!(
        matches!(error, InstallError::AlreadyInstalled(_)),
        "{error}"
    );
    let address = handle.local_addr().unwrap().to_string();
    assert!(error.to_string().contains(&address), "{error}");
    handle.shutdown().unwrap();
}

fn missing_tls_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let error = on_loopback()
        .tls(&missing, &missing)
        .build()
        .unwrap()
        .install()
        .unwrap_err();
    assert!(
        matches!(error, InstallError::Serve(ServeError::Tls(_))),
        "{error}"
    );
    assert!(error.to_string().contains("missing.pem"), "{error}");
}

fn unusable_tls_files() {
    let dir = tempfile::tempdir().unwrap();
    let certificate = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    // A real certificate with the key of another one: rustls refuses the pair.
    let first = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let second = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::File::create(&certificate)
        .unwrap()
        .write_all(first.cert.pem().as_bytes())
        .unwrap();
    std::fs::File::create(&key)
        .unwrap()
        .write_all(second.signing_key.serialize_pem().as_bytes())
        .unwrap();
    let error = on_loopback()
        .tls(&certificate, &key)
        .build()
        .unwrap()
        .install()
        .unwrap_err();
    assert!(
        matches!(error, InstallError::Serve(ServeError::Tls(_))),
        "{error}"
    );
    assert!(error.to_string().contains("key.pem"), "{error}");
}

fn invalid_environment() {
    // SAFETY: each test runs in its own process, and nothing else in it reads the
    // environment while this sets it.
    unsafe {
        std::env::set_var("CONDUIT_METRICS_EXPORT_INTERVAL", "soon");
        std::env::set_var("CONDUIT_METRICS_LISTEN", "127.0.0.1:0");
    }
    let error = conduit_metrics_runtime::install().unwrap_err();
    assert!(matches!(error, InstallError::Config(_)), "{error}");
    assert!(error.to_string().contains("ExportInterval"), "{error}");
}

fn application_recorder_first() {
    // The application's own recorder, the stock one of metrics-exporter-prometheus.
    let application = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let application_handle = application.handle();
    metrics::set_global_recorder(application).unwrap();

    let logs = LogCapture::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let handle = tracing::subscriber::with_default(subscriber, || {
        on_loopback().build().unwrap().install().unwrap()
    });
    assert_eq!(handle.facade_metrics(), FacadeMetrics::ApplicationRecorder);
    let logged = logs.text();
    let lines: Vec<_> = logged
        .lines()
        .filter(|l| l.contains("conduit-metrics"))
        .collect();
    assert_eq!(lines.len(), 1, "{logged}");
    assert!(lines[0].contains("go to it"), "{logged}");

    // The audio families are served; facade metrics go to the application's recorder.
    conduit_metrics_runtime::start_call(Operation::Tts, "kept").finish(Status::Success);
    metrics::counter!("app_orders_total").increment(2);
    let (status, _, body) =
        conduit_metrics_testkit::http_get(handle.local_addr().unwrap(), "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        conduit_metrics_testkit::value(
            &body,
            "conduit_audio_requests_total{operation=\"tts\",provider=\"kept\",status=\"success\"}"
        ),
        1.0
    );
    assert_eq!(
        conduit_metrics_testkit::sample(&body, "app_orders_total"),
        None
    );
    assert_eq!(
        conduit_metrics_testkit::value(&application_handle.render(), "app_orders_total"),
        2.0
    );
    handle.shutdown().unwrap();
}

fn unusable_push_ca() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("ca.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let error = on_loopback()
        .push_gateway("https://127.0.0.1:9091")
        .push_ca_certificate(&garbage)
        .build()
        .unwrap()
        .install()
        .unwrap_err();
    assert!(matches!(error, InstallError::Push(_)), "{error}");
    assert!(error.to_string().contains("ca.pem"), "{error}");
    // Nothing global changed: the next install gets the facade recorder itself.
    let handle = on_loopback().build().unwrap().install().unwrap();
    assert_eq!(handle.facade_metrics(), FacadeMetrics::Served);
    handle.shutdown().unwrap();
}
