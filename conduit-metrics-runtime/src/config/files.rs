//! Configuration files: JSON read the way .NET reads `appsettings.json` (comments,
//! trailing commas, section and key names in any case, other sections ignored, an
//! `appsettings.{Environment}.json` layered on top), and TOML.

use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::metrics_config::MetricsConfig;
use super::parse::{SettingValue, strip_json_comments, strip_trailing_commas};
use super::schema::{APPSETTINGS_SECTION, ConfigOption};

/// The variables that name the .NET environment, the one that wins first.
const ENVIRONMENT_VARIABLES: [&str; 2] = ["ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT"];

/// One parsed file: its options as written, and where they came from.
struct Document {
    origin: String,
    entries: Vec<(String, serde_json::Value)>,
}

impl MetricsConfig {
    /// Reads a configuration file: `.json` (the guide's `appsettings.json`, read as .NET
    /// reads it: a `PrometheusMetrics` section in any case, keys in any case, `//` and
    /// `/* */` comments, trailing commas, other sections ignored; or a flat object of
    /// options) or `.toml` (a `[PrometheusMetrics]` table or top-level options; needs the
    /// `toml` feature, else an `Err` says so). Durations may be .NET spans (`"00:00:15"`)
    /// or human durations (`"15s"`). Options not in the file keep their defaults; the
    /// environment's `CONDUIT_METRICS_*` variables are not read.
    ///
    /// For a file named `appsettings.json`, `appsettings.{Environment}.json` beside it is
    /// layered on top when `ASPNETCORE_ENVIRONMENT` (or else `DOTNET_ENVIRONMENT`) names
    /// an environment and that file exists, as .NET does; see
    /// [`from_appsettings`](Self::from_appsettings).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let is_appsettings = path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.eq_ignore_ascii_case("appsettings.json"));
        if is_appsettings {
            let environment = ENVIRONMENT_VARIABLES
                .iter()
                .find_map(|variable| std::env::var(variable).ok())
                .filter(|name| !name.trim().is_empty());
            return Self::from_appsettings(path, environment.as_deref());
        }
        let document = read_document(path)?;
        Self::from_documents(vec![document])
    }

    /// Reads `appsettings.json` at `path` and, when `environment` names one and
    /// `appsettings.{environment}.json` exists beside it, layers that file on top: its
    /// options override the base file's, and the options are checked together once both
    /// are applied, as .NET's configuration does.
    pub fn from_appsettings(
        path: impl AsRef<Path>,
        environment: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let mut documents = vec![read_document(path)?];
        if let Some(environment) = environment {
            let overlay = environment_file(path, environment);
            if overlay.is_file() {
                documents.push(read_document(&overlay)?);
            }
        }
        Self::from_documents(documents)
    }

    /// Parses JSON text (see [`from_file`](Self::from_file)); `origin` names the source
    /// in errors.
    pub fn from_json_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        Self::from_documents(vec![json_document(text, origin)?])
    }

    /// Parses TOML text (see [`from_file`](Self::from_file)); `origin` names the source
    /// in errors.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        Self::from_documents(vec![toml_document(text, origin)?])
    }

    /// Applies the documents in order (later ones override), then checks the options
    /// together; every problem of every document is reported.
    fn from_documents(documents: Vec<Document>) -> Result<Self, ConfigError> {
        let mut config = MetricsConfig::default();
        let mut problems = Vec::new();
        let origins: Vec<&str> = documents.iter().map(|d| d.origin.as_str()).collect();
        let origin = origins.join(" + ");
        for document in &documents {
            for (key, value) in &document.entries {
                let Some(option) = ConfigOption::from_key(key) else {
                    problems.push(ConfigError::UnknownOption {
                        key: key.clone(),
                        origin: document.origin.clone(),
                    });
                    continue;
                };
                if let Err(error) = config.set(option, &setting(value), &document.origin) {
                    problems.push(error);
                }
            }
        }
        config.check(&origin, &mut problems);
        ConfigError::from_all(problems)?;
        Ok(config)
    }
}

/// `appsettings.{environment}.json` beside `base`.
fn environment_file(base: &Path, environment: &str) -> PathBuf {
    base.with_file_name(format!("appsettings.{}.json", environment.trim()))
}

fn read_document(path: &Path) -> Result<Document, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: shown.clone(),
        source,
    })?;
    let is_toml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    match is_toml {
        #[cfg(feature = "toml")]
        true => toml_document(&text, &shown),
        #[cfg(not(feature = "toml"))]
        true => Err(ConfigError::FeatureDisabled {
            feature: "`toml`",
            needed_for: "a TOML configuration file".to_owned(),
            origin: shown,
        }),
        false => json_document(&text, &shown),
    }
}

fn json_document(text: &str, origin: &str) -> Result<Document, ConfigError> {
    // Both keep every newline and column, so the parser's positions stay right.
    let cleaned = strip_trailing_commas(&strip_json_comments(text));
    let value: serde_json::Value =
        serde_json::from_str(&cleaned).map_err(|err| ConfigError::Syntax {
            path: origin.to_owned(),
            format: "JSON",
            message: err.to_string(),
        })?;
    document(value, "JSON", origin)
}

#[cfg(feature = "toml")]
fn toml_document(text: &str, origin: &str) -> Result<Document, ConfigError> {
    let syntax = |message: String| ConfigError::Syntax {
        path: origin.to_owned(),
        format: "TOML",
        message,
    };
    let table: toml::Table =
        toml::from_str(text).map_err(|err| syntax(err.to_string().trim_end().to_owned()))?;
    let value = serde_json::to_value(table).map_err(|err| syntax(err.to_string()))?;
    document(value, "TOML", origin)
}

/// The option entries of a parsed file. With a `PrometheusMetrics` section (any case;
/// several are merged in order, as .NET merges keys that differ in case only) or
/// `PrometheusMetrics:Option` keys, those are the options and everything else is another
/// section. Without one, the top level is a flat object of options, where an object that
/// is not an option is another section and is ignored.
fn document(
    value: serde_json::Value,
    format: &'static str,
    origin: &str,
) -> Result<Document, ConfigError> {
    let syntax = |message: String| ConfigError::Syntax {
        path: origin.to_owned(),
        format,
        message,
    };
    let serde_json::Value::Object(top) = value else {
        return Err(syntax(
            "the top level must be an object of options".to_owned(),
        ));
    };
    let has_section = top.iter().any(|(key, _)| {
        key.eq_ignore_ascii_case(APPSETTINGS_SECTION) || colon_option(key).is_some()
    });
    let mut entries = Vec::new();
    for (key, value) in top {
        if has_section {
            if key.eq_ignore_ascii_case(APPSETTINGS_SECTION) {
                let serde_json::Value::Object(section) = value else {
                    return Err(syntax(format!("`{key}` must be an object of options")));
                };
                entries.extend(section);
            } else if let Some(option) = colon_option(&key) {
                entries.push((option.to_owned(), value));
            }
        } else if value.is_object() && ConfigOption::from_key(&key).is_none() {
            // Another section (Logging, ConnectionStrings, ...): not ours.
        } else {
            entries.push((key, value));
        }
    }
    Ok(Document {
        origin: origin.to_owned(),
        entries,
    })
}

/// The option of a `PrometheusMetrics:Option` key (.NET's flattened form).
fn colon_option(key: &str) -> Option<&str> {
    let (section, option) = key.split_once(':')?;
    section
        .eq_ignore_ascii_case(APPSETTINGS_SECTION)
        .then_some(option)
}

/// A JSON value as an option's raw value.
fn setting(value: &serde_json::Value) -> SettingValue {
    match value {
        serde_json::Value::String(text) => SettingValue::Text(text.clone()),
        serde_json::Value::Number(number) => SettingValue::Number(number.to_string()),
        serde_json::Value::Bool(flag) => SettingValue::Text(flag.to_string()),
        // Lists (AllowedNetworks, FacadeHistogramBuckets) may be arrays of strings or
        // numbers, or one comma-separated string.
        serde_json::Value::Array(items)
            if items
                .iter()
                .all(|item| item.is_string() || item.is_number()) =>
        {
            SettingValue::Text(
                items
                    .iter()
                    .map(|item| match item {
                        serde_json::Value::String(text) => text.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            )
        }
        other => SettingValue::Other(other.to_string()),
    }
}
