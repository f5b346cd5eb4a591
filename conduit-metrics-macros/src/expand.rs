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
use syn::{Expr, ItemFn, ReturnType};

use crate::args::{AudioMetricArgs, Errors, KeyClosure, MeasureArg, StatusArg};
use crate::runtime::{support_module, support_module_at};
use crate::shape::{BodyShape, StreamReturn, annotation};

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
    args.check_against(&function.sig, &shape, &mut errors);
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
    let declared = match &function.sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(&**ty),
    };
    let recording = Recording {
        args,
        private: &private,
        returns_result: shape.returns_result(),
        stream: args.stream.as_ref().and_then(|_| shape.stream_return()),
        // Type errors about what the function returns point at its return type.
        return_span: declared.map_or_else(Span::call_site, Spanned::span),
    };
    let annotated = annotation(shape.output());
    let value_type = annotated.as_ref().map(|ty| quote!(: #ty));
    let instrumented = |body: TokenStream, probe: bool| -> TokenStream {
        let start = recording.start();
        let end = recording.end(probe);
        quote! {
            #start
            let __conduit_result #value_type = #body;
            #end
        }
    };

    match &shape {
        BodyShape::Async { .. } => {
            let block = &function.block;
            let body = instrumented(quote!(async move #block.await), true);
            *function.block = syn::parse_quote!({ #body });
        }
        BodyShape::Sync { .. } => {
            let block = &function.block;
            let returns = annotated.as_ref().map(|ty| quote!(-> #ty));
            let body = instrumented(quote!((move || #returns #block)()), true);
            *function.block = syn::parse_quote!({
                #[allow(clippy::redundant_closure_call)]
                { #body }
            });
        }
        BodyShape::AsyncTrait { .. } => {
            if let Some(syn::Stmt::Expr(Expr::Call(call), None)) = function.block.stmts.last_mut() {
                if let Some(Expr::Async(inner)) = call.args.first_mut() {
                    let original = inner.clone();
                    let body = instrumented(quote!(#original.await), false);
                    *inner = syn::parse_quote!(async move { #body });
                }
            }
        }
        BodyShape::ReturnsFuture { boxed, .. } => {
            // The future runs after the function returns: it is wrapped, and its output
            // picks the outcome when it completes.
            let block = &function.block;
            let returns = annotation(declared).map(|ty| quote!(-> #ty));
            let start = recording.start();
            let outcome = recording.outcome(&quote!(__conduit_result));
            let future = quote_spanned! {recording.return_span=>
                #private::instrument_future(__conduit_future, __conduit_call, move |__conduit_result| {
                    #outcome
                    __conduit_outcome
                })
            };
            let future = boxed_if(*boxed, future);
            *function.block = syn::parse_quote!({
                #start
                #[allow(clippy::redundant_closure_call)]
                let __conduit_future = (move || #returns #block)();
                #future
            });
        }
    }
    quote!(#function)
}

fn boxed_if(boxed: bool, value: TokenStream) -> TokenStream {
    if boxed {
        quote!(::std::boxed::Box::pin(#value))
    } else {
        value
    }
}

/// Generates the statements around the body.
struct Recording<'a> {
    args: &'a AudioMetricArgs,
    private: &'a TokenStream,
    returns_result: bool,
    /// Set for `stream` calls.
    stream: Option<StreamReturn>,
    return_span: Span,
}

impl Recording<'_> {
    /// The call site, the started call, and what is evaluated before the body.
    fn start(&self) -> TokenStream {
        let private = self.private;
        let Some(operation) = &self.args.operation else {
            return TokenStream::new();
        };
        let variant = &operation.variant;
        // Spanned at the user's expression, so a type error points at it.
        let provider =
            self.args.provider.as_ref().map(
                |provider| quote_spanned!(provider.span()=> #private::provider_str(&(#provider))),
            );
        let model = self
            .args
            .model
            .as_ref()
            .map(|model| quote_spanned!(model.span()=> #private::model_str(&(#model))));
        let start = match (operation.is_realtime, &model) {
            (false, None) => quote!(start(#provider)),
            (true, None) => quote!(start_session(#provider)),
            (false, Some(model)) => quote!(start_with_model(#provider, #model)),
            (true, Some(model)) => quote!(start_session_with_model(#provider, #model)),
        };
        let characters = self.args.characters.as_ref().map(|characters| {
            let value = quote_spanned!(characters.span()=> #private::characters(#characters));
            quote!(__conduit_call.add_characters(#value);)
        });
        let size = self
            .args
            .size
            .as_ref()
            .and_then(MeasureArg::before_body)
            .map(|size| {
                let value = quote_spanned!(size.span()=> #private::size_of(#size));
                quote!(let __conduit_size: u64 = #value;)
            });
        let audio_seconds = self
            .args
            .audio_seconds
            .as_ref()
            .and_then(MeasureArg::before_body)
            .map(|seconds| {
                let value = quote_spanned!(seconds.span()=> #private::audio_seconds(#seconds));
                quote!(let __conduit_audio_seconds: #private::MeasuredSeconds = #value;)
            });
        quote! {
            static __CONDUIT_CALL_SITE: #private::CallSite =
                #private::CallSite::new(#private::Operation::#variant);
            let __conduit_call = __CONDUIT_CALL_SITE.#start;
            #characters
            #size
            #audio_seconds
        }
    }

    /// What follows the body: the outcome and the returned value, or the stream wrapped.
    fn end(&self, probe: bool) -> TokenStream {
        if let Some(stream) = &self.stream {
            return self.wrap_stream(stream);
        }
        let outcome = self.outcome(&quote!(&__conduit_result));
        let probe = probe.then(|| self.probe());
        quote! {
            #outcome
            #probe
            __conduit_call.finish_with(__conduit_outcome);
            __conduit_result
        }
    }

    /// `.size(..)` and `.audio_seconds(..)` of what was evaluated before the body.
    fn before_body(&self) -> TokenStream {
        let size = self
            .args
            .size
            .as_ref()
            .and_then(MeasureArg::before_body)
            .map(|_| quote!(.size(__conduit_size)));
        let seconds = self
            .args
            .audio_seconds
            .as_ref()
            .and_then(MeasureArg::before_body)
            .map(|_| quote!(.audio_duration(__conduit_audio_seconds)));
        quote!(#size #seconds)
    }

    /// The status of `__conduit_error: &E`, as an expression.
    fn error_status(&self) -> TokenStream {
        let private = self.private;
        match &self.args.status {
            Some(StatusArg { value, .. }) => {
                let status =
                    quote_spanned!(value.span()=> #private::status_of(__conduit_error, #value));
                // `status = |e| status_in_chain::<E>(e)` is the documented form: the
                // closure is the user's choice, not a lint to fix.
                quote! {{
                    #[allow(clippy::redundant_closure)]
                    let __conduit_status = #status;
                    __conduit_status
                }}
            }
            None => quote! {{
                #[allow(unused_imports)]
                use #private::{StatusFallback as _, StatusFromImpl as _};
                (&#private::ErrorStatus(__conduit_error)).status()
            }},
        }
    }

    /// `let __conduit_outcome = match <scrutinee> { .. };` for the returned value.
    fn outcome(&self, scrutinee: &TokenStream) -> TokenStream {
        let private = self.private;
        let before_body = self.before_body();
        if !self.returns_result {
            return quote! {
                let __conduit_outcome =
                    #private::CallOutcome::new(#private::Status::Success) #before_body;
            };
        }
        let of_ok = |closure: Option<&KeyClosure>, method: &str, helper: &str| {
            closure.map(|KeyClosure { closure, .. }| {
                let method = syn::Ident::new(method, Span::call_site());
                let value = self.closure_call(closure, helper, quote!(__conduit_value));
                quote!(.#method(#value))
            })
        };
        let size_ok = of_ok(
            self.args.size.as_ref().and_then(MeasureArg::of_ok),
            "size",
            "size_of_ok",
        );
        let seconds_ok = of_ok(
            self.args.audio_seconds.as_ref().and_then(MeasureArg::of_ok),
            "audio_duration",
            "audio_seconds_of_ok",
        );
        let cost = of_ok(self.args.cost.as_ref(), "cost", "cost_of");
        let cache_hit = of_ok(self.args.cache_hit.as_ref(), "cache_hit", "cache_hit_of");
        let reason = of_ok(
            self.args.disconnect_reason.as_ref(),
            "disconnect_reason",
            "disconnect_reason_of",
        );
        let uses_value = [&size_ok, &seconds_ok, &cost, &cache_hit, &reason]
            .iter()
            .any(|part| part.is_some());
        let ok_pattern = if uses_value {
            quote!(__conduit_value)
        } else {
            quote!(_)
        };
        let error_status = self.error_status();
        quote! {
            let __conduit_outcome = match #scrutinee {
                ::core::result::Result::Ok(#ok_pattern) => {
                    #private::CallOutcome::new(#private::Status::Success)
                        #before_body #size_ok #seconds_ok #cost #cache_hit #reason
                }
                ::core::result::Result::Err(__conduit_error) => {
                    #private::CallOutcome::new(#error_status) #before_body
                }
            };
        }
    }

    /// `helper(value, closure)`: the runtime helper that gives the closure's parameter
    /// its type and checks its result. An unmet bound on the result is reported at the
    /// called path, so the call is spanned at the closure's body to point there.
    fn closure_call(
        &self,
        closure: &syn::ExprClosure,
        helper: &str,
        value: TokenStream,
    ) -> TokenStream {
        let span = closure.body.span();
        let private = support_module_at(self.args.krate.as_ref(), span);
        let helper = syn::Ident::new(helper, span);
        quote_spanned!(span=> #private::#helper(#value, #closure))
    }

    /// A compile-time check that the value is not a future or a stream, which would end
    /// the call before its work does (see the runtime's `ReturnedValue`).
    fn probe(&self) -> TokenStream {
        let private = self.private;
        let check = |value: TokenStream| {
            quote_spanned! {self.return_span=>
                #private::returns_a_plain_value((&&&#private::ReturnedValue(#value)).kind());
            }
        };
        let check = if self.returns_result {
            let check = check(quote!(__conduit_value));
            quote! {
                if let ::core::result::Result::Ok(__conduit_value) = &__conduit_result {
                    #check
                }
            }
        } else {
            check(quote!(&__conduit_result))
        };
        quote! {{
            #[allow(unused_imports)]
            use #private::{ProbeFuture as _, ProbeStream as _, ProbeValue as _};
            #check
        }}
    }

    /// The stream in `__conduit_result` (or its Ok value) wrapped so the call lasts as
    /// long as it does.
    fn wrap_stream(&self, stream: &StreamReturn) -> TokenStream {
        let private = self.private;
        let before_body = self.before_body();
        let observe = self.observe_item();
        let item = stream.item.as_ref().map(|item| quote!(::<#item, _, _>));
        let call_path = support_module_at(self.args.krate.as_ref(), self.return_span);
        let instrumented = |value: TokenStream| {
            quote_spanned! {self.return_span=>
                #call_path::instrument_stream #item(
                    #value,
                    __conduit_call,
                    #private::CallOutcome::new(#private::Status::Success) #before_body,
                    #observe,
                )
            }
        };
        // A boxed stream is coerced to the declared type where it is bound, since an
        // `#[async_trait]` body gives no expected type to coerce to.
        let returned = |value: TokenStream| {
            let instrumented = instrumented(value);
            if stream.boxed {
                let ty = &stream.ty;
                quote! {{
                    let __conduit_boxed: #ty = ::std::boxed::Box::pin(#instrumented);
                    __conduit_boxed
                }}
            } else {
                instrumented
            }
        };
        if !stream.in_result {
            return returned(quote!(__conduit_result));
        }
        let wrapped = returned(quote!(__conduit_stream));
        let error_status = self.error_status();
        quote! {
            match __conduit_result {
                ::core::result::Result::Ok(__conduit_stream) => ::core::result::Result::Ok(#wrapped),
                ::core::result::Result::Err(__conduit_err) => {
                    let __conduit_error = &__conduit_err;
                    __conduit_call.finish_with(
                        #private::CallOutcome::new(#error_status) #before_body
                    );
                    ::core::result::Result::Err(__conduit_err)
                }
            }
        }
    }

    /// The closure that reads each stream item into the tally: the per-chunk closures
    /// over an Ok item, the status of an Err item.
    fn observe_item(&self) -> TokenStream {
        let per_chunk = |closure: Option<&KeyClosure>, method: &str, helper: &str| {
            closure.map(|KeyClosure { closure, .. }| {
                let method = syn::Ident::new(method, Span::call_site());
                let value = self.closure_call(closure, helper, quote!(__conduit_chunk));
                quote!(__conduit_tally.#method(#value);)
            })
        };
        let parts = [
            per_chunk(
                self.args.size.as_ref().and_then(MeasureArg::of_ok),
                "add_size",
                "chunk_size",
            ),
            per_chunk(
                self.args.audio_seconds.as_ref().and_then(MeasureArg::of_ok),
                "add_audio_duration",
                "audio_seconds_of_ok",
            ),
            per_chunk(self.args.cost.as_ref(), "add_cost", "cost_of"),
            per_chunk(self.args.cache_hit.as_ref(), "cache_hit", "cache_hit_of"),
        ];
        let chunk_pattern = if parts.iter().any(Option::is_some) {
            quote!(__conduit_chunk)
        } else {
            quote!(_)
        };
        let parts = parts.into_iter().flatten();
        let error_status = self.error_status();
        // Spanned at the return type, with the call it is passed to, so a stream whose
        // items are not `Result`s is reported there once.
        quote_spanned! {self.return_span=>
            |__conduit_item, __conduit_tally| match __conduit_item {
                ::core::result::Result::Ok(#chunk_pattern) => { #(#parts)* }
                ::core::result::Result::Err(__conduit_error) => __conduit_tally.fail(#error_status),
            }
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
                        ::conduit_metrics_runtime::__private_v0_1_0::CallOutcome::new({
                            #[allow(unused_imports)]
                            use ::conduit_metrics_runtime::__private_v0_1_0::{StatusFallback as _, StatusFromImpl as _};
                            (&::conduit_metrics_runtime::__private_v0_1_0::ErrorStatus(__conduit_error)).status()
                        })
                    }
                };
                {
                    #[allow(unused_imports)]
                    use ::conduit_metrics_runtime::__private_v0_1_0::{ProbeFuture as _, ProbeStream as _, ProbeValue as _};
                    if let ::core::result::Result::Ok(__conduit_value) = &__conduit_result {
                        ::conduit_metrics_runtime::__private_v0_1_0::returns_a_plain_value(
                            (& & &::conduit_metrics_runtime::__private_v0_1_0::ReturnedValue(__conduit_value)).kind()
                        );
                    }
                }
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
    fn a_model_starts_the_call_with_it_once() {
        let expanded = expand_text(
            quote!(
                operation = "transcription",
                provider = "p",
                model = self.model()
            ),
            quote!(
                fn f(&self) -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        let private = crate::runtime::support_module_name();
        let start = format!(
            "__CONDUIT_CALL_SITE . start_with_model (:: conduit_metrics_runtime :: {private} :: provider_str (& (\"p\")) , :: conduit_metrics_runtime :: {private} :: model_str (& (self . model ())))"
        );
        assert!(expanded.contains(&start), "{expanded}");
        assert_eq!(expanded.matches("self . model ()").count(), 1, "{expanded}");
        let realtime = expand_text(
            quote!(
                operation = "realtime",
                provider = "p",
                model = "gpt-4o-realtime"
            ),
            quote!(
                fn f() {}
            ),
        );
        assert!(
            realtime.contains("__CONDUIT_CALL_SITE . start_session_with_model ("),
            "{realtime}"
        );
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

    #[test]
    fn stream_expansion_wraps_the_stream_and_names_its_item_type() {
        let expanded = expand_text(
            quote!(
                operation = "tts",
                provider = "p",
                stream,
                size = |c| c.len()
            ),
            quote!(
                fn speak() -> impl Stream<Item = Result<Vec<u8>, E>> {
                    chunks()
                }
            ),
        );
        assert!(
            expanded.contains("instrument_stream :: < Result < Vec < u8 > , E > , _ , _ > (__conduit_result , __conduit_call"),
            "{expanded}"
        );
        assert!(
            expanded.contains("chunk_size (__conduit_chunk"),
            "{expanded}"
        );
        // The stream ends the call, not the function: no finish, no value probe.
        assert!(!expanded.contains("finish_with"), "{expanded}");
        assert!(!expanded.contains("ReturnedValue"), "{expanded}");
    }

    #[test]
    fn a_returned_future_is_wrapped_not_finished() {
        let expanded = expand_text(
            quote!(operation = "tts", provider = "p"),
            quote!(
                fn speak() -> Pin<Box<dyn Future<Output = Result<u8, E>> + Send>> {
                    let future = async { Ok(1) };
                    Box::pin(future)
                }
            ),
        );
        assert!(
            expanded.contains(":: std :: boxed :: Box :: pin (:: conduit_metrics_runtime"),
            "{expanded}"
        );
        assert!(
            expanded.contains("instrument_future (__conduit_future , __conduit_call"),
            "{expanded}"
        );
        assert!(!expanded.contains("finish_with"), "{expanded}");
    }
}
