//! Procedural macros of conduit-metrics: `#[audio_metric]` and `#[derive(AudioStatus)]`.
//!
//! Use them through `conduit-metrics-runtime`, which re-exports both and documents them;
//! the code they generate calls the runtime's hidden module of this exact version,
//! `::conduit_metrics_runtime::__private_v<version>` (see `runtime.rs`).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod args;
mod derive;
mod expand;
mod runtime;
mod shape;
mod suggest;

use proc_macro::TokenStream;

/// Records the calls of a function in the conduit audio metric families.
///
/// See the `conduit-metrics-runtime` documentation for the arguments and statuses.
#[proc_macro_attribute]
pub fn audio_metric(args: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match expand::audio_metric(args.into(), item.clone()) {
        Ok(expanded) => expanded.into(),
        Err(errors) => {
            // The item stays, unchanged, next to the errors (as in thiserror and
            // tracing-attributes), so rust-analyzer and the checks of the rest of the
            // crate keep seeing it and report nothing but the mistakes.
            let mut output = errors.into_compile_error();
            output.extend(item);
            output.into()
        }
    }
}

/// Implements `AudioStatus` for an error type: `#[audio_status("timeout")]` on a variant
/// (or on a struct) picks its status; unmarked variants count as `error`.
#[proc_macro_derive(AudioStatus, attributes(audio_status))]
pub fn derive_audio_status(input: TokenStream) -> TokenStream {
    derive::audio_status(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
