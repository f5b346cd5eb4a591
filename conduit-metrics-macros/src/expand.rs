//! Expansion of `#[audio_metric]`: the function keeps its signature; its body runs inside
//! a call recorded through the runtime's `CallSite` (named through its versioned support
//! module, see `runtime.rs`), and its result picks the outcome.
//!
//! ```text
//! async fn transcribe(&self, audio: &[u8]) -> Result<Transcript, AudioError> {
//!     static __CONDUIT_CALL_SITE: CallSite = CallSite::new(Operation::Transcription);
//!     let __conduit_call = __CONDUIT_CALL_SITE.start(provider_str(&(self.name())));
//!     let __conduit_result: Result<Transcript, AudioError> = async move { BODY }.await;
//!     let __conduit_outcome = match &__conduit_result {
//!         Ok(__conduit_value) => CallOutcome::new(Status::Success).cost(...),
//!         Err(__conduit_error) => CallOutcome::new((&ErrorStatus(__conduit_error)).status()),
//!     };
//!     __conduit_call.finish_with(__conduit_outcome);
//!     __conduit_result
//! }
//! ```
//! The guard in `__conduit_call` records `cancelled` if the future is dropped first and
//! `panic` if the body unwinds.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn};

use crate::args::{AudioMetricArgs, Errors, KeyClosure, SizeArg, StatusArg};
use crate::runtime::support_module;
use crate::shape::{BodyShape, annotation};

pub(crate) fn audio_metric(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let parsed = AudioMetricArgs::parse(args, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let mut error = syn::Error::new(
                first_token_span(&item),
                "#[audio_metric] applies to functions and methods with a body",
            );
            if let Err(args_error) = parsed {
                error.combine(args_error);
            }
            return Err(error);
        }
    };
    let mut args = parsed?;
    if let Some(constness) = &function.sig.constness {
        errors.push(syn::Error::new(
            constness.span(),
            "#[audio_metric] cannot instrument a `const fn`: recording reads the clock",
        ));
    }
    let shape = BodyShape::of(&function);
    args.check_against(&function.sig, shape.returns_result(), &mut errors);
    errors.finish()?;
    Ok(expand(&args, function, shape))
}

fn first_token_span(item: &TokenStream) -> Span {
    item.clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}

fn expand(args: &AudioMetricArgs, mut function: ItemFn, shape: BodyShape) -> TokenStream {
    let private = support_module(args.krate.as_ref());
    let annotated = annotation(shape.output());
    let value_type = annotated.as_ref().map(|ty| quote!(: #ty));

    let instrumented = |body: TokenStream| -> TokenStream {
        let recording = Recording {
            args,
            private: &private,
            returns_result: shape.returns_result(),
        };
        let start = recording.start();
        let size_before = recording.size_before_body();
        let outcome = recording.outcome();
        quote! {
            #start
            #size_before
            let __conduit_result #value_type = #body;
            #outcome
            __conduit_call.finish_with(__conduit_outcome);
            __conduit_result
        }
    };

    match &shape {
        BodyShape::Async { .. } => {
            let block = &function.block;
            let body = instrumented(quote!(async move #block.await));
            *function.block = syn::parse_quote!({ #body });
        }
        BodyShape::Sync { .. } => {
            let block = &function.block;
            let returns = annotated.as_ref().map(|ty| quote!(-> #ty));
            let body = instrumented(quote!((move || #returns #block)()));
            *function.block = syn::parse_quote!({
                #[allow(clippy::redundant_closure_call)]
                { #body }
            });
        }
        BodyShape::AsyncTrait { .. } => {
            if let Some(syn::Stmt::Expr(Expr::Call(call), None)) = function.block.stmts.last_mut() {
                if let Some(Expr::Async(inner)) = call.args.first_mut() {
                    let original = inner.clone();
                    let body = instrumented(quote!(#original.await));
                    *inner = syn::parse_quote!(async move { #body });
                }
            }
        }
    }
    quote!(#function)
}

/// Generates the statements around the body.
struct Recording<'a> {
    args: &'a AudioMetricArgs,
    private: &'a TokenStream,
    returns_result: bool,
}

impl Recording<'_> {
    fn start(&self) -> TokenStream {
        let private = self.private;
        let Some(operation) = &self.args.operation else {
            return TokenStream::new();
        };
        let variant = &operation.variant;
        let start = if operation.is_realtime {
            quote!(start_session)
        } else {
            quote!(start)
        };
        // Spanned at the user's expression, so a type error points at it.
        let provider =
            self.args.provider.as_ref().map(
                |provider| quote_spanned!(provider.span()=> #private::provider_str(&(#provider))),
            );
        quote! {
            static __CONDUIT_CALL_SITE: #private::CallSite =
                #private::CallSite::new(#private::Operation::#variant);
            let __conduit_call = __CONDUIT_CALL_SITE.#start(#provider);
        }
    }

    fn size_before_body(&self) -> TokenStream {
        let private = self.private;
        match &self.args.size {
            Some(SizeArg::BeforeBody(size)) => {
                let value = quote_spanned!(size.span()=> #private::size_of(#size));
                quote!(let __conduit_size: u64 = #value;)
            }
            _ => TokenStream::new(),
        }
    }

    fn outcome(&self) -> TokenStream {
        let private = self.private;
        let size_before = matches!(self.args.size, Some(SizeArg::BeforeBody(_)))
            .then(|| quote!(.size(__conduit_size)));
        if !self.returns_result {
            return quote! {
                let __conduit_outcome =
                    #private::CallOutcome::new(#private::Status::Success) #size_before;
            };
        }
        let of_ok = |closure: Option<&KeyClosure>, method: &str, helper: &str| {
            closure.map(|KeyClosure { closure, .. }| {
                let method = syn::Ident::new(method, Span::call_site());
                let helper = syn::Ident::new(helper, Span::call_site());
                let value =
                    quote_spanned!(closure.span()=> #private::#helper(__conduit_value, #closure));
                quote!(.#method(#value))
            })
        };
        let size_ok = match &self.args.size {
            Some(SizeArg::OfOk(closure)) => of_ok(Some(closure), "size", "size_of_ok"),
            _ => None,
        };
        let cost = of_ok(self.args.cost.as_ref(), "cost", "cost_of");
        let cache_hit = of_ok(self.args.cache_hit.as_ref(), "cache_hit", "cache_hit_of");
        let reason = of_ok(
            self.args.disconnect_reason.as_ref(),
            "disconnect_reason",
            "disconnect_reason_of",
        );
        let uses_value =
            size_ok.is_some() || cost.is_some() || cache_hit.is_some() || reason.is_some();
        let error_status = match &self.args.status {
            Some(StatusArg { value, .. }) => {
                let status =
                    quote_spanned!(value.span()=> #private::status_of(__conduit_error, #value));
                // `status = |e| status_in_chain::<E>(e)` is the documented form: the
                // closure is the user's choice, not a lint to fix.
                quote! {
                    #[allow(clippy::redundant_closure)]
                    let __conduit_status = #status;
                    #private::CallOutcome::new(__conduit_status) #size_before
                }
            }
            None => quote! {
                #[allow(unused_imports)]
                use #private::{StatusFallback as _, StatusFromImpl as _};
                #private::CallOutcome::new((&#private::ErrorStatus(__conduit_error)).status())
                    #size_before
            },
        };
        let ok_pattern = if uses_value {
            quote!(__conduit_value)
        } else {
            quote!(_)
        };
        quote! {
            let __conduit_outcome = match &__conduit_result {
                ::core::result::Result::Ok(#ok_pattern) => {
                    #private::CallOutcome::new(#private::Status::Success)
                        #size_before #size_ok #cost #cache_hit #reason
                }
                ::core::result::Result::Err(__conduit_error) => {
                    #error_status
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_text(args: TokenStream, item: TokenStream) -> String {
        audio_metric(args, item).unwrap().to_string()
    }

    #[test]
    fn async_fn_expansion_is_short_and_calls_the_runtime() {
        let expanded = expand_text(
            quote!(operation = "transcription", provider = self.name()),
            quote!(
                async fn transcribe(&self, audio: &[u8]) -> Result<Transcript, AudioError> {
                    self.client.send(audio).await
                }
            ),
        );
        // Written for version 0.1.0; the support module follows the crate version.
        let expected = quote! {
            async fn transcribe(&self, audio: &[u8]) -> Result<Transcript, AudioError> {
                static __CONDUIT_CALL_SITE: ::conduit_metrics_runtime::__private_v0_1_0::CallSite =
                    ::conduit_metrics_runtime::__private_v0_1_0::CallSite::new(
                        ::conduit_metrics_runtime::__private_v0_1_0::Operation::Transcription
                    );
                let __conduit_call = __CONDUIT_CALL_SITE.start(
                    ::conduit_metrics_runtime::__private_v0_1_0::provider_str(&(self.name()))
                );
                let __conduit_result: Result<Transcript, AudioError> =
                    async move { self.client.send(audio).await }.await;
                let __conduit_outcome = match &__conduit_result {
                    ::core::result::Result::Ok(_) => {
                        ::conduit_metrics_runtime::__private_v0_1_0::CallOutcome::new(
                            ::conduit_metrics_runtime::__private_v0_1_0::Status::Success
                        )
                    }
                    ::core::result::Result::Err(__conduit_error) => {
                        #[allow(unused_imports)]
                        use ::conduit_metrics_runtime::__private_v0_1_0::{StatusFallback as _, StatusFromImpl as _};
                        ::conduit_metrics_runtime::__private_v0_1_0::CallOutcome::new(
                            (&::conduit_metrics_runtime::__private_v0_1_0::ErrorStatus(__conduit_error)).status()
                        )
                    }
                };
                __conduit_call.finish_with(__conduit_outcome);
                __conduit_result
            }
        };
        let expected = expected
            .to_string()
            .replace("__private_v0_1_0", &crate::runtime::support_module_name());
        assert_eq!(expanded, expected);
    }

    #[test]
    fn impl_trait_in_the_return_type_is_inferred() {
        let expanded = expand_text(
            quote!(operation = "tts", provider = "p"),
            quote!(
                fn f() -> Result<impl Display, E> {
                    Ok(1)
                }
            ),
        );
        assert!(
            expanded.contains("let __conduit_result : Result < _ , E > ="),
            "{expanded}"
        );
        let expanded = expand_text(
            quote!(operation = "tts", provider = "p"),
            quote!(
                fn f() -> impl Display {
                    1
                }
            ),
        );
        assert!(
            expanded.contains("let __conduit_result = (move | | {"),
            "{expanded}"
        );
    }
}
