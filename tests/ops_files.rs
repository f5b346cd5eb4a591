//! The ops artifacts are valid for the real tools, and their queries only use metric
//! names the runtime emits (the system we re-implement shipped a dashboard that did not).

use std::path::{Path, PathBuf};
use std::process::Command;

use conduit_metrics_runtime::catalogue::{ALL_FAMILIES, FamilyType};

fn docs(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(path)
}

fn promtool(args: &[&str]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool must be installed: run the README's test command (scripts/test.sh), which installs Debian's `prometheus` package");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn prometheus_configs_are_valid() {
    let main = docs("prometheus/prometheus.yml");
    let text = promtool(&["check", "config", main.to_str().unwrap()]);
    // The recording rules and the alert rules.
    assert!(text.contains("SUCCESS: 2 rule files found"), "{text}");
    assert!(text.contains("SUCCESS: 14 rules found"), "{text}");
    assert!(text.contains("SUCCESS: 14 rules found"), "{text}");
    // The fleet variant names credential and CA files that live on the Prometheus host.
    let fleet = docs("prometheus/prometheus-fleet.yml");
    promtool(&["check", "config", "--syntax-only", fleet.to_str().unwrap()]);
    let fleet_text = std::fs::read_to_string(&fleet).unwrap();
    assert!(fleet_text.contains("honor_labels: true"));
    assert!(fleet_text.contains("audio-recording-rules.yml"));
    // The global view: edges that remote-write, and the central store they write to.
    let edge = docs("prometheus/prometheus-edge.yml");
    let text = promtool(&["check", "config", edge.to_str().unwrap()]);
    assert!(text.contains("SUCCESS: 2 rule files found"), "{text}");
    let edge_text = std::fs::read_to_string(&edge).unwrap();
    assert!(edge_text.contains("external_labels:") && edge_text.contains("remote_write:"));
    let central = docs("prometheus/prometheus-central.yml");
    let text = promtool(&["check", "config", central.to_str().unwrap()]);
    assert!(text.contains("SUCCESS: 1 rule files found"), "{text}");
}

#[test]
fn the_alertmanager_example_is_valid() {
    let config = docs("prometheus/alertmanager.yml");
    let output = Command::new("amtool")
        .args(["check-config", config.to_str().unwrap()])
        .output()
        .expect("amtool must be installed: run the README's test command (scripts/test.sh), which installs Debian's `prometheus-alertmanager` package");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("SUCCESS"), "{text}");
    let yaml = std::fs::read_to_string(&config).unwrap();
    assert!(yaml.contains("group_by: [alertname, provider]"));
    assert!(yaml.contains("send_resolved: true"));
}

#[test]
fn alert_and_recording_rules_are_valid_and_their_unit_tests_pass() {
    let rules = docs("prometheus/audio-alerts.yml");
    let text = promtool(&["check", "rules", rules.to_str().unwrap()]);
    assert!(text.contains("SUCCESS: 14 rules found"), "{text}");
    let recording = docs("prometheus/audio-recording-rules.yml");
    let text = promtool(&["check", "rules", recording.to_str().unwrap()]);
    assert!(text.contains("SUCCESS: 14 rules found"), "{text}");
    let test_files = ["audio-alerts.test.yml", "audio-recording-rules.test.yml"];
    let mut tests_text = String::new();
    for file in test_files {
        let tests = docs(&format!("prometheus/{file}"));
        let text = promtool(&["test", "rules", tests.to_str().unwrap()]);
        assert!(text.contains("SUCCESS"), "{file}: {text}");
        tests_text.push_str(&std::fs::read_to_string(&tests).unwrap());
    }
    // Every alert has a unit test that shows it firing.
    let rules_text = std::fs::read_to_string(&rules).unwrap();
    for line in rules_text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        assert!(
            tests_text.contains(&format!(
                "alertname: {line}\n        exp_alerts:\n          - exp_labels"
            )),
            "{line} has no firing test"
        );
    }
    // Every recording rule has a unit test of its value.
    let recording_text = std::fs::read_to_string(&recording).unwrap();
    for name in recorded_names(&recording_text) {
        let tested = tests_text.contains(&format!("expr: round({name}"));
        assert!(tested, "{name} has no unit test of its value");
    }
    for rule in ["HighErrorRate", "HighLatency", "ProviderDown"] {
        assert!(
            rules_text.contains(&format!("- alert: {rule}")),
            "the guide's {rule} is missing"
        );
    }
    assert!(rules_text.contains("expr: conduit_audio_provider_error_rate > 0.05\n        for: 5m"));
    assert!(
        rules_text.contains("expr: conduit_audio_provider_uptime_ratio < 0.95\n        for: 10m")
    );
}

/// The generated objective rules are valid, and their hand-written unit tests pass
/// (`audio-slo-rules.test.yml` every minute, `audio-slo-rules.long.test.yml` over days).
#[test]
fn objective_rules_are_valid_and_their_unit_tests_pass() {
    let rules = docs("prometheus/audio-slo-rules.yml");
    let text = promtool(&["check", "rules", rules.to_str().unwrap()]);
    // 7 objectives: 8 SLI windows, 7 metadata rules, a page and a ticket each.
    assert!(text.contains("SUCCESS: 119 rules found"), "{text}");
    for file in ["audio-slo-rules.test.yml", "audio-slo-rules.long.test.yml"] {
        let tests = docs(&format!("prometheus/{file}"));
        let text = promtool(&["test", "rules", tests.to_str().unwrap()]);
        assert!(text.contains("SUCCESS"), "{file}: {text}");
    }
}

/// The objective rules' unit tests pin the burn factors, a window and the traffic guard:
/// each change below, made alone to the alerts of a copy of the generated rules, makes the
/// unit test file named beside it fail. (The ticket's 2h/1d factor cannot be pinned: with
/// full windows its pair fires only when the 6h/3d pair does, as 3 x 1d = 1 x 3d and
/// 3 x 2h = 1 x 6h.)
#[test]
fn objective_alerts_fail_their_unit_tests_when_a_factor_window_or_guard_changes() {
    let minute = "audio-slo-rules.test.yml";
    let days = "audio-slo-rules.long.test.yml";
    let changes = [
        // The outage's 5th minute pages and its 4th does not: the factor is pinned to
        // between 13.3 and 16.7.
        ("page 5m/1h factor 14.4 -> 13", "(14.4 * ", "(13 * ", minute),
        ("page 5m/1h factor 14.4 -> 17", "(14.4 * ", "(17 * ", minute),
        // 3.1% pages, 2.9% does not.
        ("page 30m/6h factor 6 -> 5.5", "(6 * ", "(5.5 * ", minute),
        ("page 30m/6h factor 6 -> 6.5", "(6 * ", "(6.5 * ", minute),
        (
            "page long window 1h -> 30m",
            "slo:sli_error:ratio_rate1h{",
            "slo:sli_error:ratio_rate30m{",
            minute,
        ),
        // Three failures page, two do not.
        ("traffic guard 3 -> 2", ") >= 3)", ") >= 2)", minute),
        ("traffic guard 3 -> 4", ") >= 3)", ") >= 4)", minute),
        // 0.51% tickets, 0.49% does not.
        ("ticket 6h/3d factor 1 -> 0.95", "(1 * ", "(0.95 * ", days),
        ("ticket 6h/3d factor 1 -> 1.05", "(1 * ", "(1.05 * ", days),
    ];
    let rules = std::fs::read_to_string(docs("prometheus/audio-slo-rules.yml")).unwrap();
    let runs: Vec<(String, String, &[&str])> = changes
        .iter()
        .map(|(what, from, to, test_file)| {
            let changed = in_alert_groups(&rules, from, to);
            assert_ne!(changed, rules, "{what}: `{from}` is not in the alerts");
            (what.to_string(), changed, std::slice::from_ref(test_file))
        })
        .collect();
    let survivors = passing_runs("audio-slo-rules.yml", &[], &runs);
    assert!(
        survivors.is_empty(),
        "the unit tests still pass with:\n{}",
        survivors.join("\n")
    );
}

/// The unit test files the alert rules are proven by.
const ALERT_TESTS: [&str; 2] = ["audio-alerts.test.yml", "audio-recording-rules.test.yml"];

/// Runs promtool's unit tests once per run `(what, rules, test files)`, the rules written
/// as `target` in a copy of `docs/prometheus` holding `beside` and the test files, two
/// runs at a time; returns the `what` of each run whose tests all passed, in order.
fn passing_runs(target: &str, beside: &[&str], runs: &[(String, String, &[&str])]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let workers = 2;
    let mut passing: Vec<(usize, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let work = dir.path().join(format!("worker-{worker}"));
                scope.spawn(move || {
                    std::fs::create_dir_all(&work).unwrap();
                    let mut passing = Vec::new();
                    for (index, (what, rules, tests)) in runs.iter().enumerate() {
                        if index % workers != worker {
                            continue;
                        }
                        for file in beside.iter().chain(tests.iter()) {
                            std::fs::copy(docs(&format!("prometheus/{file}")), work.join(file))
                                .unwrap();
                        }
                        std::fs::write(work.join(target), rules).unwrap();
                        let passed = Command::new("promtool")
                            .args(["test", "rules"])
                            .args(tests.iter())
                            .current_dir(&work)
                            .output()
                            .expect("promtool must be installed: run the README's test command (scripts/test.sh)")
                            .status
                            .success();
                        if passed {
                            passing.push((index, what.clone()));
                        }
                    }
                    passing
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    passing.sort();
    passing.into_iter().map(|(_, what)| what).collect()
}

/// `rules` with `from` replaced by `to` inside the alert groups only (the recording rules
/// stay as generated).
fn in_alert_groups(rules: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(rules.len());
    let mut in_alerts = false;
    for line in rules.split_inclusive('\n') {
        if let Some(group) = line.strip_prefix("  - name: ") {
            in_alerts = group.starts_with("sloth-slo-alerts-");
        }
        if in_alerts {
            out.push_str(&line.replace(from, to));
        } else {
            out.push_str(line);
        }
    }
    out
}

/// The unit tests pin every alert from both sides: moving a threshold 2% either way, or a
/// `for` a minute either way, makes them fail. Each rule is changed alone, in a copy of
/// the rule files, and promtool runs both test files against the copy.
#[test]
fn every_threshold_and_for_is_pinned_by_the_unit_tests() {
    let rules = std::fs::read_to_string(docs("prometheus/audio-alerts.yml")).unwrap();
    let mutants = mutants(&rules);
    // 14 alerts: 11 non-zero thresholds moved both ways, 3 zero ones moved up; 12 `for`s
    // moved both ways, 2 of 0m lengthened.
    assert_eq!(
        mutants.len(),
        11 * 2 + 3 + 12 * 2 + 2,
        "{:#?}",
        mutants.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    // The copy as written, through the same path, passes: a mutant fails for its
    // change, not for the copying.
    let mut runs = vec![(
        "unchanged".to_owned(),
        rebuilt(&rules),
        ALERT_TESTS.as_slice(),
    )];
    runs.extend(
        mutants
            .into_iter()
            .map(|(what, text)| (what, text, ALERT_TESTS.as_slice())),
    );
    let passing = passing_runs("audio-alerts.yml", &["audio-recording-rules.yml"], &runs);
    assert_eq!(
        passing.first().map(String::as_str),
        Some("unchanged"),
        "the unchanged copy fails"
    );
    let survivors = &passing[1..];
    assert!(
        survivors.is_empty(),
        "the unit tests still pass with:\n{}",
        survivors.join("\n")
    );
    // And they pass with the rules as shipped (run by the test above too).
    promtool(&[
        "test",
        "rules",
        docs("prometheus/audio-alerts.test.yml").to_str().unwrap(),
    ]);
}

/// The rules as `mutants` writes its copies, with no change.
fn rebuilt(rules: &str) -> String {
    rules.lines().collect::<Vec<_>>().join("\n") + "\n"
}

/// Copies of the alert rules, each with one change: (what changed, the changed text).
/// A threshold is the number that ends an `expr`; a non-zero one moves by 2% both ways, a
/// zero one (a count that must stay 0) up by one. A `for` moves by a minute both ways
/// (a `for: 0m` only up).
fn mutants(rules: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = rules.lines().collect();
    let mut mutants = Vec::new();
    let mut alert = "";
    let with_line = |index: usize, line: String| {
        let mut copy: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        copy[index] = line;
        copy.join("\n") + "\n"
    };
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("- alert: ") {
            alert = name;
        } else if trimmed.starts_with("expr: ") {
            let (head, number) = line.rsplit_once(' ').unwrap();
            let threshold: f64 = number.parse().unwrap_or_else(|_| {
                panic!("{alert}: the expression does not end in a number: {line}")
            });
            let moved: Vec<f64> = if threshold == 0.0 {
                vec![1.0]
            } else {
                vec![threshold * 1.02, threshold * 0.98]
            };
            for value in moved {
                mutants.push((
                    format!("{alert}: threshold {threshold} -> {value}"),
                    with_line(index, format!("{head} {value}")),
                ));
            }
        } else if let Some(duration) = trimmed.strip_prefix("for: ") {
            let minutes: i64 = duration.strip_suffix('m').unwrap().parse().unwrap();
            let indent = &line[..line.len() - trimmed.len()];
            let moved = if minutes == 0 {
                vec![1]
            } else {
                vec![minutes + 1, minutes - 1]
            };
            for value in moved {
                mutants.push((
                    format!("{alert}: for {minutes}m -> {value}m"),
                    with_line(index, format!("{indent}for: {value}m")),
                ));
            }
        }
    }
    mutants
}

/// The series a recording rules file records.
fn recorded_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("- record: "))
        .map(|name| name.trim().to_owned())
        .collect()
}

/// Every name with `conduit_audio_` in it used in the text, as written: metric names,
/// and recorded series (`level:metric:operations`).
fn metric_names(text: &str) -> Vec<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    text.split(|c: char| !is_name(c))
        .filter(|word| word.contains("conduit_audio_"))
        .map(str::to_owned)
        .collect()
}

fn emitted(name: &str) -> bool {
    ALL_FAMILIES.iter().any(|family| {
        name == family.name
            || (family.kind == FamilyType::Histogram
                && ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| name == format!("{}{s}", family.name)))
    })
}

#[test]
fn queries_use_only_emitted_metric_names() {
    let recorded = recorded_names(
        &std::fs::read_to_string(docs("prometheus/audio-recording-rules.yml")).unwrap(),
    );
    for file in [
        "grafana-dashboards/audio-metrics.json",
        "prometheus/audio-alerts.yml",
        "prometheus/audio-recording-rules.yml",
        "prometheus/audio-slo-rules.yml",
    ] {
        let text = std::fs::read_to_string(docs(file)).unwrap();
        let names = metric_names(&text);
        assert!(!names.is_empty());
        for name in names {
            if name.contains(':') {
                assert!(
                    recorded.contains(&name),
                    "{file} uses {name}, which no recording rule records"
                );
            } else {
                assert!(
                    emitted(&name),
                    "{file} uses {name}, which the runtime never emits"
                );
            }
        }
    }
}

#[test]
fn dashboard_is_importable_with_the_guides_panels() {
    let text = std::fs::read_to_string(docs("grafana-dashboards/audio-metrics.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(dashboard["schemaVersion"].as_u64().unwrap() >= 36);
    assert!(dashboard["uid"].is_string() && dashboard["title"].is_string());
    let variables: Vec<&str> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        variables,
        ["datasource", "provider", "operation", "tracing", "slo"]
    );
    // The objectives' variable lists what the generated rules record.
    assert_eq!(
        dashboard["templating"]["list"][4]["definition"],
        "label_values(sloth_slo_info, sloth_slo)"
    );
    // The tracing data source exemplars link to is a variable of its own.
    assert_eq!(dashboard["templating"]["list"][3]["type"], "datasource");
    assert_eq!(dashboard["templating"]["list"][0]["type"], "datasource");
    assert_eq!(dashboard["templating"]["list"][0]["query"], "prometheus");

    // Deploys on every graph: a new `conduit_audio_build_info` version.
    let deploys = dashboard["annotations"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Deploys")
        .expect("a Deploys annotation");
    assert!(
        deploys["expr"]
            .as_str()
            .unwrap()
            .contains("conduit_audio_build_info")
    );

    let panels = dashboard["panels"].as_array().unwrap();
    let find = |title: &str| {
        panels
            .iter()
            .find(|p| p["title"].as_str().unwrap().starts_with(title))
            .unwrap_or_else(|| panic!("no {title} panel"))
    };
    // The guide's seven key panels, with units that say what the numbers are.
    for (title, unit) in [
        ("Request Rate", "reqps"),
        ("Success Rate", "percentunit"),
        ("Latency Percentiles", "s"),
        ("Provider Health", "percentunit"),
        ("Cost Analysis", "currencyUSD"),
        ("Active Operations", "short"),
        ("System Resources: Memory", "bytes"),
        // Streaming.
        ("Time to First Byte", "s"),
        ("Real-Time Factor", "short"),
        ("Characters Synthesized", "cps"),
        // Voice turns.
        ("Voice Turn Latency", "s"),
        ("Turn Stages", "s"),
        ("Interrupted and Abandoned Turns", "percentunit"),
        // Models (ModelLabel on).
        ("Latency P95 by Model", "s"),
        ("Success Rate by Model", "percentunit"),
        ("Time to First Byte P95 by Model", "s"),
        // Objectives.
        ("SLI against Objective", "percentunit"),
        ("Error Budget Remaining", "percentunit"),
        ("Burn Rate", "none"),
    ] {
        assert_eq!(
            find(title)["fieldConfig"]["defaults"]["unit"],
            unit,
            "{title}"
        );
    }
    let latency: Vec<&str> = find("Latency Percentiles")["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["legendFormat"].as_str().unwrap())
        .collect();
    assert_eq!(latency, ["P50", "P95", "P99"]);
    // Latency panels ask for exemplars and link a trace id to the tracing data source.
    for title in [
        "Latency Percentiles",
        "Time to First Byte",
        "Realtime Turn Latency",
    ] {
        let panel = find(title);
        assert!(
            panel["targets"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["exemplar"] == true),
            "{title} asks for no exemplars"
        );
        let links = panel["fieldConfig"]["defaults"]["links"].to_string();
        assert!(
            links.contains("${tracing}") && links.contains("trace_id"),
            "{title}: {links}"
        );
    }
    let first_byte: Vec<&str> = find("Time to First Byte")["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["expr"].as_str().unwrap())
        .collect();
    // The native histogram first, the classic buckets where there is none.
    for (expr, q) in first_byte.iter().zip(["0.50", "0.95"]) {
        assert!(
            expr.starts_with(&format!("histogram_quantile({q}, sum by (provider) (rate(conduit_audio_time_to_first_byte_seconds{{"))
                && expr.contains(&format!(" or histogram_quantile({q}, sum by (provider, le) (rate(conduit_audio_time_to_first_byte_seconds_bucket{{")),
            "{expr}"
        );
    }
    for panel in panels.iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            panel["datasource"]["uid"], "${datasource}",
            "{}",
            panel["title"]
        );
        for target in panel["targets"].as_array().unwrap() {
            assert_eq!(target["datasource"]["uid"], "${datasource}");
            assert!(!target["expr"].as_str().unwrap().is_empty());
        }
    }
}
