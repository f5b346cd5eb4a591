//! The formats the endpoint speaks, and how a scraper's `Accept` header picks one: the
//! Prometheus protobuf format for a scraper that prefers it (Prometheus with its
//! native-histograms feature), OpenMetrics 1.0 for one that asks for it (Prometheus does
//! by default), the Prometheus text format 0.0.4 for everyone else.

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExpositionFormat {
    /// The Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text: counters and units as its specification writes them,
    /// exemplars on histogram buckets, and a final `# EOF`.
    OpenMetrics,
    /// The Prometheus protobuf format: length-delimited `io.prometheus.client.MetricFamily`
    /// messages, with native buckets on the latency histograms and exemplars on classic
    /// buckets (feature `protobuf`). A binary body.
    Protobuf,
}

impl ExpositionFormat {
    /// The `Content-Type` of a body in this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            ExpositionFormat::Text => "text/plain; version=0.0.4; charset=utf-8",
            ExpositionFormat::OpenMetrics => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8"
            }
            ExpositionFormat::Protobuf => PROTOBUF_CONTENT_TYPE,
        }
    }

    /// Whether bodies in this format are text (a `String`), not binary.
    pub const fn is_text(self) -> bool {
        !matches!(self, ExpositionFormat::Protobuf)
    }

    /// The format an `Accept` header asks for: protobuf (with the `protobuf` feature)
    /// when it accepts `application/vnd.google.protobuf` with
    /// `proto=io.prometheus.client.MetricFamily` and `encoding=delimited` at least as much
    /// as the others; else OpenMetrics when it accepts `application/openmetrics-text`
    /// (version 1.0.0, 0.0.1 or none) at least as much as plain text; text otherwise, and
    /// when there is no header.
    ///
    /// ```
    /// use conduit_metrics_runtime::serving::ExpositionFormat;
    /// // What Prometheus 2.42 sends.
    /// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// assert_eq!(ExpositionFormat::from_accept(prometheus), ExpositionFormat::OpenMetrics);
    /// assert_eq!(ExpositionFormat::from_accept("*/*"), ExpositionFormat::Text);
    /// // What Prometheus 2.42 sends with --enable-feature=native-histograms.
    /// let native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// # #[cfg(feature = "protobuf")]
    /// assert_eq!(ExpositionFormat::from_accept(native), ExpositionFormat::Protobuf);
    /// ```
    pub fn from_accept(accept: &str) -> ExpositionFormat {
        let mut protobuf = 0.0f32;
        let mut openmetrics = 0.0f32;
        let mut text = 0.0f32;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let mut quality = 1.0f32;
            let mut version_ok = true;
            let (mut proto_ok, mut delimited) = (false, false);
            for param in parts {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "q" => quality = value.parse().unwrap_or(0.0),
                    "version" => version_ok = matches!(value, "1.0.0" | "0.0.1"),
                    "proto" => proto_ok = value == "io.prometheus.client.MetricFamily",
                    "encoding" => delimited = value == "delimited",
                    _ => {}
                }
            }
            match media.as_str() {
                "application/openmetrics-text" if version_ok => {
                    openmetrics = openmetrics.max(quality)
                }
                "application/vnd.google.protobuf" if proto_ok && delimited => {
                    protobuf = protobuf.max(quality)
                }
                "text/plain" | "text/*" | "*/*" => text = text.max(quality),
                _ => {}
            }
        }
        if cfg!(feature = "protobuf")
            && protobuf > 0.0
            && protobuf >= openmetrics
            && protobuf >= text
        {
            ExpositionFormat::Protobuf
        } else if openmetrics > 0.0 && openmetrics >= text {
            ExpositionFormat::OpenMetrics
        } else {
            ExpositionFormat::Text
        }
    }
}

/// The `Content-Type` of a protobuf body, also what a scraper's `Accept` names.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

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

    #[cfg(feature = "protobuf")]
    #[test]
    fn protobuf_only_when_preferred_and_delimited() {
        let proto = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily";
        for (accept, expected) in [
            (
                format!("{proto};encoding=delimited"),
                ExpositionFormat::Protobuf,
            ),
            (
                format!("{proto};encoding=delimited;q=0.5,application/openmetrics-text"),
                OpenMetrics,
            ),
            (
                format!("text/plain;q=0.4,{proto};encoding=delimited;q=0.5"),
                ExpositionFormat::Protobuf,
            ),
            // Not the delimited stream of MetricFamily: not ours to send.
            (format!("{proto};encoding=text"), Text),
            (proto.to_owned(), Text),
            (
                "application/vnd.google.protobuf;proto=other.Message;encoding=delimited".to_owned(),
                Text,
            ),
            (format!("{proto};encoding=delimited;q=0"), Text),
        ] {
            assert_eq!(ExpositionFormat::from_accept(&accept), expected, "{accept}");
        }
    }
}
