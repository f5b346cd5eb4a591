//! The `conduit-metrics` command's library: [`slo`] turns an objective file into
//! Prometheus rules. The binary (`src/main.rs`) is its command line.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod slo;
mod suggest;
