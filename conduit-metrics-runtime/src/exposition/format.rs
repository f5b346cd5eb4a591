//! The two text formats the endpoint speaks, and how a scraper's `Accept` header picks
//! one: OpenMetrics 1.0 for a scraper that asks for it (Prometheus does by default), the
//! Prometheus text format 0.0.4 for everyone else.

/// A text exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpositionFormat {
    /// The Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text: counters and units as its specification writes them,
    /// exemplars on histogram buckets, and a final `# EOF`.
    OpenMetrics,
}

impl ExpositionFormat {
    /// The `Content-Type` of a body in this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            ExpositionFormat::Text => "text/plain; version=0.0.4; charset=utf-8",
            ExpositionFormat::OpenMetrics => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
        }
    }

    /// The format an `Accept` header asks for: OpenMetrics when it accepts
    /// `application/openmetrics-text` (version 1.0.0, 0.0.1 or none) at least as much as
    /// plain text; text otherwise, and when there is no header.
    ///
    /// ```
    /// use conduit_metrics_runtime::serving::ExpositionFormat;
    /// // What Prometheus 2.42 sends.
    /// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// assert_eq!(ExpositionFormat::from_accept(prometheus), ExpositionFormat::OpenMetrics);
    /// assert_eq!(ExpositionFormat::from_accept("*/*"), ExpositionFormat::Text);
    /// ```
    pub fn from_accept(accept: &str) -> ExpositionFormat {
        let mut openmetrics = 0.0f32;
        let mut text = 0.0f32;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let mut quality = 1.0f32;
            let mut version_ok = true;
            for param in parts {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "q" => quality = value.parse().unwrap_or(0.0),
                    "version" => version_ok = matches!(value, "1.0.0" | "0.0.1"),
                    _ => {}
                }
            }
            match media.as_str() {
                "application/openmetrics-text" if version_ok => {
                    openmetrics = openmetrics.max(quality)
                }
                "text/plain" | "text/*" | "*/*" => text = text.max(quality),
                _ => {}
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            ExpositionFormat::OpenMetrics
        } else {
            ExpositionFormat::Text
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExpositionFormat::{OpenMetrics, Text};

    #[test]
    fn accept_headers_pick_a_format() {
        for (accept, expected) in [
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                OpenMetrics,
            ),
            ("application/openmetrics-text", OpenMetrics),
            ("Application/OpenMetrics-Text;version=0.0.1", OpenMetrics),
            ("application/openmetrics-text;version=2.0.0", Text),
            ("application/openmetrics-text;q=0", Text),
            ("text/plain;q=1, application/openmetrics-text;q=0.5", Text),
            (
                "text/plain;version=0.0.4;q=0.5, application/openmetrics-text",
                OpenMetrics,
            ),
            ("text/plain", Text),
            ("", Text),
            ("garbage;;q=x", Text),
        ] {
            assert_eq!(ExpositionFormat::from_accept(accept), expected, "{accept}");
        }
    }
}
