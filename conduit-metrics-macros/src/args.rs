//! Parsing `#[audio_metric(...)]` arguments into a typed struct, and checking them
//! against the function they instrument. Every problem found is collected, so a user
//! sees all of them in one build.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprClosure, FnArg, Ident, Lit, Pat, Path, Token};

use crate::shape::BodyShape;
use crate::suggest::closest;

/// The operations, as written in the attribute, and their `Operation` variant names.
pub(crate) const OPERATIONS: [(&str, &str); 4] = [
    ("transcription", "Transcription"),
    ("tts", "Tts"),
    ("translation", "Translation"),
    ("realtime", "Realtime"),
];

const KEYS: [&str; 12] = [
    "operation",
    "provider",
    "model",
    "stream",
    "size",
    "audio_seconds",
    "characters",
    "cost",
    "cache_hit",
    "disconnect_reason",
    "status",
    "crate",
];

/// Collects errors so they can be reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(existing) => existing.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// One `key = value` pair, or a flag (`stream`), as written.
struct RawArg {
    key: Ident,
    value: Option<Expr>,
}

/// The keys written alone.
const FLAGS: [&str; 1] = ["stream"];

impl Parse for RawArg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // `crate` is a keyword, so keys are parsed as any identifier.
        let key = Ident::parse_any(input)?;
        if FLAGS.contains(&key.to_string().as_str()) && !input.peek(Token![=]) {
            return Ok(RawArg { key, value: None });
        }
        let _: Token![=] = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                format!("expected `=` after `{key}`: write `{key} = <value>`"),
            )
        })?;
        let value = input.parse()?;
        Ok(RawArg {
            key,
            value: Some(value),
        })
    }
}

/// The operation, validated.
pub(crate) struct OperationArg {
    /// `Operation` variant name (`Transcription`).
    pub(crate) variant: Ident,
    pub(crate) is_realtime: bool,
}

/// `status`: a closure over the error, or any function of `&E` returning a `Status`
/// (`status = status_in_chain::<MyError>`), with its key (for error spans).
pub(crate) struct StatusArg {
    pub(crate) key: Ident,
    pub(crate) value: Expr,
}

/// A closure over the Ok value, with the key it was given for (for error spans).
pub(crate) struct KeyClosure {
    pub(crate) key: Ident,
    pub(crate) closure: ExprClosure,
}

/// `size` and `audio_seconds`: an expression evaluated before the body, or a closure
/// over the Ok value (over each chunk, for a stream).
pub(crate) enum MeasureArg {
    BeforeBody(Expr),
    OfOk(KeyClosure),
}

impl MeasureArg {
    fn new(key: Ident, value: Expr, errors: &mut Errors) -> Self {
        match value {
            Expr::Closure(closure) => MeasureArg::OfOk(key_closure(key, closure, errors)),
            other => MeasureArg::BeforeBody(other),
        }
    }

    pub(crate) fn before_body(&self) -> Option<&Expr> {
        match self {
            MeasureArg::BeforeBody(expr) => Some(expr),
            MeasureArg::OfOk(_) => None,
        }
    }

    pub(crate) fn of_ok(&self) -> Option<&KeyClosure> {
        match self {
            MeasureArg::OfOk(closure) => Some(closure),
            MeasureArg::BeforeBody(_) => None,
        }
    }
}

/// The attribute's arguments, typed.
#[derive(Default)]
pub(crate) struct AudioMetricArgs {
    pub(crate) operation: Option<OperationArg>,
    pub(crate) provider: Option<Expr>,
    /// The model serving the call, evaluated before the body.
    pub(crate) model: Option<Expr>,
    /// `stream`: the function returns a stream, recorded until it ends.
    pub(crate) stream: Option<Ident>,
    pub(crate) size: Option<MeasureArg>,
    pub(crate) audio_seconds: Option<MeasureArg>,
    /// Characters sent, evaluated before the body.
    pub(crate) characters: Option<Expr>,
    pub(crate) cost: Option<KeyClosure>,
    pub(crate) cache_hit: Option<KeyClosure>,
    pub(crate) disconnect_reason: Option<KeyClosure>,
    /// A closure over the Err value (or a function) that gives its status.
    pub(crate) status: Option<StatusArg>,
    pub(crate) krate: Option<Path>,
}

impl AudioMetricArgs {
    /// Parses the attribute; problems that are not syntax errors go to `errors` and
    /// leave the argument unset.
    pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> syn::Result<Self> {
        let raw = Punctuated::<RawArg, Token![,]>::parse_terminated.parse2(tokens)?;
        let mut args = AudioMetricArgs::default();
        let mut seen: Vec<String> = Vec::new();
        let mut operation_seen = false;
        for RawArg { key, value } in raw {
            let name = key.unraw().to_string();
            if seen.contains(&name) {
                errors.push(syn::Error::new(
                    key.span(),
                    format!("duplicate key `{name}`: each key may appear once"),
                ));
                continue;
            }
            seen.push(name.clone());
            let value = match value {
                Some(value) if FLAGS.contains(&name.as_str()) => {
                    errors.push(syn::Error::new(
                        value.span(),
                        format!("`{name}` is a flag and takes no value: write `{name}` alone"),
                    ));
                    continue;
                }
                Some(value) => value,
                None => {
                    args.stream = Some(key);
                    continue;
                }
            };
            match name.as_str() {
                "operation" => {
                    operation_seen = true;
                    args.operation = parse_operation(&value, errors);
                }
                "provider" => args.provider = Some(value),
                "model" => match value {
                    Expr::Closure(closure) => errors.push(syn::Error::new(
                        closure.or1_token.span(),
                        "`model` is an expression evaluated before the body (the model that serves the call, any `AsRef<str>`), not a closure: e.g. `model = self.model.as_str()` or `model = request.model`",
                    )),
                    other => args.model = Some(other),
                },
                "size" => args.size = Some(MeasureArg::new(key, value, errors)),
                "audio_seconds" => args.audio_seconds = Some(MeasureArg::new(key, value, errors)),
                "characters" => match value {
                    Expr::Closure(closure) => errors.push(syn::Error::new(
                        closure.or1_token.span(),
                        "`characters` is an expression evaluated before the body (the text sent), not a closure: e.g. `characters = text.chars().count()`",
                    )),
                    other => args.characters = Some(other),
                },
                "status" => {
                    if let Expr::Closure(closure) = &value {
                        if closure.inputs.len() != 1 {
                            errors.push(syn::Error::new(
                                closure.or1_token.span(),
                                "the `status` closure takes exactly one parameter, a reference to the error",
                            ));
                        }
                    }
                    args.status = Some(StatusArg { key, value });
                }
                "cost" | "cache_hit" | "disconnect_reason" => {
                    let Some(closure) = expect_closure(&key, value, errors) else {
                        continue;
                    };
                    let closure = key_closure(key, closure, errors);
                    match name.as_str() {
                        "cost" => args.cost = Some(closure),
                        "cache_hit" => args.cache_hit = Some(closure),
                        _ => args.disconnect_reason = Some(closure),
                    }
                }
                "crate" => match value {
                    Expr::Path(path) if path.qself.is_none() => args.krate = Some(path.path),
                    other => errors.push(syn::Error::new(
                        other.span(),
                        "`crate` must be a path, e.g. `crate = ::my_reexport::conduit_metrics_runtime`",
                    )),
                },
                _ => {
                    let hint = closest(&name, &KEYS)
                        .map(|best| format!("did you mean `{best}`? "))
                        .unwrap_or_default();
                    errors.push(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown key `{name}`; {hint}expected one of: {}",
                            KEYS.join(", ")
                        ),
                    ));
                }
            }
        }
        if !operation_seen {
            errors.push(syn::Error::new(
                Span::call_site(),
                format!(
                    "missing `operation`: add `operation = \"...\"`, one of: {}",
                    operation_list()
                ),
            ));
        }
        Ok(args)
    }

    /// Checks the arguments against the function: a provider must be known, closures
    /// need a `Result` (or a stream, whose chunks they read), `stream` needs a stream,
    /// and `disconnect_reason` needs a realtime operation.
    pub(crate) fn check_against(
        &mut self,
        signature: &syn::Signature,
        shape: &BodyShape,
        errors: &mut Errors,
    ) {
        if self.provider.is_none() {
            match provider_parameter(signature) {
                Some(parameter) => {
                    self.provider = Some(Expr::Path(syn::ExprPath {
                        attrs: Vec::new(),
                        qself: None,
                        path: parameter.into(),
                    }))
                }
                None => errors.push(syn::Error::new(
                    Span::call_site(),
                    format!(
                        "no provider: add `provider = <expression>` (any `AsRef<str>`, e.g. `provider = self.name()`), or give `fn {}` a parameter named `provider`",
                        signature.ident
                    ),
                )),
            }
        }
        let is_realtime = self.operation.as_ref().is_some_and(|op| op.is_realtime);
        match &self.stream {
            Some(flag) => check_stream(flag, signature, shape, is_realtime, errors),
            None if !shape.returns_result() => self.closures_need_a_result(signature, errors),
            None => {}
        }
        if let Some(closure) = &self.disconnect_reason {
            if self.operation.is_some() && !is_realtime {
                errors.push(syn::Error::new(
                    closure.key.span(),
                    "`disconnect_reason` only applies to `operation = \"realtime\"`",
                ));
            }
        }
    }

    fn closures_need_a_result(&self, signature: &syn::Signature, errors: &mut Errors) {
        let keys = [
            self.size.as_ref().and_then(MeasureArg::of_ok),
            self.audio_seconds.as_ref().and_then(MeasureArg::of_ok),
            self.cost.as_ref(),
            self.cache_hit.as_ref(),
            self.disconnect_reason.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(|closure| (&closure.key, "Ok"))
        .chain(self.status.as_ref().map(|status| (&status.key, "Err")));
        for (key, over) in keys {
            errors.push(syn::Error::new(
                key.span(),
                format!(
                    "`{key}` is a closure over the {over} value, but `fn {}` does not return a `Result`; closures over the returned value need `-> Result<T, E>` (or `stream`, for closures over each chunk)",
                    signature.ident
                ),
            ));
        }
    }
}

/// `stream` needs a function that returns a stream of a shape the wrapper fits, and a
/// call that is not a whole realtime session.
fn check_stream(
    flag: &Ident,
    signature: &syn::Signature,
    shape: &BodyShape,
    is_realtime: bool,
    errors: &mut Errors,
) {
    if is_realtime {
        errors.push(syn::Error::new(
            flag.span(),
            "`stream` does not apply to `operation = \"realtime\"`: a realtime session is recorded as one call from its start to its end, with per-turn latency from `record_realtime_latency`; use `operation = \"tts\"` or `\"transcription\"` for a streamed call",
        ));
    }
    let return_type_span = match &signature.output {
        syn::ReturnType::Default => flag.span(),
        syn::ReturnType::Type(_, ty) => ty.span(),
    };
    if let BodyShape::ReturnsFuture { .. } = shape {
        errors.push(syn::Error::new(
            return_type_span,
            format!(
                "`stream` cannot instrument `fn {}`: it returns a future of a stream; make it an `async fn` that returns the stream",
                signature.ident
            ),
        ));
        return;
    }
    if shape.stream_return().is_none() {
        errors.push(syn::Error::new(
            return_type_span,
            "`stream` needs the function to return a stream it can wrap: `impl Stream<Item = Result<C, E>>`, `Pin<Box<dyn Stream<Item = Result<C, E>>>>`, `BoxStream<'_, Result<C, E>>` or `LocalBoxStream`, or a `Result` of one; a named stream type cannot be wrapped without changing the function's type, so return `impl Stream` instead",
        ));
    }
}

fn operation_list() -> String {
    OPERATIONS.map(|(name, _)| format!("\"{name}\"")).join(", ")
}

fn parse_operation(value: &Expr, errors: &mut Errors) -> Option<OperationArg> {
    let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(text),
        ..
    }) = value
    else {
        errors.push(syn::Error::new(
            value.span(),
            format!(
                "`operation` must be a string literal, one of: {}",
                operation_list()
            ),
        ));
        return None;
    };
    let written = text.value();
    match OPERATIONS.iter().find(|(name, _)| *name == written) {
        Some((name, variant)) => Some(OperationArg {
            variant: Ident::new(variant, text.span()),
            is_realtime: *name == "realtime",
        }),
        None => {
            let names = OPERATIONS.map(|(name, _)| name);
            let hint = closest(&written, &names)
                .map(|best| format!("did you mean \"{best}\"? "))
                .unwrap_or_default();
            errors.push(syn::Error::new(
                text.span(),
                format!(
                    "unknown operation \"{written}\"; {hint}expected one of: {}",
                    operation_list()
                ),
            ));
            None
        }
    }
}

fn expect_closure(key: &Ident, value: Expr, errors: &mut Errors) -> Option<ExprClosure> {
    match value {
        Expr::Closure(closure) => Some(closure),
        other => {
            let example = match key.to_string().as_str() {
                "cost" => "cost = |t| t.cost_usd",
                "cache_hit" => "cache_hit = |t| t.from_cache",
                _ => "disconnect_reason = |s| s.reason",
            };
            errors.push(syn::Error::new(
                other.span(),
                format!("`{key}` takes a closure over the Ok value, e.g. `{example}`"),
            ));
            None
        }
    }
}

fn key_closure(key: Ident, closure: ExprClosure, errors: &mut Errors) -> KeyClosure {
    if closure.inputs.len() != 1 {
        errors.push(syn::Error::new(
            closure.or1_token.span(),
            format!("the `{key}` closure takes exactly one parameter, a reference to the Ok value"),
        ));
    }
    KeyClosure { key, closure }
}

/// The function's parameter named `provider`, if any.
fn provider_parameter(signature: &syn::Signature) -> Option<Ident> {
    signature.inputs.iter().find_map(|input| match input {
        FnArg::Typed(typed) => match &*typed.pat {
            Pat::Ident(pat) if pat.ident == "provider" => Some(pat.ident.clone()),
            _ => None,
        },
        FnArg::Receiver(_) => None,
    })
}
