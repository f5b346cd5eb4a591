//! The workspace root package: the audio gateway example's service ([`gateway`]), the
//! workspace-level integration tests (`tests/`) and the examples (`examples/`).
//! Applications depend on `conduit-metrics-runtime`.
//!
//! The README is included below so its Rust examples are compiled as doctests.
#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod gateway;
