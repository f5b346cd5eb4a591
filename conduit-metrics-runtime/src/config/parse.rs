//! Parsers of raw values: human durations, .NET time spans, and JSON with comments.

use std::time::Duration;

/// A raw option value as found in a source.
#[derive(Debug)]
pub(super) enum SettingValue {
    Text(String),
    Number(String),
    Other(String),
}

impl SettingValue {
    pub(super) fn as_written(&self) -> &str {
        match self {
            SettingValue::Text(text) | SettingValue::Number(text) | SettingValue::Other(text) => {
                text
            }
        }
    }
}

const DURATION_HELP: &str = "expected a duration such as \"15s\", \"5m\", \"1h 30m\", \"250ms\" or a .NET span \"00:00:15\"";

pub(super) fn parse_duration(value: &SettingValue) -> Result<Duration, String> {
    let text = match value {
        SettingValue::Text(text) => text.trim(),
        SettingValue::Number(_) => {
            return Err(format!("a bare number has no unit; {DURATION_HELP}"));
        }
        SettingValue::Other(_) => return Err(DURATION_HELP.to_owned()),
    };
    if text.contains(':') {
        return parse_dotnet_timespan(text);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!("a bare number has no unit; {DURATION_HELP}"));
    }
    humantime::parse_duration(text).map_err(|err| format!("{err}; {DURATION_HELP}"))
}

/// Parses a .NET `TimeSpan` in its constant format: `[d.]hh:mm[:ss[.fffffff]]`.
fn parse_dotnet_timespan(text: &str) -> Result<Duration, String> {
    let bad = || format!("not a .NET time span [d.]hh:mm[:ss[.fffffff]]; {DURATION_HELP}");
    if text.starts_with('-') {
        return Err("must not be negative".to_owned());
    }
    let mut parts = text.split(':');
    let (Some(head), Some(minutes)) = (parts.next(), parts.next()) else {
        return Err(bad());
    };
    let seconds = parts.next();
    if parts.next().is_some() {
        return Err(bad());
    }
    let (days, hours) = match head.split_once('.') {
        Some((days, hours)) => (parse_field(days, u64::MAX / 86_400)?, hours),
        None => (0, head),
    };
    let hours = parse_field(hours, 23)?;
    let minutes = parse_field(minutes, 59)?;
    let (seconds, nanos) = match seconds {
        None => (0, 0),
        Some(seconds) => match seconds.split_once('.') {
            None => (parse_field(seconds, 59)?, 0),
            Some((whole, fraction)) => {
                if fraction.is_empty()
                    || fraction.len() > 7
                    || !fraction.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad());
                }
                let digits: u32 = fraction.parse().map_err(|_| bad())?;
                let nanos = digits * 10u32.pow(9 - fraction.len() as u32);
                (parse_field(whole, 59)?, nanos)
            }
        },
    };
    let total = days
        .checked_mul(86_400)
        .and_then(|s| s.checked_add(hours * 3600 + minutes * 60 + seconds))
        .ok_or_else(|| "too large".to_owned())?;
    Ok(Duration::new(total, nanos))
}

fn parse_field(field: &str, max: u64) -> Result<u64, String> {
    if field.is_empty() || field.len() > 20 || !field.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "not a .NET time span [d.]hh:mm[:ss[.fffffff]]; {DURATION_HELP}"
        ));
    }
    let number: u64 = field.parse().map_err(|_| "too large".to_owned())?;
    if number > max {
        return Err(format!(
            "field {field} is out of range (at most {max}) in a .NET time span"
        ));
    }
    Ok(number)
}

/// Replaces `//` and `/* */` comments outside strings by spaces (keeping newlines, so
/// the JSON parser's line and column numbers stay right). appsettings.json allows them.
pub(super) fn strip_json_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if b == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 1;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            out.push(b);
            i += 1;
        } else if bytes[i..].starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if bytes[i..].starts_with(b"/*") {
            let end = bytes[i + 2..]
                .windows(2)
                .position(|w| w == b"*/")
                .map_or(bytes.len(), |p| i + 2 + p + 2);
            for &c in &bytes[i..end] {
                out.push(if c == b'\n' { b'\n' } else { b' ' });
            }
            i = end;
        } else {
            out.push(b);
            i += 1;
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// Replaces each comma that ends a value list (after a value, and followed past white
/// space by `}` or `]`) outside strings with a space, as .NET's JSON reader allows
/// trailing commas. `[1,,]` keeps its commas and stays an error. Run after
/// [`strip_json_comments`]; lines and columns stay where they were.
pub(super) fn strip_trailing_commas(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut in_string = false;
    // The last byte outside strings and white space (a string counts as `"`).
    let mut previous = 0u8;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                in_string = false;
                previous = b'"';
            }
        } else if b == b'"' {
            in_string = true;
        } else if !b.is_ascii_whitespace() {
            if b == b',' && !matches!(previous, b',' | b'[' | b'{' | 0) {
                let next = bytes[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
                if matches!(next, Some(b'}' | b']')) {
                    out[i] = b' ';
                }
            }
            previous = b;
        }
        i += 1;
    }
    // Only an ASCII comma was replaced by an ASCII space: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> SettingValue {
        SettingValue::Text(s.to_owned())
    }

    #[test]
    fn dotnet_spans() {
        let d = |s| parse_duration(&text(s));
        assert_eq!(d("00:00:15"), Ok(Duration::from_secs(15)));
        assert_eq!(d("00:05:00"), Ok(Duration::from_secs(300)));
        assert_eq!(d("01:02"), Ok(Duration::from_secs(3720)));
        assert_eq!(d("1.02:00:00"), Ok(Duration::from_secs(93_600)));
        assert_eq!(d("00:00:01.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("00:00:00.0000001"), Ok(Duration::from_nanos(100)));
        assert!(d("00:60:00").unwrap_err().contains("out of range"));
        assert!(d("-00:00:15").unwrap_err().contains("negative"));
        assert!(d("00:00:15:00").is_err());
        assert!(d("aa:00:15").is_err());
        assert!(d("00:00:01.12345678").is_err());
    }

    #[test]
    fn human_durations_and_bare_numbers() {
        let d = |s| parse_duration(&text(s));
        assert_eq!(d("15s"), Ok(Duration::from_secs(15)));
        assert_eq!(d("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("250ms"), Ok(Duration::from_millis(250)));
        assert!(d("15").unwrap_err().contains("no unit"));
        assert!(
            parse_duration(&SettingValue::Number("15".into()))
                .unwrap_err()
                .contains("no unit")
        );
        assert!(d("soon").is_err());
    }

    #[test]
    fn trailing_commas_go_outside_strings_only() {
        let text = "{\"a\": [1, 2, ],\n \"b\": \",}\",\n}";
        let cleaned = strip_trailing_commas(text);
        let value: serde_json::Value = serde_json::from_str(&cleaned).unwrap();
        assert_eq!(value["a"], serde_json::json!([1, 2]));
        assert_eq!(value["b"], ",}");
        assert_eq!(cleaned.len(), text.len());
        // Commas that do not end a value list stay, so these are still errors.
        for broken in ["[1,,2]", "[1,,]", "{,}", "[,]"] {
            let cleaned = strip_trailing_commas(broken);
            assert!(
                serde_json::from_str::<serde_json::Value>(&cleaned).is_err(),
                "{broken}"
            );
        }
    }

    #[test]
    fn comments_are_stripped_outside_strings_only() {
        let stripped = strip_json_comments("{\"a\": \"//x/*y*/\", // c\n /* d\n */ \"b\": 1}");
        let value: serde_json::Value = serde_json::from_str(&stripped).unwrap();
        assert_eq!(value["a"], "//x/*y*/");
        assert_eq!(value["b"], 1);
        assert_eq!(stripped.matches('\n').count(), 2);
    }
}
