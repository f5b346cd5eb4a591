//! The `conduit-metrics` command as a user runs it: the shipped objectives give exactly the
//! committed rules, and every kind of mistake is an error that names the line, the
//! objective and the field, with a non-zero exit status and nothing on standard output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conduit-metrics"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `slo` on `yaml` written to a file; returns (exit code, stdout, stderr).
fn slo(yaml: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("objectives.yml");
    std::fs::write(&path, yaml).unwrap();
    let mut args = vec!["slo"];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    let output = run(&args);
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_shipped_objectives_generate_the_committed_rules() {
    let objectives = repo("docs/prometheus/audio-objectives.yml");
    let output = run(&["slo", objectives.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8(output.stdout).unwrap();
    let committed = std::fs::read_to_string(repo("docs/prometheus/audio-slo-rules.yml")).unwrap();
    assert!(
        generated == committed,
        "docs/prometheus/audio-slo-rules.yml is not what `conduit-metrics slo docs/prometheus/audio-objectives.yml` generates; regenerate it:\n  cargo run -q -p conduit-metrics-cli -- slo docs/prometheus/audio-objectives.yml > docs/prometheus/audio-slo-rules.yml"
    );
    // Seven objectives: 8 SLI windows, 7 metadata rules and 2 alerts each.
    assert_eq!(generated.matches("      - record: ").count(), 7 * (8 + 7));
    assert_eq!(generated.matches("      - alert: ").count(), 7 * 2);
}

#[test]
fn check_validates_and_writes_nothing() {
    let objectives = repo("docs/prometheus/audio-objectives.yml");
    let output = run(&["slo", "--check", objectives.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("valid"));
}

const VALID: &str = "\
service: audio-gateway
objectives:
  - name: tts-availability
    operation: tts
    sli: availability
    target: 99.5
";

#[test]
fn a_valid_file_generates_sloth_named_rules() {
    let (code, stdout, stderr) = slo(VALID, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    for name in [
        "slo:sli_error:ratio_rate5m",
        "slo:sli_error:ratio_rate30m",
        "slo:sli_error:ratio_rate1h",
        "slo:sli_error:ratio_rate2h",
        "slo:sli_error:ratio_rate6h",
        "slo:sli_error:ratio_rate1d",
        "slo:sli_error:ratio_rate3d",
        "slo:sli_error:ratio_rate30d",
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:current_burn_rate:ratio",
        "slo:period_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio",
        "sloth_slo_info",
    ] {
        assert!(stdout.contains(&format!("- record: {name}\n")), "{name}");
    }
    assert!(stdout.contains("sloth_id: \"audio-gateway-tts-availability\""));
    assert!(stdout.contains("- alert: TtsAvailabilityBudgetBurnPage"));
    assert!(stdout.contains("- alert: TtsAvailabilityBudgetBurnTicket"));
    // Without `by`, one series for the whole fleet: every replica summed.
    assert!(stdout.contains("sum (rate(conduit_audio_requests_total{operation=\"tts\",status!~\"success|cancelled|invalid_request\"}[5m]))"));
    assert!(stdout.contains("and on ()"));
}

/// The errors for `yaml`, asserting the command failed cleanly.
fn errors(yaml: &str) -> String {
    let (code, stdout, stderr) = slo(yaml, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "rules were written: {stdout}");
    assert!(stderr.contains("no rules written"), "{stderr}");
    stderr
}

#[test]
fn an_unknown_operation_is_named_with_its_line_and_the_closest_one() {
    let stderr = errors(&VALID.replace("operation: tts", "operation: transcribtion"));
    assert!(
        stderr.contains("objectives.yml:4: objective \"tts-availability\": field `operation`: unknown operation \"transcribtion\"; did you mean \"transcription\"?"),
        "{stderr}"
    );
}

#[test]
fn a_target_out_of_range_is_an_error() {
    for target in ["100", "0", "150", "-1"] {
        let stderr = errors(&VALID.replace("target: 99.5", &format!("target: {target}")));
        assert!(
            stderr.contains(&format!("objectives.yml:6: objective \"tts-availability\": field `target`: {target} is out of range")),
            "{stderr}"
        );
    }
    let stderr = errors(&VALID.replace("target: 99.5", "target: high"));
    assert!(
        stderr.contains("field `target`: \"high\" is not a number"),
        "{stderr}"
    );
}

#[test]
fn a_threshold_off_the_buckets_names_the_two_nearest_bounds() {
    let yaml = "\
service: audio-gateway
objectives:
  - name: tts-first-byte
    operation: tts
    sli: time_to_first_byte
    target: 95
    threshold: 250ms
";
    let stderr = errors(yaml);
    assert!(
        stderr.contains("objectives.yml:7: objective \"tts-first-byte\": field `threshold`: 0.25s is not a bucket bound of `conduit_audio_time_to_first_byte_seconds` (the nearest are 0.2s and 0.3s)"),
        "{stderr}"
    );
    let stderr = errors(&yaml.replace("    threshold: 250ms\n", ""));
    assert!(stderr.contains("field `threshold`: missing"), "{stderr}");
}

#[test]
fn a_by_label_the_family_lacks_is_an_error() {
    let stderr = errors(&format!("{VALID}    by: [provider, voice]\n"));
    assert!(
        stderr.contains("objectives.yml:7: objective \"tts-availability\": field `by`: `conduit_audio_requests_total` has no label `voice`; it can be split by: provider, model"),
        "{stderr}"
    );
}

#[test]
fn objectives_split_by_model_where_the_family_can_carry_it() {
    let (code, stdout, stderr) = slo(&format!("{VALID}    by: [provider, model]\n"), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("sum by (provider, model) ("), "{stdout}");
    // The whole turn's latency is per provider only, as in the guide.
    let turns = "\
service: audio-gateway
objectives:
  - name: turns
    operation: realtime
    sli: turn_latency
    threshold: 1s
    target: 95
    by: [model]
";
    let stderr = errors(turns);
    assert!(
        stderr.contains("`conduit_audio_realtime_latency_seconds` has no label `model`; it can be split by: provider"),
        "{stderr}"
    );
}

#[test]
fn duplicate_names_are_an_error() {
    let yaml = format!(
        "{VALID}{}",
        &VALID["service: audio-gateway\nobjectives:\n".len()..]
    );
    let stderr = errors(&yaml);
    assert!(
        stderr.contains("objectives.yml:7: objective \"tts-availability\": field `name`: another objective has this name"),
        "{stderr}"
    );
}

#[test]
fn every_mistake_is_reported_at_once() {
    let yaml = "\
service: audio-gateway
objectives:
  - name: tts-availability
    operation: tts
    sli: availabilty
    target: 101
    windw: 30d
  - name: turns
    operation: tts
    sli: turn_latency
    threshold: 1s
    target: 95
";
    let stderr = errors(yaml);
    for expected in [
        "objectives.yml:5: objective \"tts-availability\": field `sli`: unknown SLI \"availabilty\"; did you mean \"availability\"?",
        "objectives.yml:6: objective \"tts-availability\": field `target`: 101 is out of range",
        "objectives.yml:7: objective \"tts-availability\": unknown field `windw`; did you mean `window`?",
        "objectives.yml:9: objective \"turns\": field `operation`: turn_latency is measured on realtime sessions",
        "4 mistakes in",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
}

#[test]
fn broken_yaml_and_bad_usage_fail_cleanly() {
    let stderr = errors("service: a\nobjectives: [\n");
    assert!(stderr.contains("not valid YAML"), "{stderr}");
    let output = run(&["slo"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: conduit-metrics slo"));
    let output = run(&["slo", "/no/such/file.yml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read /no/such/file.yml"));
}

#[test]
fn a_native_objective_takes_any_threshold_and_reads_histogram_fraction() {
    let yaml = "\
service: audio-gateway
objectives:
  - name: tts-first-byte
    operation: tts
    sli: time_to_first_byte
    histogram: native
    target: 95
    threshold: 250ms
";
    let (code, rules, stderr) = slo(yaml, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // Good events under 0.25 s, from the native series of the operation, every replica
    // summed first; no classic bucket is read.
    assert!(
        rules.contains("(1 - histogram_fraction(-Inf, 0.25, sum (rate(conduit_audio_time_to_first_byte_seconds{operation=\"tts\"}[5m]))))\n          and\n          (histogram_count(sum (rate(conduit_audio_time_to_first_byte_seconds{operation=\"tts\"}[5m]))) > 0)"),
        "{rules}"
    );
    assert!(
        rules.contains("histogram_count(sum (increase(conduit_audio_time_to_first_byte_seconds{operation=\"tts\"}[1h]))) * (1 - histogram_fraction(-Inf, 0.25, sum (increase(conduit_audio_time_to_first_byte_seconds{operation=\"tts\"}[1h])))) >= 3"),
        "{rules}"
    );
    assert!(!rules.contains("_bucket"), "{rules}");
    assert!(rules.contains("--enable-feature=native-histograms"));
    // The same objective in the classic form (the default) still needs a bucket bound,
    // and says the native form would take it.
    let stderr = errors(&yaml.replace("    histogram: native\n", "    histogram: classic\n"));
    assert!(
        stderr.contains("0.25s is not a bucket bound of `conduit_audio_time_to_first_byte_seconds` (the nearest are 0.2s and 0.3s): a classic histogram can only tell calls apart at its bounds; `histogram: native` takes any threshold"),
        "{stderr}"
    );
}

#[test]
fn a_histogram_form_is_checked() {
    let stderr = errors(&VALID.replace(
        "    target: 99.5\n",
        "    target: 99.5\n    histogram: native\n",
    ));
    assert!(
        stderr.contains("field `histogram`: an availability SLI reads no histogram"),
        "{stderr}"
    );
    let stderr = errors(
        "service: audio-gateway\nobjectives:\n  - name: turns\n    operation: realtime\n    sli: turn_latency\n    histogram: natve\n    threshold: 400ms\n    target: 95\n",
    );
    assert!(
        stderr.contains("objectives.yml:6: objective \"turns\": field `histogram`: \"natve\" is not a histogram form; did you mean \"native\"?; expected classic or native"),
        "{stderr}"
    );
    // Only that mistake: the threshold is not judged against a form that is unknown.
    assert_eq!(stderr.matches("objectives.yml:").count(), 1, "{stderr}");
}
