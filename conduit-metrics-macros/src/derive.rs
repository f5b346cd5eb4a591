//! `#[derive(AudioStatus)]`: maps each variant of an error enum (or a whole struct) to a
//! status with `#[audio_status("...")]`, or to the status of its one field with
//! `#[audio_status(transparent)]` (as thiserror's `#[error(transparent)]`); unmarked
//! variants count as `error`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitStr, Path};

use crate::args::Errors;
use crate::runtime::support_module;
use crate::suggest::closest;

/// The statuses an error may map to, and their `Status` variant names.
const ERROR_STATUSES: [(&str, &str); 5] = [
    ("error", "Error"),
    ("timeout", "Timeout"),
    ("rate_limited", "RateLimited"),
    ("invalid_request", "InvalidRequest"),
    ("provider_unavailable", "ProviderUnavailable"),
];

/// What one `#[audio_status(...)]` attribute says.
#[derive(Default)]
struct StatusAttr {
    status: Option<Ident>,
    /// The `transparent` token, when the status is the one field's.
    transparent: Option<Span>,
    krate: Option<Path>,
}

pub(crate) fn audio_status(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    let mut errors = Errors::default();
    let container = parse_attrs(&input.attrs, true, &mut errors);
    let krate = support_module(container.krate.as_ref());
    let default_status = container
        .status
        .unwrap_or_else(|| Ident::new("Error", Span::call_site()));
    let body = match &input.data {
        Data::Enum(data) => {
            let arms: Vec<TokenStream> = data
                .variants
                .iter()
                .map(|variant| {
                    let attr = parse_attrs(&variant.attrs, false, &mut errors);
                    let name = &variant.ident;
                    if let Some(transparent) = attr.transparent {
                        return match one_field(&variant.fields, transparent, &mut errors) {
                            Some((member, ty)) => {
                                let status = field_status(&krate, quote!(__conduit_field), ty);
                                quote!(Self::#name { #member: __conduit_field } => #status)
                            }
                            None => quote!(Self::#name { .. } => #krate::Status::Error),
                        };
                    }
                    let status = attr.status.unwrap_or_else(|| default_status.clone());
                    quote!(Self::#name { .. } => #krate::Status::#status)
                })
                .collect();
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms,)* })
            }
        }
        Data::Struct(data) => match container.transparent {
            Some(transparent) => match one_field(&data.fields, transparent, &mut errors) {
                Some((member, ty)) => field_status(&krate, quote!(&self.#member), ty),
                None => TokenStream::new(),
            },
            None => quote!(#krate::Status::#default_status),
        },
        Data::Union(data) => {
            errors.push(syn::Error::new(
                data.union_token.span(),
                "#[derive(AudioStatus)] supports enums and structs, not unions",
            ));
            TokenStream::new()
        }
    };
    errors.finish()?;
    let name = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #krate::AudioStatus for #name #type_generics #where_clause {
            fn audio_status(&self) -> #krate::Status {
                #body
            }
        }
    })
}

fn parse_attrs(attrs: &[Attribute], container: bool, errors: &mut Errors) -> StatusAttr {
    let mut parsed = StatusAttr::default();
    for attr in attrs
        .iter()
        .filter(|attr| attr.path().is_ident("audio_status"))
    {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("transparent") {
                if parsed.transparent.is_some() || parsed.status.is_some() {
                    return Err(
                        meta.error("duplicate #[audio_status]: give one status, or `transparent`")
                    );
                }
                parsed.transparent = Some(meta.path.span());
                return Ok(());
            }
            if meta.path.is_ident("crate") && container {
                let value: LitStr = meta.value()?.parse()?;
                parsed.krate = Some(value.parse()?);
                return Ok(());
            }
            Err(meta.error(
                "expected a status string, e.g. #[audio_status(\"timeout\")], or `transparent`",
            ))
        });
        // `#[audio_status("timeout")]` is not nested-meta syntax; read it directly.
        let literal = attr.parse_args::<LitStr>();
        match (literal, result) {
            (Ok(literal), _) => {
                if parsed.status.is_some() || parsed.transparent.is_some() {
                    errors.push(syn::Error::new(
                        literal.span(),
                        "duplicate #[audio_status]: give one status",
                    ));
                }
                parsed.status = status_variant(&literal, errors);
            }
            (Err(_), Ok(())) => {}
            (Err(_), Err(error)) => errors.push(error),
        }
    }
    parsed
}

/// The member (`0` or the field's name) and type of the one field a transparent variant
/// or struct must have; an error at `transparent` otherwise.
fn one_field<'a>(
    fields: &'a Fields,
    transparent: Span,
    errors: &mut Errors,
) -> Option<(syn::Member, &'a syn::Type)> {
    let mut iter = fields.iter();
    match (iter.next(), iter.next()) {
        (Some(field), None) => {
            let member = match &field.ident {
                Some(ident) => syn::Member::Named(ident.clone()),
                None => syn::Member::Unnamed(syn::Index::from(0)),
            };
            Some((member, &field.ty))
        }
        _ => {
            errors.push(syn::Error::new(
                transparent,
                format!(
                    "#[audio_status(transparent)] takes the status of the one field it wraps, but this has {} fields; use it on a variant such as `Http(reqwest::Error)`, or give a status string",
                    fields.len()
                ),
            ));
            None
        }
    }
}

/// The status of a wrapped field, spanned at its type so a type without `AudioStatus`
/// is reported there.
fn field_status(krate: &TokenStream, field: TokenStream, ty: &syn::Type) -> TokenStream {
    quote_spanned!(ty.span()=> #krate::transparent_status::<#ty>(#field))
}

fn status_variant(literal: &LitStr, errors: &mut Errors) -> Option<Ident> {
    let written = literal.value();
    match ERROR_STATUSES.iter().find(|(name, _)| *name == written) {
        Some((_, variant)) => Some(Ident::new(variant, literal.span())),
        None => {
            let names = ERROR_STATUSES.map(|(name, _)| name);
            let hint = closest(&written, &names)
                .map(|best| format!("did you mean \"{best}\"? "))
                .unwrap_or_default();
            let why = if matches!(written.as_str(), "success" | "cancelled" | "panic") {
                format!("\"{written}\" is not an error status; ")
            } else {
                format!("unknown status \"{written}\"; ")
            };
            errors.push(syn::Error::new(
                literal.span(),
                format!(
                    "{why}{hint}expected one of: {}",
                    names.map(|n| format!("\"{n}\"")).join(", ")
                ),
            ));
            None
        }
    }
}
