//! `ConfigError`: what went wrong, naming the option, the value and the source.

use super::option::ConfigOption;

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

fn known_options() -> String {
    ConfigOption::ALL.map(ConfigOption::name).join(", ")
}
