//! No install path panics. Each way `install` can fail is an `Err`, and each is tried
//! from plain code, from inside a current-thread Tokio runtime and from inside a
//! multi-thread one (`#[tokio::main]` is the usual caller). Every test runs in its own
//! process (nextest), so each starts with nothing installed.

use std::io::Write as _;

use conduit_metrics_runtime::{InstallError, MetricsConfig};

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
    an_other_recorder_first => an_other_recorder_first;
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
        matches!(error, InstallError::Bind { address: a, .. } if a == address),
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
    assert!(matches!(error, InstallError::Tls(_)), "{error}");
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
    assert!(matches!(error, InstallError::Tls(_)), "{error}");
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

fn an_other_recorder_first() {
    let application = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    metrics::set_global_recorder(application).unwrap();
    let result = on_loopback().build().unwrap().install();
    assert!(
        matches!(result, Err(InstallError::RecorderAlreadySet)),
        "{result:?}"
    );
}
