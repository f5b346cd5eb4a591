//! `conduit-metrics`: `conduit-metrics slo [--check] FILE` reads an objective file and
//! prints a Prometheus rule file on standard output (`--check` only validates). Errors go
//! to standard error, one a line with the file and line they are about; the exit status
//! is 0 on success, 1 when the file has mistakes, 2 for a usage error. Nothing is printed
//! on standard output unless the whole file is valid.

use std::process::ExitCode;

use conduit_metrics_cli::slo;

const USAGE: &str = "usage: conduit-metrics slo [--check] FILE

  slo FILE          print the Prometheus rules of the objectives in FILE
  slo --check FILE  only validate FILE";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (check, path) = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["slo", path] if !path.starts_with('-') => (false, path),
        ["slo", "--check", path] | ["slo", path, "--check"] => (true, path),
        ["--help" | "-h" | "help"] | ["slo", "--help" | "-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("conduit-metrics: cannot read {path}: {error}");
            return ExitCode::from(1);
        }
    };
    let name = std::path::Path::new(path)
        .file_name()
        .map_or(path.to_owned(), |name| name.to_string_lossy().into_owned());
    match slo::generate(&text, &name) {
        Ok(rules) => {
            if check {
                eprintln!("{path}: valid");
            } else {
                print!("{rules}");
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for error in &errors {
                eprintln!("{path}:{error}");
            }
            eprintln!(
                "conduit-metrics: {} mistake{} in {path}; no rules written",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            ExitCode::from(1)
        }
    }
}
