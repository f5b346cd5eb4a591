//! Procedural macros of conduit-metrics; use them through `conduit-metrics-runtime`.
