//! Reading an objective file's tree into checked objectives. Every mistake is reported,
//! each with its line, the objective and the field it is about, before anything is
//! generated.

use std::collections::BTreeSet;
use std::time::Duration;

use conduit_metrics_runtime::catalogue;
use conduit_metrics_runtime::{Operation, Status};

use super::spec::{
    DEFAULT_MIN_BAD_EVENTS, HistogramForm, OBJECTIVE_WINDOWS, Objective, Sli, Spec, SpecError,
    seconds_text,
};
use super::yaml::{Marked, Node};
use crate::suggest::closest;

const TOP_KEYS: [&str; 2] = ["service", "objectives"];
const OBJECTIVE_KEYS: [&str; 11] = [
    "name",
    "operation",
    "sli",
    "target",
    "window",
    "by",
    "threshold",
    "histogram",
    "exclude_statuses",
    "min_bad_events",
    "description",
];

/// Reads and checks `tree`: the spec, or every mistake found.
pub(crate) fn read(tree: &Marked<Node>) -> Result<Spec, Vec<SpecError>> {
    let mut errors = Errors::default();
    let Node::Mapping(entries) = &tree.value else {
        errors.at(
            tree.line,
            None,
            None,
            format!(
                "the file must be a mapping with `service` and `objectives`, not {}",
                tree.value.kind()
            ),
        );
        return Err(errors.0);
    };
    errors.unknown_keys(entries, &TOP_KEYS, None);
    let service = match field(entries, "service") {
        Some(node) => scalar(node, &mut errors, None, "service").and_then(|text| {
            valid_name(text).then(|| text.to_owned()).or_else(|| {
                errors.at(
                    node.line,
                    None,
                    Some("service"),
                    format!("\"{text}\" is not a name of lower-case letters, digits and `-`"),
                );
                None
            })
        }),
        None => {
            errors.at(
                tree.line,
                None,
                Some("service"),
                "missing: name the service (e.g. `service: audio-gateway`)".to_owned(),
            );
            None
        }
    };
    let mut objectives = Vec::new();
    match field(entries, "objectives") {
        Some(Marked {
            value: Node::Sequence(items),
            line,
        }) => {
            if items.is_empty() {
                errors.at(
                    *line,
                    None,
                    Some("objectives"),
                    "the list is empty: give at least one objective".to_owned(),
                );
            }
            let mut names = BTreeSet::new();
            for item in items {
                if let Some(objective) = read_objective(item, &mut errors) {
                    if !names.insert(objective.name.clone()) {
                        errors.at(
                            item.line,
                            Some(&objective.name),
                            Some("name"),
                            "another objective has this name; names must be unique".to_owned(),
                        );
                    }
                    objectives.push(objective);
                }
            }
        }
        Some(other) => errors.at(
            other.line,
            None,
            Some("objectives"),
            format!(
                "expected a list of objectives, found {}",
                other.value.kind()
            ),
        ),
        None => errors.at(
            tree.line,
            None,
            Some("objectives"),
            "missing: list the objectives".to_owned(),
        ),
    }
    match (errors.0.is_empty(), service) {
        (true, Some(service)) => Ok(Spec {
            service,
            objectives,
        }),
        _ => {
            // In the order of the file.
            errors.0.sort_by_key(|error| error.line);
            Err(errors.0)
        }
    }
}

fn read_objective(item: &Marked<Node>, errors: &mut Errors) -> Option<Objective> {
    let Node::Mapping(entries) = &item.value else {
        errors.at(
            item.line,
            None,
            None,
            format!(
                "an objective must be a mapping, found {}",
                item.value.kind()
            ),
        );
        return None;
    };
    let before = errors.0.len();
    let name = match field(entries, "name") {
        Some(node) => scalar(node, errors, None, "name").map(str::to_owned),
        None => {
            errors.at(
                item.line,
                None,
                Some("name"),
                "missing: every objective needs a name".to_owned(),
            );
            None
        }
    };
    let label = name
        .clone()
        .unwrap_or_else(|| format!("at line {}", item.line));
    let label = label.as_str();
    if let (Some(name), Some(node)) = (&name, field(entries, "name")) {
        if !valid_name(name) {
            errors.at(
                node.line,
                Some(label),
                Some("name"),
                format!("\"{name}\" is not a name of lower-case letters, digits and `-`"),
            );
        }
    }
    errors.unknown_keys(entries, &OBJECTIVE_KEYS, Some(label));
    let operation = required(entries, item, errors, label, "operation").and_then(|(text, line)| {
        text.parse::<Operation>().ok().or_else(|| {
            let names = Operation::ALL.iter().map(|o| o.as_str());
            let hint = did_you_mean(text, names.clone());
            errors.at(
                line,
                Some(label),
                Some("operation"),
                format!(
                    "unknown operation \"{text}\"{hint}; expected one of: {}",
                    quoted(names)
                ),
            );
            None
        })
    });
    let sli = required(entries, item, errors, label, "sli").and_then(|(text, line)| {
        Sli::parse(text).or_else(|| {
            let hint = did_you_mean(text, Sli::NAMES);
            errors.at(
                line,
                Some(label),
                Some("sli"),
                format!(
                    "unknown SLI \"{text}\"{hint}; expected one of: {}",
                    quoted(Sli::NAMES)
                ),
            );
            None
        })
    });
    let target = required(entries, item, errors, label, "target").and_then(|(text, line)| {
        match text.parse::<f64>() {
            Ok(target) if target > 0.0 && target < 100.0 => Some(target),
            Ok(_) => {
                errors.at(line, Some(label), Some("target"), format!("{text} is out of range: a percentage of good events, over 0 and under 100 (e.g. 99.5)"));
                None
            }
            Err(_) => {
                errors.at(line, Some(label), Some("target"), format!("\"{text}\" is not a number: a percentage of good events (e.g. 99.5)"));
                None
            }
        }
    });
    let window = match field(entries, "window") {
        None => Some(OBJECTIVE_WINDOWS[1]),
        Some(node) => scalar(node, errors, Some(label), "window").and_then(|text| {
            OBJECTIVE_WINDOWS
                .iter()
                .copied()
                .find(|w| *w == text)
                .or_else(|| {
                    errors.at(
                        node.line,
                        Some(label),
                        Some("window"),
                        format!("\"{text}\" is not an objective window; expected 28d or 30d"),
                    );
                    None
                })
        }),
    };
    let by = match field(entries, "by") {
        None => Vec::new(),
        Some(node) => list(node, errors, label, "by"),
    };
    if let Some(sli) = sli {
        let family = sli.family();
        // `model` is there when the application runs with `ModelLabel = true`.
        let model = catalogue::MODEL_LABELLED_FAMILIES.contains(family);
        let allowed: Vec<&str> = family
            .labels
            .iter()
            .copied()
            .filter(|l| !matches!(*l, "status" | "operation"))
            .chain(model.then_some("model"))
            .collect();
        let mut seen = BTreeSet::new();
        for (label_name, line) in &by {
            if !allowed.contains(&label_name.as_str()) {
                errors.at(
                    *line,
                    Some(label),
                    Some("by"),
                    format!(
                        "`{}` has no label `{label_name}`; it can be split by: {}",
                        family.name,
                        allowed.join(", ")
                    ),
                );
            } else if !seen.insert(label_name.clone()) {
                errors.at(
                    *line,
                    Some(label),
                    Some("by"),
                    format!("`{label_name}` is given twice"),
                );
            }
        }
    }
    let histogram = read_histogram_form(entries, errors, label, sli);
    let threshold = read_threshold(entries, errors, label, sli, histogram, item.line);
    let exclude_statuses = read_exclusions(entries, errors, label, sli);
    let min_bad_events = match field(entries, "min_bad_events") {
        None => Some(DEFAULT_MIN_BAD_EVENTS),
        Some(node) => scalar(node, errors, Some(label), "min_bad_events").and_then(|text| {
            text.parse::<u64>().ok().filter(|n| *n >= 1).or_else(|| {
                errors.at(
                    node.line,
                    Some(label),
                    Some("min_bad_events"),
                    format!("\"{text}\" is not a whole number of at least 1"),
                );
                None
            })
        }),
    };
    let description = field(entries, "description")
        .and_then(|node| scalar(node, errors, Some(label), "description").map(str::to_owned));
    if let (Some(sli), Some(operation), Some(node)) = (sli, operation, field(entries, "operation"))
    {
        match (sli, operation) {
            (Sli::TurnLatency, op) if op != Operation::Realtime => errors.at(node.line, Some(label), Some("operation"), "turn_latency is measured on realtime sessions: the operation must be `realtime`".to_owned()),
            (Sli::TimeToFirstByte, Operation::Realtime) => errors.at(node.line, Some(label), Some("operation"), "realtime calls do not stream: time_to_first_byte needs transcription, tts or translation".to_owned()),
            _ => {}
        }
    }
    if errors.0.len() > before {
        return None;
    }
    Some(Objective {
        name: name?,
        operation: operation?,
        sli: sli?,
        target: target?,
        window: window?,
        by: by.into_iter().map(|(name, _)| name).collect(),
        threshold,
        histogram: histogram?,
        exclude_statuses: exclude_statuses?,
        min_bad_events: min_bad_events?,
        description,
    })
}

/// The buckets a latency SLI reads: `classic` (the default) or `native`.
fn read_histogram_form(
    entries: &[(Marked<String>, Marked<Node>)],
    errors: &mut Errors,
    label: &str,
    sli: Option<Sli>,
) -> Option<HistogramForm> {
    let Some(node) = field(entries, "histogram") else {
        return Some(HistogramForm::Classic);
    };
    let text = scalar(node, errors, Some(label), "histogram")?;
    let form = match text {
        "classic" => HistogramForm::Classic,
        "native" => HistogramForm::Native,
        other => {
            let hint = did_you_mean(other, ["classic", "native"]);
            errors.at(
                node.line,
                Some(label),
                Some("histogram"),
                format!("\"{other}\" is not a histogram form{hint}; expected classic or native"),
            );
            return None;
        }
    };
    if sli == Some(Sli::Availability) {
        errors.at(
            node.line,
            Some(label),
            Some("histogram"),
            "an availability SLI reads no histogram (it counts statuses)".to_owned(),
        );
        return None;
    }
    Some(form)
}

/// The threshold of a latency SLI: a positive duration, and with classic buckets one of
/// the family's bounds.
fn read_threshold(
    entries: &[(Marked<String>, Marked<Node>)],
    errors: &mut Errors,
    label: &str,
    sli: Option<Sli>,
    histogram: Option<HistogramForm>,
    objective_line: usize,
) -> Option<f64> {
    let node = field(entries, "threshold");
    let sli = sli?;
    let Some(node) = node else {
        if sli != Sli::Availability {
            errors.at(objective_line, Some(label), Some("threshold"), "missing: a latency SLI needs the duration a good event is at or under (e.g. `threshold: 500ms`)".to_owned());
        }
        return None;
    };
    if sli == Sli::Availability {
        errors.at(
            node.line,
            Some(label),
            Some("threshold"),
            "an availability SLI has no threshold (it counts statuses)".to_owned(),
        );
        return None;
    }
    let text = scalar(node, errors, Some(label), "threshold")?;
    let seconds = match parse_duration(text) {
        Some(seconds) => seconds,
        None => {
            errors.at(
                node.line,
                Some(label),
                Some("threshold"),
                format!("\"{text}\" is not a duration such as 500ms, 2.5s or 1s"),
            );
            return None;
        }
    };
    if seconds <= 0.0 {
        errors.at(
            node.line,
            Some(label),
            Some("threshold"),
            format!("{text} is not over zero: no call takes less than no time"),
        );
        return None;
    }
    let bounds = sli.family().buckets;
    // An unreadable form is reported already: no second error about the same line's
    // objective.
    if histogram != Some(HistogramForm::Classic)
        || bounds.iter().any(|b| (b - seconds).abs() < 1e-9)
    {
        return Some(seconds);
    }
    let below = bounds.iter().copied().rfind(|b| *b < seconds);
    let above = bounds.iter().copied().find(|b| *b > seconds);
    let nearest = match (below, above) {
        (Some(b), Some(a)) => format!(
            "the nearest are {} and {}",
            seconds_text(b),
            seconds_text(a)
        ),
        (Some(b), None) => format!("the largest is {}", seconds_text(b)),
        (None, Some(a)) => format!("the smallest is {}", seconds_text(a)),
        (None, None) => "it has none".to_owned(),
    };
    errors.at(node.line, Some(label), Some("threshold"), format!("{} is not a bucket bound of `{}` ({nearest}): a classic histogram can only tell calls apart at its bounds; `histogram: native` takes any threshold", seconds_text(seconds), sli.family().name));
    None
}

/// The statuses an availability SLI leaves out (default `[invalid_request]`).
fn read_exclusions(
    entries: &[(Marked<String>, Marked<Node>)],
    errors: &mut Errors,
    label: &str,
    sli: Option<Sli>,
) -> Option<Vec<Status>> {
    let Some(node) = field(entries, "exclude_statuses") else {
        return Some(vec![Status::InvalidRequest]);
    };
    if sli.is_some_and(|sli| sli != Sli::Availability) {
        errors.at(
            node.line,
            Some(label),
            Some("exclude_statuses"),
            "only an availability SLI counts statuses".to_owned(),
        );
        return None;
    }
    let mut statuses = Vec::new();
    let allowed = Status::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| !matches!(*s, "success" | "cancelled"));
    for (text, line) in list(node, errors, label, "exclude_statuses") {
        match text.parse::<Status>() {
            Ok(Status::Success) => errors.at(
                line,
                Some(label),
                Some("exclude_statuses"),
                "`success` is the good event; it cannot be excluded".to_owned(),
            ),
            Ok(Status::Cancelled) => errors.at(
                line,
                Some(label),
                Some("exclude_statuses"),
                "`cancelled` is never an event; leave it out".to_owned(),
            ),
            Ok(status) => statuses.push(status),
            Err(_) => {
                let hint = did_you_mean(&text, allowed.clone());
                errors.at(
                    line,
                    Some(label),
                    Some("exclude_statuses"),
                    format!(
                        "unknown status \"{text}\"{hint}; expected any of: {}",
                        quoted(allowed.clone())
                    ),
                );
            }
        }
    }
    Some(statuses)
}

/// `500ms`, `2.5s`, `1s`, `1m`: seconds.
fn parse_duration(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else if let Some(m) = text.strip_suffix('m') {
        (m, 60.0)
    } else {
        return humantime::parse_duration(text)
            .ok()
            .map(|d: Duration| d.as_secs_f64());
    };
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value > 0.0).then_some(value * scale)
}

fn valid_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}

fn field<'a>(entries: &'a [(Marked<String>, Marked<Node>)], key: &str) -> Option<&'a Marked<Node>> {
    entries.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
}

/// A required scalar field: its text and line, or a "missing" error at the objective.
fn required<'a>(
    entries: &'a [(Marked<String>, Marked<Node>)],
    item: &Marked<Node>,
    errors: &mut Errors,
    label: &str,
    key: &str,
) -> Option<(&'a str, usize)> {
    match field(entries, key) {
        Some(node) => scalar(node, errors, Some(label), key).map(|text| (text, node.line)),
        None => {
            errors.at(item.line, Some(label), Some(key), "missing".to_owned());
            None
        }
    }
}

fn scalar<'a>(
    node: &'a Marked<Node>,
    errors: &mut Errors,
    label: Option<&str>,
    key: &str,
) -> Option<&'a str> {
    match &node.value {
        Node::Scalar(text) => Some(text),
        other => {
            errors.at(
                node.line,
                label,
                Some(key),
                format!("expected a value, found {}", other.kind()),
            );
            None
        }
    }
}

/// A list of scalars (a single scalar counts as a list of one).
fn list(node: &Marked<Node>, errors: &mut Errors, label: &str, key: &str) -> Vec<(String, usize)> {
    match &node.value {
        Node::Scalar(text) => vec![(text.clone(), node.line)],
        Node::Sequence(items) => items
            .iter()
            .filter_map(|item| {
                scalar(item, errors, Some(label), key).map(|text| (text.to_owned(), item.line))
            })
            .collect(),
        Node::Mapping(_) => {
            errors.at(
                node.line,
                Some(label),
                Some(key),
                "expected a list, found a mapping".to_owned(),
            );
            Vec::new()
        }
    }
}

fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map_or_else(String::new, |c| format!("; did you mean \"{c}\"?"))
}

fn quoted<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    words
        .into_iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Default)]
struct Errors(Vec<SpecError>);

impl Errors {
    fn at(&mut self, line: usize, objective: Option<&str>, field: Option<&str>, message: String) {
        self.0.push(SpecError {
            line,
            objective: objective.map(str::to_owned),
            field: field.map(str::to_owned),
            message,
        });
    }

    fn unknown_keys(
        &mut self,
        entries: &[(Marked<String>, Marked<Node>)],
        known: &[&str],
        objective: Option<&str>,
    ) {
        let mut seen = BTreeSet::new();
        for (key, _) in entries {
            if !seen.insert(key.value.as_str()) {
                self.at(
                    key.line,
                    objective,
                    Some(&key.value),
                    "given twice".to_owned(),
                );
            } else if !known.contains(&key.value.as_str()) {
                let hint = closest(&key.value, known.iter().copied())
                    .map_or_else(String::new, |c| format!("; did you mean `{c}`?"));
                self.at(
                    key.line,
                    objective,
                    None,
                    format!(
                        "unknown field `{}`{hint}; expected one of: {}",
                        key.value,
                        known.join(", ")
                    ),
                );
            }
        }
    }
}
