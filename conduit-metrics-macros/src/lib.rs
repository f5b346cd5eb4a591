//! Procedural macros of conduit-metrics: `#[audio_metric]` and `#[derive(AudioStatus)]`.
//!
//! Use them through `conduit-metrics-runtime`, which re-exports both and documents them;
//! the code they generate calls `::conduit_metrics_runtime::__private`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod args;
mod derive;
mod expand;
mod suggest;

use proc_macro::TokenStream;

/// Records the calls of a function in the conduit audio metric families.
///
/// See the `conduit-metrics-runtime` documentation for the arguments and statuses.
#[proc_macro_attribute]
pub fn audio_metric(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::audio_metric(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `AudioStatus` for an error type: `#[audio_status("timeout")]` on a variant
/// (or on a struct) picks its status; unmarked variants count as `error`.
#[proc_macro_derive(AudioStatus, attributes(audio_status))]
pub fn derive_audio_status(input: TokenStream) -> TokenStream {
    derive::audio_status(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
