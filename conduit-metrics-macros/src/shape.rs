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
        if let Some(output) = output.as_ref().and_then(boxed_future_output) {
            if async_trait_body(&function.block).is_some() {
                return BodyShape::AsyncTrait { output };
            }
        }
        BodyShape::Sync { output }
    }

    pub(crate) fn output(&self) -> Option<&Type> {
        match self {
            BodyShape::Async { output } | BodyShape::Sync { output } => output.as_ref(),
            BodyShape::AsyncTrait { output } => Some(output),
        }
    }

    pub(crate) fn returns_result(&self) -> bool {
        self.output().is_some_and(is_result_type)
    }
}

/// Whether a type is written as a `Result` (`Result<T, E>`, `io::Result<T>`, or an alias
/// whose name ends in `Result`, such as `TtsResult`).
fn is_result_type(ty: &Type) -> bool {
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

/// `T` of `Pin<Box<dyn Future<Output = T> + ...>>`.
fn boxed_future_output(ty: &Type) -> Option<Type> {
    let pin = last_segment_named(ty, "Pin")?;
    let boxed = single_type_argument(pin)?;
    let boxed = last_segment_named(boxed, "Box")?;
    let Type::TraitObject(object) = single_type_argument(boxed)? else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let future = bound.path.segments.last()?;
        if future.ident != "Future" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(arguments) = &future.arguments else {
            return None;
        };
        arguments.args.iter().find_map(|argument| match argument {
            syn::GenericArgument::AssocType(assoc) if assoc.ident == "Output" => {
                Some(assoc.ty.clone())
            }
            _ => None,
        })
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
}
