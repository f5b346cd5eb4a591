//! `ConfigError`: what went wrong, naming the option, the value and the source.

use super::schema::ConfigOption;

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An option has a value it cannot take.
    #[error("invalid {option} {value:?} (from {origin}): {reason}")]
    InvalidValue {
        /// The option.
        option: ConfigOption,
        /// The offending value as written (`***` for secrets).
        value: String,
        /// Where it came from: a file path, an environment variable, or `builder`.
        origin: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A key that is not an option (most often a typo).
    #[error(
        "unknown option {key:?} (from {origin}); known options: {}",
        known_options()
    )]
    UnknownOption {
        /// The key as written.
        key: String,
        /// Where it came from.
        origin: String,
    },
    /// The file could not be read.
    #[error("cannot read metrics configuration {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An option (or a file format) needs a Cargo feature of this crate that is off.
    #[error(
        "{needed_for} (from {origin}) needs the {feature} feature of conduit-metrics-runtime, which is off: enable it in Cargo.toml, or remove the option"
    )]
    FeatureDisabled {
        /// The feature to enable, quoted (`` `tls` ``, or two alternatives).
        feature: &'static str,
        /// The option or file format that needs it.
        needed_for: String,
        /// Where it came from.
        origin: String,
    },
    /// Several of the above at once: every mistake a source had, in the order found.
    #[error("{} problems in the metrics configuration:{}", .0.len(), list(.0))]
    Several(Vec<ConfigError>),
    /// The file is not valid JSON or TOML, or its options are not a table.
    #[error("metrics configuration {path} is not valid {format}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// `JSON` or `TOML`.
        format: &'static str,
        /// The parser's message, with line and column.
        message: String,
    },
}

impl ConfigError {
    /// `Ok` when there is no error, the error when there is one, [`Several`](Self::Several)
    /// when there are more.
    pub(super) fn from_all(mut errors: Vec<ConfigError>) -> Result<(), ConfigError> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(ConfigError::Several(errors)),
        }
    }

    /// Each single error: the errors of [`Several`](Self::Several), or this one.
    pub fn problems(&self) -> &[ConfigError] {
        match self {
            ConfigError::Several(errors) => errors,
            single => std::slice::from_ref(single),
        }
    }
}

fn list(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|error| format!("\n  - {error}"))
        .collect()
}

fn known_options() -> String {
    ConfigOption::ALL.map(ConfigOption::name).join(", ")
}
