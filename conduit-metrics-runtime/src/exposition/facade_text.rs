//! The facade's exposition text (text format 0.0.4, as metrics-exporter-prometheus
//! renders it) split into families, and written back in a text format. Below both
//! `facade` (which families are kept) and the writers (how a kept family looks).

use std::collections::BTreeSet;

use super::format::ExpositionFormat;
use super::formatting::{openmetrics_family, push_escaped_help};

/// One family of the facade's text: its lines, from `# HELP`/`# TYPE` to the last sample.
pub(super) struct FacadeFamily<'a> {
    pub(super) name: &'a str,
    pub(super) kind: &'a str,
    pub(super) lines: Vec<&'a str>,
}

impl FacadeFamily<'_> {
    /// Every name the family puts in the exposition: its own, the series names its type
    /// implies, and those its sample lines use.
    pub(super) fn claims(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::from([self.name.to_owned()]);
        names.extend(implied_series(self.name, self.kind));
        names.extend(self.samples().map(|line| sample_name(line).to_owned()));
        names
    }

    /// The family's `# HELP` text, unescaped (empty without one), for the binary formats.
    #[cfg(any(feature = "protobuf", feature = "otlp"))]
    pub(super) fn help(&self) -> String {
        self.lines
            .iter()
            .find_map(|line| line.strip_prefix("# HELP "))
            .and_then(|rest| rest.split_once(' '))
            .map(|(_, help)| unescape_text_help(help))
            .unwrap_or_default()
    }

    pub(super) fn samples(&self) -> impl Iterator<Item = &&str> {
        self.lines
            .iter()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
    }

    /// Writes the family's lines in a text format.
    pub(super) fn write_text(&self, out: &mut String, format: ExpositionFormat) {
        // OpenMetrics names the family once for all its lines.
        let metadata = openmetrics_family(self.name, self.kind);
        for line in &self.lines {
            match format {
                ExpositionFormat::OpenMetrics => push_openmetrics_line(out, metadata, line),
                _ => out.push_str(line),
            }
            out.push('\n');
        }
    }
}

/// Splits exposition text into families: a family starts at a `# HELP` line, or at a
/// `# TYPE` line that does not follow its own `# HELP`. Blank lines are dropped.
pub(super) fn split_families(text: &str) -> Vec<FacadeFamily<'_>> {
    let mut families: Vec<FacadeFamily<'_>> = Vec::new();
    let mut help_pending: Option<&str> = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            families.push(FacadeFamily {
                name,
                kind: "untyped",
                lines: vec![line],
            });
            help_pending = Some(name);
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut words = rest.split(' ');
            let name = words.next().unwrap_or_default();
            let kind = words.next().unwrap_or("untyped");
            match (help_pending.take(), families.last_mut()) {
                (Some(helped), Some(family)) if helped == name => {
                    family.kind = kind;
                    family.lines.push(line);
                }
                _ => families.push(FacadeFamily {
                    name,
                    kind,
                    lines: vec![line],
                }),
            }
        } else {
            help_pending = None;
            match families.last_mut() {
                Some(family) => family.lines.push(line),
                // A sample before any header: a family of its own, untyped.
                None => families.push(FacadeFamily {
                    name: sample_name(line),
                    kind: "untyped",
                    lines: vec![line],
                }),
            }
        }
    }
    families
}

/// Writes one line of a facade family as OpenMetrics, its metadata lines with the
/// family's OpenMetrics `(name, kind)` (see `openmetrics_family`) and `# HELP` with
/// OpenMetrics' escaping of `"`. Samples are written as they are.
fn push_openmetrics_line(out: &mut String, (name, kind): (&str, &str), line: &str) {
    if let Some(rest) = line.strip_prefix("# HELP ") {
        let help = rest.split_once(' ').map_or("", |(_, help)| help);
        out.push_str("# HELP ");
        out.push_str(name);
        out.push(' ');
        // 0.0.4 escapes backslash and newline already; only `"` is new.
        let help = unescape_text_help(help);
        push_escaped_help(out, &help, ExpositionFormat::OpenMetrics);
    } else if line.starts_with("# TYPE ") {
        out.push_str("# TYPE ");
        out.push_str(name);
        out.push(' ');
        out.push_str(kind);
    } else {
        out.push_str(line);
    }
}

/// Undoes text format 0.0.4's `# HELP` escaping (`\\` and `\n`).
pub(super) fn unescape_text_help(help: &str) -> String {
    let mut out = String::with_capacity(help.len());
    let mut chars = help.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The metric name of a sample line (`name{labels} value` or `name value`).
pub(super) fn sample_name(line: &str) -> &str {
    let end = line.find(['{', ' ']).unwrap_or(line.len());
    &line[..end]
}

/// The series names a family of this type writes besides its own name.
pub(super) fn implied_series(name: &str, kind: &str) -> Vec<String> {
    let suffixes: &[&str] = match kind {
        "histogram" => &["_bucket", "_sum", "_count"],
        "summary" => &["_sum", "_count"],
        _ => &[],
    };
    suffixes
        .iter()
        .map(|suffix| format!("{name}{suffix}"))
        .collect()
}
