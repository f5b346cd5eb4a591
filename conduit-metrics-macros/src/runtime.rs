//! Where generated code finds the runtime.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Path;

/// The runtime's hidden support module for this exact macro version, under the runtime's
/// path (`crate = path`, or `::conduit_metrics_runtime`): e.g.
/// `::conduit_metrics_runtime::__private_v0_1_0`.
///
/// The runtime depends on this crate with `=x.y.z` and names its module after the same
/// version, so a runtime and macros of different versions cannot meet: the generated
/// code would name a module that does not exist, rather than call an API that changed.
pub(crate) fn support_module(krate: Option<&Path>) -> TokenStream {
    support_module_at(krate, Span::call_site())
}

/// The support module with `span` on its tokens, for a call whose unmet bound should be
/// reported at the user's code (rustc points at the called path).
pub(crate) fn support_module_at(krate: Option<&Path>, span: Span) -> TokenStream {
    let krate = krate.map_or_else(
        || quote_spanned!(span=> ::conduit_metrics_runtime),
        |path| quote!(#path),
    );
    let module = format_ident!("{}", support_module_name(), span = span);
    quote_spanned!(span=> #krate::#module)
}

/// `__private_v` and the crate version with every non-alphanumeric character as `_`.
pub(crate) fn support_module_name() -> String {
    let version: String = env!("CARGO_PKG_VERSION")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__private_v{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_is_named_after_the_version() {
        let expected = format!(
            "__private_v{}",
            env!("CARGO_PKG_VERSION").replace(['.', '-', '+'], "_")
        );
        assert_eq!(support_module_name(), expected);
        let path: Path = syn::parse_quote!(my::runtime);
        assert_eq!(
            support_module(Some(&path)).to_string(),
            format!("my :: runtime :: {expected}")
        );
    }
}
