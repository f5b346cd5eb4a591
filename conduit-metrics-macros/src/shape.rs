//! How an instrumented function produces its value, read from its signature and body:
//! the body shapes the expansion handles, and the type patterns they are recognised by.

use syn::visit_mut::VisitMut;
use syn::{Block, Expr, ItemFn, ReturnType, Type};

/// How the function produces its value.
pub(crate) enum BodyShape {
    /// `async fn`: the body becomes an inner async block.
    Async { output: Option<Type> },
    /// `fn`: the body becomes an immediately called closure.
    Sync { output: Option<Type> },
    /// A method rewritten by `#[async_trait]`: `Box::pin(async move { .. })` returning
    /// `Pin<Box<dyn Future<Output = T>>>`; the inner async block is instrumented.
    AsyncTrait { output: Type },
    /// A `fn` that returns a future (`impl Future<Output = T>`, `Pin<Box<dyn Future>>`,
    /// `BoxFuture<'_, T>`) any other way: the future is wrapped and timed until it
    /// completes. `output` is `T`, `boxed` whether the wrapper must be boxed to fit.
    ReturnsFuture { output: Type, boxed: bool },
}

/// How a `stream` function returns its stream.
#[derive(Clone)]
pub(crate) struct StreamReturn {
    /// The stream's type as declared.
    pub(crate) ty: Type,
    /// `Pin<Box<dyn Stream>>` or an alias of it: the wrapper is boxed to fit.
    pub(crate) boxed: bool,
    /// The stream is the Ok value of a `Result`.
    pub(crate) in_result: bool,
    /// The item type of `impl Stream<Item = ..>` with `impl` parts as `_`, when it says
    /// something: a body like `stream::empty()` learns its item type from it.
    pub(crate) item: Option<Type>,
}

impl BodyShape {
    pub(crate) fn of(function: &ItemFn) -> BodyShape {
        let output = match &function.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some((**ty).clone()),
        };
        if function.sig.asyncness.is_some() {
            return BodyShape::Async { output };
        }
        if let Some(boxed_output) = output.as_ref().and_then(boxed_future_output) {
            if async_trait_body(&function.block).is_some() {
                return BodyShape::AsyncTrait {
                    output: boxed_output,
                };
            }
            return BodyShape::ReturnsFuture {
                output: boxed_output,
                boxed: true,
            };
        }
        if let Some(future_output) = output.as_ref().and_then(impl_future_output) {
            return BodyShape::ReturnsFuture {
                output: future_output,
                boxed: false,
            };
        }
        BodyShape::Sync { output }
    }

    /// The type of the value the call ends with: the return type, or the output of the
    /// returned future.
    pub(crate) fn output(&self) -> Option<&Type> {
        match self {
            BodyShape::Async { output } | BodyShape::Sync { output } => output.as_ref(),
            BodyShape::AsyncTrait { output } | BodyShape::ReturnsFuture { output, .. } => {
                Some(output)
            }
        }
    }

    /// How the stream is returned, if the value is a stream (of a shape that can be
    /// wrapped) or a `Result` of one.
    pub(crate) fn stream_return(&self) -> Option<StreamReturn> {
        if let BodyShape::ReturnsFuture { .. } = self {
            return None;
        }
        let output = self.output()?;
        let (ty, in_result) = if stream_type(output).is_some() {
            (output, false)
        } else if is_result_type(output) {
            let Type::Path(path) = output else {
                return None;
            };
            (single_type_argument(path.path.segments.last()?)?, true)
        } else {
            return None;
        };
        let boxed = stream_type(ty)?;
        let item = match ty {
            Type::ImplTrait(object) => object
                .bounds
                .iter()
                .find_map(|bound| trait_assoc(bound, "Stream", "Item"))
                .and_then(|item| annotation(Some(&item))),
            _ => None,
        };
        Some(StreamReturn {
            ty: ty.clone(),
            boxed,
            in_result,
            item,
        })
    }

    pub(crate) fn returns_result(&self) -> bool {
        self.output().is_some_and(is_result_type)
    }
}

/// Whether a type is written as a `Result` (`Result<T, E>`, `io::Result<T>`, or an alias
/// whose name ends in `Result`, such as `TtsResult`).
pub(crate) fn is_result_type(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident.to_string().ends_with("Result")),
        Type::Paren(inner) => is_result_type(&inner.elem),
        Type::Group(inner) => is_result_type(&inner.elem),
        _ => false,
    }
}

/// `T` of `Pin<Box<dyn Future<Output = T> + ...>>`, or of futures' aliases of it,
/// `BoxFuture<'_, T>` and `LocalBoxFuture<'_, T>`.
fn boxed_future_output(ty: &Type) -> Option<Type> {
    if let Type::Path(path) = ty {
        let last = path.path.segments.last()?;
        if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
            return single_type_argument(last).cloned();
        }
    }
    let bounds = pinned_box_bounds(ty)?;
    bounds
        .iter()
        .find_map(|bound| trait_output(bound, "Future"))
}

/// `T` of `impl Future<Output = T> + ...`.
fn impl_future_output(ty: &Type) -> Option<Type> {
    let Type::ImplTrait(object) = ty else {
        return None;
    };
    object
        .bounds
        .iter()
        .find_map(|bound| trait_output(bound, "Future"))
}

/// Whether a type is a stream `stream` can wrap: `Some(false)` for `impl Stream<..>`,
/// `Some(true)` for `Pin<Box<dyn Stream<..>>>`, `BoxStream` and `LocalBoxStream`.
fn stream_type(ty: &Type) -> Option<bool> {
    match ty {
        Type::ImplTrait(object) => object
            .bounds
            .iter()
            .any(|bound| names_trait(bound, "Stream"))
            .then_some(false),
        Type::Paren(inner) => stream_type(&inner.elem),
        Type::Group(inner) => stream_type(&inner.elem),
        Type::Path(path) => {
            let last = path.path.segments.last()?;
            if last.ident == "BoxStream" || last.ident == "LocalBoxStream" {
                return Some(true);
            }
            pinned_box_bounds(ty)?
                .iter()
                .any(|bound| names_trait(bound, "Stream"))
                .then_some(true)
        }
        _ => None,
    }
}

/// The bounds of `dyn ..` in `Pin<Box<dyn ..>>`.
fn pinned_box_bounds(
    ty: &Type,
) -> Option<&syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>> {
    let pin = last_segment_named(ty, "Pin")?;
    let boxed = single_type_argument(pin)?;
    let boxed = last_segment_named(boxed, "Box")?;
    match single_type_argument(boxed)? {
        Type::TraitObject(object) => Some(&object.bounds),
        _ => None,
    }
}

fn names_trait(bound: &syn::TypeParamBound, name: &str) -> bool {
    matches!(bound, syn::TypeParamBound::Trait(bound)
        if bound.path.segments.last().is_some_and(|segment| segment.ident == name))
}

/// `T` of a bound `Future<Output = T>` (named `name`).
fn trait_output(bound: &syn::TypeParamBound, name: &str) -> Option<Type> {
    trait_assoc(bound, name, "Output")
}

/// `T` of a bound `Trait<Assoc = T>` whose trait is named `name`.
fn trait_assoc(bound: &syn::TypeParamBound, name: &str, assoc_name: &str) -> Option<Type> {
    let syn::TypeParamBound::Trait(bound) = bound else {
        return None;
    };
    let segment = bound.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::AssocType(assoc) if assoc.ident == assoc_name => {
            Some(assoc.ty.clone())
        }
        _ => None,
    })
}

fn last_segment_named<'a>(ty: &'a Type, name: &str) -> Option<&'a syn::PathSegment> {
    match ty {
        Type::Path(path) => path.path.segments.last().filter(|s| s.ident == name),
        _ => None,
    }
}

fn single_type_argument(segment: &syn::PathSegment) -> Option<&Type> {
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

/// The `async move { .. }` inside `Box::pin(..)` when that call ends the block.
fn async_trait_body(block: &Block) -> Option<&syn::ExprAsync> {
    let Some(syn::Stmt::Expr(Expr::Call(call), None)) = block.stmts.last() else {
        return None;
    };
    let Expr::Path(function) = &*call.func else {
        return None;
    };
    let is_box_pin = function
        .path
        .segments
        .iter()
        .map(|segment| segment.ident.to_string())
        .collect::<Vec<_>>()
        .ends_with(&["Box".to_owned(), "pin".to_owned()]);
    match (is_box_pin, call.args.len(), call.args.first()) {
        (true, 1, Some(Expr::Async(inner))) => Some(inner),
        _ => None,
    }
}

/// The type used to annotate the body's value: the return type with each `impl Trait`
/// replaced by `_` (not allowed in a `let`), or `None` when nothing is left to say.
pub(crate) fn annotation(output: Option<&Type>) -> Option<Type> {
    struct ImplToInfer;
    impl VisitMut for ImplToInfer {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(_) = ty {
                *ty = syn::parse_quote!(_);
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = match output {
        None => return Some(syn::parse_quote!(())),
        Some(ty) => ty.clone(),
    };
    ImplToInfer.visit_type_mut(&mut ty);
    (!matches!(ty, Type::Infer(_))).then_some(ty)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    #[test]
    fn result_types_are_recognised_by_name() {
        for (ty, expected) in [
            (quote!(Result<u8, E>), true),
            (quote!(std::io::Result<u8>), true),
            (quote!(TtsResult), true),
            (quote!(Option<u8>), false),
            (quote!(u8), false),
        ] {
            assert_eq!(
                is_result_type(&syn::parse2(ty.clone()).unwrap()),
                expected,
                "{ty}"
            );
        }
    }

    fn shape_of(function: proc_macro2::TokenStream) -> BodyShape {
        BodyShape::of(&syn::parse2(function).unwrap())
    }

    #[test]
    fn returned_futures_are_recognised() {
        for (function, boxed) in [
            (
                quote!(
                    fn f() -> impl Future<Output = Result<u8, E>> + Send {
                        g()
                    }
                ),
                false,
            ),
            (
                quote!(
                    fn f() -> Pin<Box<dyn Future<Output = Result<u8, E>> + Send>> {
                        g()
                    }
                ),
                true,
            ),
            (
                quote!(
                    fn f<'a>() -> BoxFuture<'a, Result<u8, E>> {
                        g()
                    }
                ),
                true,
            ),
        ] {
            match shape_of(function.clone()) {
                BodyShape::ReturnsFuture { output, boxed: b } => {
                    assert_eq!(b, boxed, "{function}");
                    assert!(is_result_type(&output), "{function}");
                }
                _ => panic!("not a returned future: {function}"),
            }
        }
        let async_trait = quote!(
            fn f() -> Pin<Box<dyn Future<Output = u8> + Send>> {
                Box::pin(async move { 1 })
            }
        );
        assert!(matches!(
            shape_of(async_trait),
            BodyShape::AsyncTrait { .. }
        ));
    }

    #[test]
    fn stream_returns_are_recognised() {
        let cases = [
            (
                quote!(
                    fn f() -> impl Stream<Item = Result<u8, E>> {
                        s()
                    }
                ),
                Some((false, false)),
            ),
            (
                quote!(
                    async fn f() -> impl futures::Stream<Item = R> + Send {
                        s()
                    }
                ),
                Some((false, false)),
            ),
            (
                quote!(
                    fn f() -> Pin<Box<dyn Stream<Item = R> + Send>> {
                        s()
                    }
                ),
                Some((true, false)),
            ),
            (
                quote!(
                    fn f<'a>() -> BoxStream<'a, R> {
                        s()
                    }
                ),
                Some((true, false)),
            ),
            (
                quote!(
                    async fn f() -> Result<impl Stream<Item = R>, E> {
                        s()
                    }
                ),
                Some((false, true)),
            ),
            (
                quote!(
                    fn f() -> io::Result<BoxStream<'static, R>> {
                        s()
                    }
                ),
                Some((true, true)),
            ),
            (
                quote!(
                    fn f() -> Vec<u8> {
                        s()
                    }
                ),
                None,
            ),
            (
                quote!(
                    fn f() -> MyStream {
                        s()
                    }
                ),
                None,
            ),
            (
                quote!(
                    fn f() -> Result<MyStream, E> {
                        s()
                    }
                ),
                None,
            ),
            (
                quote!(
                    fn f() -> impl Future<Output = impl Stream<Item = R>> {
                        s()
                    }
                ),
                None,
            ),
            (
                quote!(
                    fn f() {
                        s()
                    }
                ),
                None,
            ),
        ];
        for (function, expected) in cases {
            let found = shape_of(function.clone())
                .stream_return()
                .map(|r| (r.boxed, r.in_result));
            // `impl Stream<Item = R>` gives the item type.
            if let Some((false, _)) = found {
                let item = shape_of(function.clone()).stream_return().unwrap().item;
                let item = item.map(|ty| quote!(#ty).to_string());
                let expected_item = if function.to_string().contains("Item = R >") {
                    Some("R".to_owned())
                } else {
                    Some("Result < u8 , E >".to_owned())
                };
                assert_eq!(item, expected_item, "{function}");
            }
            assert_eq!(found, expected, "{function}");
        }
    }
}
