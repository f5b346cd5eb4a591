//! A push that cannot be delivered is an error naming the gateway, not a panic.

use conduit_metrics_runtime::{MetricsConfig, PushError};

#[test]
fn an_unreachable_gateway_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let handle = MetricsConfig::builder()
        .no_listener()
        .push_gateway(&format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap()
        .install()
        .unwrap();
    let error = handle.flush().unwrap_err();
    assert!(matches!(error, PushError::Unreachable { .. }));
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot reach the Pushgateway at 127.0.0.1:{port}")),
        "{error}"
    );

    // https is served (with the `tls` feature); credentials belong in their options, and
    // a CA only goes with https.
    let config = MetricsConfig::builder()
        .push_gateway("https://gateway:9091")
        .build()
        .unwrap();
    assert!(config.push_gateway().unwrap().https);
    let error = MetricsConfig::builder()
        .push_gateway("https://user:secret@gateway:9091")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("PushUsername"), "{error}");
    let error = MetricsConfig::builder()
        .push_gateway("http://gateway:9091")
        .push_ca_certificate("ca.pem")
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("only used with an https"),
        "{error}"
    );
    let error = MetricsConfig::builder()
        .push_gateway("http://gateway:9091")
        .push_bearer_token("t")
        .push_basic_auth("u", "p")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("not both"), "{error}");
    let error = MetricsConfig::builder()
        .push_gateway("gateway:9091")
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("invalid PushGateway \"gateway:9091\""),
        "{error}"
    );
}
