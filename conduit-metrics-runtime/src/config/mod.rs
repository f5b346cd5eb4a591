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
//! | `option.rs` | the schema: [`ConfigOption`], its names, file keys and variables |
//! | `error.rs` | [`ConfigError`] |
//! | `settings.rs` | [`MetricsConfig`]: the validated values, defaults, accessors |
//! | `values.rs` | option value types: [`Secret`], [`IpNetwork`], [`PushGateway`] |
//! | `sources.rs` | the loaders: files, environment variables, `set` |
//! | `validate.rs` | checks of the options together |
//! | `builder.rs` | [`MetricsConfigBuilder`] |
//! | `parse.rs` | durations, .NET time spans, JSON comments |

mod builder;
mod error;
mod option;
mod parse;
mod settings;
mod sources;
mod validate;
mod values;

pub use builder::MetricsConfigBuilder;
pub use error::ConfigError;
pub use option::{APPSETTINGS_SECTION, ConfigOption, ENV_PREFIX};
pub use settings::MetricsConfig;
pub use values::{IpNetwork, PushGateway, Secret};
