//! The facade's text format 0.0.4 samples read back, for the binary formats: a sample
//! line's name, labels and value, and the series of a histogram or summary grouped by
//! label set (less `le` or `quantile`). A line that does not parse is left out, as a text
//! parser would reject it.

/// One sample line, read back.
pub(super) struct Sample<'a> {
    pub(super) name: &'a str,
    pub(super) labels: Vec<(String, String)>,
    pub(super) value: f64,
}

/// A histogram's or summary's series of one label set.
#[derive(Default)]
pub(super) struct Grouped {
    pub(super) labels: Vec<(String, String)>,
    /// (`le` or `quantile`, value).
    pub(super) points: Vec<(f64, f64)>,
    pub(super) sum: f64,
    pub(super) count: f64,
}

pub(super) fn group_series<'a>(
    name: &str,
    samples: impl Iterator<Item = Sample<'a>>,
) -> Vec<Grouped> {
    let mut groups: Vec<Grouped> = Vec::new();
    for mut sample in samples {
        let point = sample
            .labels
            .iter()
            .position(|(label, _)| label == "le" || label == "quantile")
            .map(|at| sample.labels.remove(at).1);
        let index = match groups.iter().position(|g| g.labels == sample.labels) {
            Some(index) => index,
            None => {
                groups.push(Grouped {
                    labels: sample.labels,
                    ..Grouped::default()
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        match sample.name.strip_prefix(name) {
            Some("_sum") => group.sum = sample.value,
            Some("_count") => group.count = sample.value,
            _ => {
                if let Some(bound) = point.as_deref().and_then(parse_float) {
                    group.points.push((bound, sample.value));
                }
            }
        }
    }
    groups
}

/// Reads `name{label="value",...} value` (a timestamp after it is ignored).
pub(super) fn parse_sample(line: &str) -> Option<Sample<'_>> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut label = String::new();
        loop {
            let (at, ch) = chars.next()?;
            match ch {
                '}' => {
                    rest = &inner[at + 1..];
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.push((std::mem::take(&mut label), value));
                }
                other => label.push(other),
            }
        }
    }
    let value = parse_float(rest.split_whitespace().next()?)?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        text => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_read_back_with_escaped_labels() {
        let sample = parse_sample(r#"a_total{x="1",y="q\"uo\\te\n"} 2.5"#).unwrap();
        assert_eq!(sample.name, "a_total");
        assert_eq!(
            sample.labels,
            [
                ("x".to_owned(), "1".to_owned()),
                ("y".to_owned(), "q\"uo\\te\n".to_owned())
            ]
        );
        assert_eq!(sample.value, 2.5);
        assert_eq!(parse_sample("up 1 1700000000").unwrap().value, 1.0);
        assert!(parse_sample(r#"bad{x="1} 2"#).is_none());
        assert!(parse_sample("novalue").is_none());
    }

    #[test]
    fn histogram_lines_group_by_label_set() {
        let lines = [
            r#"h_bucket{k="a",le="0.5"} 1"#,
            r#"h_bucket{k="a",le="+Inf"} 2"#,
            r#"h_sum{k="a"} 1.5"#,
            r#"h_count{k="a"} 2"#,
            r#"h_bucket{k="b",le="0.5"} 0"#,
            r#"h_count{k="b"} 0"#,
        ];
        let groups = group_series("h", lines.iter().filter_map(|l| parse_sample(l)));
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].points, [(0.5, 1.0), (f64::INFINITY, 2.0)]);
        assert_eq!((groups[0].sum, groups[0].count), (1.5, 2.0));
        assert_eq!(groups[1].labels, [("k".to_owned(), "b".to_owned())]);
    }
}
