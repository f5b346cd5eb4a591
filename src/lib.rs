//! The workspace-level tests of conduit-metrics (`tests/`) and the doctests of the
//! README and the guide in `docs/`: each page is included here so its Rust examples
//! compile and run as doctests. Applications depend on `conduit-metrics-runtime`; the
//! demo service is the `audio-gateway` crate under `examples/`.
#![doc = include_str!("../README.md")]
