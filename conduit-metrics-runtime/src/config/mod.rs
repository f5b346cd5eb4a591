//! Configuration: the guide's options with its defaults, read from the guide's own
//! `appsettings.json` shape, from TOML or JSON with human durations, from
//! `CONDUIT_METRICS_*` environment variables, or set with a builder.
//!
//! Every source goes through one function per option (`set` in the loaders), so a bad
//! value gets the same error, naming the option, the value and where it came from,
//! whatever the source; then the options are checked together. Every mistake a source
//! has is reported, not only the first ([`ConfigError::Several`]).
//!
//! | file | concern |
//! |---|---|
//! | `schema.rs` | the schema: [`ConfigOption`], its names, file keys and variables, which are secrets |
//! | `error.rs` | [`ConfigError`] |
//! | `metrics_config.rs` | [`MetricsConfig`]: the validated values, defaults, accessors |
//! | `value_types.rs` | option value types: [`Secret`], [`IpNetwork`], [`PushGateway`] |
//! | `files.rs` | JSON (read as .NET reads `appsettings.json`) and TOML files |
//! | `environment.rs` | `CONDUIT_METRICS_*` and .NET's `PrometheusMetrics__*` variables |
//! | `assign.rs` | `set`: a raw value from any source becomes an option's value |
//! | `validate.rs` | checks of the options together |
//! | `features.rs` | options that need a Cargo feature which is off |
//! | `builder.rs` | [`MetricsConfigBuilder`] |
//! | `parse.rs` | durations, .NET time spans, JSON comments and trailing commas |

mod assign;
mod builder;
mod environment;
mod error;
mod features;
mod files;
mod metrics_config;
mod parse;
mod schema;
mod validate;
mod value_types;

pub use builder::MetricsConfigBuilder;
pub use error::ConfigError;
pub use metrics_config::MetricsConfig;
pub use schema::{APPSETTINGS_SECTION, ConfigOption, ENV_PREFIX};
pub use value_types::{IpNetwork, PushGateway, Secret};
