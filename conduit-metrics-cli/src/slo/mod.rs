//! `conduit-metrics slo`: an objective file (YAML, see `docs/objectives.md`) in,
//! Prometheus rules out. [`generate`] reads the file into a tree that knows its lines
//! (`yaml`), checks it into typed objectives (`read`, into the types of `spec`) reporting
//! every mistake, then writes the rules (`rules`). Nothing is written unless the whole
//! file is valid.

mod read;
mod rules;
mod spec;
mod yaml;

pub use spec::SpecError;

/// The Prometheus rule file for the objectives in `text` (a file named `source`), or every
/// mistake in it.
pub fn generate(text: &str, source: &str) -> Result<String, Vec<SpecError>> {
    let tree = yaml::parse(text).map_err(|(line, message)| {
        vec![SpecError {
            line,
            objective: None,
            field: None,
            message: format!("not valid YAML: {message}"),
        }]
    })?;
    let spec = read::read(&tree)?;
    Ok(rules::render(&spec, source))
}
