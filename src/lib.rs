//! The workspace-level tests of conduit-metrics (`tests/`) and the doctests of the
//! README and of the guide in `docs/`: each page is included here so its Rust examples
//! compile and run as doctests (`tests/docs.rs` fails when a chapter is missing from the
//! list). Applications depend on `conduit-metrics-runtime`; the demo service is the
//! `audio-gateway` crate under `examples/`.
#![doc = include_str!("../README.md")]

/// The chapters of the guide, one item each, compiled only for doctests.
#[cfg(doctest)]
pub mod guide {
    #[doc = include_str!("../docs/architecture.md")]
    pub struct Architecture;
    #[doc = include_str!("../docs/audio-duration.md")]
    pub struct AudioDuration;
    #[doc = include_str!("../docs/catalogue.md")]
    pub struct Catalogue;
    #[doc = include_str!("../docs/configuration.md")]
    pub struct Configuration;
    #[doc = include_str!("../docs/demo.md")]
    pub struct Demo;
    #[doc = include_str!("../docs/endpoint.md")]
    pub struct Endpoint;
    #[doc = include_str!("../docs/errors.md")]
    pub struct Errors;
    #[doc = include_str!("../docs/fleet.md")]
    pub struct Fleet;
    #[doc = include_str!("../docs/guarantees.md")]
    pub struct Guarantees;
    #[doc = include_str!("../docs/instrumenting.md")]
    pub struct Instrumenting;
    #[doc = include_str!("../docs/otlp.md")]
    pub struct Otlp;
    #[doc = include_str!("../docs/objectives.md")]
    pub struct Objectives;
    #[doc = include_str!("../docs/performance.md")]
    pub struct Performance;
    #[doc = include_str!("../docs/prometheus-grafana-alerts.md")]
    pub struct PrometheusGrafanaAlerts;
    #[doc = include_str!("../docs/streaming.md")]
    pub struct Streaming;
    #[doc = include_str!("../docs/voice-turns.md")]
    pub struct VoiceTurns;
    #[doc = include_str!("../conduit-metrics-runtime/README.md")]
    pub struct RuntimeReadme;
}
