//! The application's build: its version and source revision, exported as
//! `conduit_audio_build_info{version, revision} 1` so dashboards can mark deploys.

use crate::labels::MAX_PROVIDER_LABEL_BYTES;
use crate::store::{Registry, global};

impl Registry {
    /// Records the application's `version` and `revision` (empty when unknown), replacing
    /// any recorded before. Control characters become U+FFFD and each value is cut to
    /// 64 bytes, as provider names are.
    pub fn record_build_info(&self, version: &str, revision: &str) {
        self.set_build(info_label(version), info_label(revision));
    }
}

/// Records the application's build in the global registry; see [`build_info!`](crate::build_info),
/// which passes the calling crate's version.
///
/// ```
/// conduit_metrics_runtime::record_build_info("1.4.2", "9f3c2e1");
/// let text = conduit_metrics_runtime::registry::global().render();
/// assert!(text.contains(r#"conduit_audio_build_info{version="1.4.2",revision="9f3c2e1"} 1"#));
/// ```
pub fn record_build_info(version: &str, revision: &str) {
    global().record_build_info(version, revision);
}

fn info_label(value: &str) -> String {
    let mut label = String::with_capacity(value.len().min(MAX_PROVIDER_LABEL_BYTES));
    for ch in value.chars() {
        let ch = if ch.is_control() { '\u{FFFD}' } else { ch };
        if label.len() + ch.len_utf8() > MAX_PROVIDER_LABEL_BYTES {
            break;
        }
        label.push(ch);
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cleaned_and_bounded_but_may_be_empty() {
        assert_eq!(info_label(""), "");
        assert_eq!(info_label("1.0\n"), "1.0\u{FFFD}");
        assert_eq!(info_label(&"a".repeat(100)).len(), 64);
    }
}
