//! Helpers shared by the test suites of the workspace (the runtime's and the
//! workspace-level ones), each kept once:
//!
//! - [`free_port`] and [`free_addr`]: ephemeral loopback ports for servers under test;
//! - [`exposition`]: a strict parser of the text format 0.0.4, independent of the
//!   runtime's writer;
//! - [`sample`] and [`value`]: one series' value in an exposition (a missing series is
//!   `None`, or a failed test, never a silent 0);
//! - [`Process`], [`spawn`] and [`wait_ready`]: real servers (Debian packages the test
//!   command installs), killed when the test ends; [`start_prometheus`] and
//!   [`start_pushgateway`] start the two the suites use, ready to serve (and
//!   [`start_alertmanager`], [`start_victoria_metrics`]);
//! - [`resident_bytes`]: this process's resident memory, whatever the page size;
//! - [`http_get`]: a blocking HTTP/1.1 GET; [`prometheus_query`]: an instant query of a
//!   real Prometheus;
//! - [`LogCapture`]: what `tracing` writes, for tests that assert on log lines;
//! - [`client`]: raw async HTTP/1.1 requests (`send`, `post`, `get`);
//! - [`requests_series`] and [`pair_series`]: the names of the series tests look up;
//! - [`audio_files`]: real audio files in every uploaded format, with ffprobe's durations.
//!
//! It depends on none of the crates it tests (only on `serde_json` and Tokio's network
//! types), so it can never hide a bug of theirs.

pub mod audio_files;
pub mod client;
pub mod exposition;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `conduit_audio_requests_total` series of one operation, provider and status.
pub fn requests_series(operation: &str, provider: &str, status: &str) -> String {
    format!(
        "conduit_audio_requests_total{{operation=\"{operation}\",provider=\"{provider}\",status=\"{status}\"}}"
    )
}

/// A series of `family` labelled by operation and provider.
pub fn pair_series(family: &str, operation: &str, provider: &str) -> String {
    format!("{family}{{operation=\"{operation}\",provider=\"{provider}\"}}")
}

/// A free loopback port (bound and released; the server binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind an ephemeral loopback port")
        .port()
}

/// `127.0.0.1` with a [`free_port`].
pub fn free_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

/// The value of the sample whose line starts with `series` (name and labels, exactly as
/// written) followed by a space, or `None` when there is no such line.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?.strip_prefix(' ')?;
        // A timestamp may follow the value.
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Like [`sample`], failing the test with the exposition when the series is missing.
pub fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no series `{series}` in:\n{text}"))
}

/// This process's resident memory in bytes, from `VmRSS` in `/proc/self/status` (given
/// in KiB, so right for any page size).
pub fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("a VmRSS line in /proc/self/status");
    kib * 1024
}

/// A blocking HTTP/1.1 `GET path` with `Connection: close`; returns (status, head, body).
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of the response head"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status code in {head:?}")))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Ok((status, head.to_owned(), body))
}

/// Decodes a `Transfer-Encoding: chunked` body (large answers, e.g. Prometheus').
fn dechunk(mut body: &str) -> std::io::Result<String> {
    let mut out = String::new();
    while let Some((size_line, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size {size_line:?}")))?;
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest
            .get(..size)
            .ok_or_else(|| std::io::Error::other("a chunk is cut short"))?;
        out.push_str(chunk);
        body = rest.get(size + 2..).unwrap_or("");
    }
    Err(std::io::Error::other("no final chunk"))
}

/// Runs `program` with `input` on its standard input; returns (exit code, stdout,
/// stderr), the code `None` when a signal ended it. Fails the test, naming the Debian
/// `package`, when the program cannot start.
pub fn run_with_input(
    program: &str,
    args: &[&str],
    input: &str,
    package: &str,
) -> (Option<i32>, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} ({e}): run the README's test command (scripts/test.sh), which installs Debian's `{package}` package"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{program} did not finish: {e}"));
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Parses an OpenMetrics exposition with Python's `prometheus_client` OpenMetrics parser
/// (Debian's `/usr/bin/python3` with `python3-prometheus-client`), an implementation
/// independent of ours: `Ok` with the number of families, or the parser's error. With
/// `exemplars_expected`, a text without any parsed exemplar is an error too.
pub fn python_openmetrics_families(text: &str, exemplars_expected: bool) -> Result<usize, String> {
    let script = format!(
        "import sys\nfrom prometheus_client.openmetrics.parser import text_string_to_metric_families as parse\nfamilies = list(parse(sys.stdin.read()))\nassert {} or any(s.exemplar for f in families for s in f.samples), 'no exemplar parsed'\nprint(len(families))\n",
        if exemplars_expected { "False" } else { "True" }
    );
    let (code, stdout, stderr) = run_with_input(
        "/usr/bin/python3",
        &["-c", &script],
        text,
        "python3-prometheus-client",
    );
    if code == Some(0) {
        stdout.trim().parse().map_err(|_| stdout)
    } else {
        Err(stderr)
    }
}

/// Decodes a body of the Prometheus protobuf format (length-delimited
/// `io.prometheus.client.MetricFamily` messages) with Google's Python protobuf runtime
/// (Debian's `python3-protobuf`), from classes `protoc` (Debian's `protobuf-compiler`)
/// generates from client_model's `metrics.proto` (the copy metrics-exporter-prometheus
/// ships in its crate): an implementation independent of ours. `Ok` with the families as
/// JSON (`json_format.MessageToDict`, proto field names; 64-bit integers as strings), or
/// the decoder's error.
pub fn python_protobuf_families(body: &[u8]) -> Result<serde_json::Value, String> {
    const SCRIPT: &str = r#"
import json, os, subprocess, sys, tempfile
from google.protobuf import json_format
from google.protobuf.internal.decoder import _DecodeVarint32
proto = sys.argv[1]
out = tempfile.mkdtemp()
subprocess.run(["protoc", "-I", os.path.dirname(proto), "-I", "/usr/include", "--python_out=" + out, proto], check=True)
sys.path.insert(0, out)
import metrics_pb2
data = sys.stdin.buffer.read()
pos, families = 0, []
while pos < len(data):
    size, pos = _DecodeVarint32(data, pos)
    if pos + size > len(data):
        raise SystemExit("a message runs past the end of the body")
    family = metrics_pb2.MetricFamily()
    family.ParseFromString(data[pos:pos + size])
    pos += size
    families.append(json_format.MessageToDict(family, preserving_proto_field_name=True))
print(json.dumps(families))
"#;
    let proto = metrics_proto().ok_or(
        "metrics.proto of metrics-exporter-prometheus 0.18 not found in the cargo registry",
    )?;
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT, &proto.display().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start /usr/bin/python3 ({e}): run the README's test command (scripts/test.sh), which installs Debian's `python3-protobuf` and `protobuf-compiler`"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(body);
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("python3 did not finish: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())
}

/// client_model's `metrics.proto`, as metrics-exporter-prometheus 0.18 ships it in the
/// cargo registry (a dependency of the runtime, so its source is always there).
fn metrics_proto() -> Option<std::path::PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))?;
    let registries = std::fs::read_dir(cargo_home.join("registry/src")).ok()?;
    let mut found: Vec<std::path::PathBuf> = registries
        .flatten()
        .flat_map(|registry| {
            std::fs::read_dir(registry.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|krate| {
            krate
                .file_name()
                .to_string_lossy()
                .starts_with("metrics-exporter-prometheus-0.18.")
        })
        .map(|krate| krate.path().join("proto/metrics.proto"))
        .filter(|proto| proto.is_file())
        .collect();
    found.sort();
    found.pop()
}

/// Percent-encodes everything but ASCII letters and digits (a query parameter).
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// One series of a Prometheus query result.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its labels, `__name__` included when Prometheus gives it.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Its value (NaN and infinities as Prometheus writes them).
    pub value: f64,
}

/// Runs an instant query on the Prometheus at `prometheus`; an `Err` when it does not
/// answer or the query fails.
pub fn prometheus_query(prometheus: SocketAddr, promql: &str) -> Result<Vec<Series>, String> {
    let (status, _, body) = http_get(
        prometheus,
        &format!("/api/v1/query?query={}", percent_encode(promql)),
    )
    .map_err(|e| e.to_string())?;
    let answer: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    if status != 200 || answer["status"] != "success" {
        return Err(format!("{promql}: HTTP {status}: {body}"));
    }
    Ok(answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|series| Series {
            labels: series["metric"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect(),
            value: series["value"][1]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN),
        })
        .collect())
}

/// Collects what a logger writes, from any thread: give `move || capture.clone()` to
/// `tracing_subscriber::fmt().with_writer(..)`, then read [`text`](Self::text).
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A child process, killed when dropped so a failing test leaves no server behind.
pub struct Process {
    /// The process.
    pub child: Child,
    /// What it is, for messages.
    pub name: &'static str,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a program with its standard error captured (shown if it dies before it is
/// ready), failing with a message naming the Debian package that provides it.
pub fn spawn(name: &'static str, command: &mut Command, package: &str) -> Process {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name} ({e}): run the README's test command (scripts/test.sh), which installs Debian's `{package}` package"));
    Process { child, name }
}

/// Polls `GET path` on `addr` until it answers 200, for at most 60 s; fails the test with
/// the process's standard error if it exits first. Blocking: from async code, call it
/// on a blocking thread when the same runtime serves anything the wait depends on.
pub fn wait_ready(process: &mut Process, addr: SocketAddr, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if matches!(http_get(addr, path), Ok((200, _, _))) {
            return;
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = process.child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!(
                "{} exited with {status} before becoming ready:\n{stderr}",
                process.name
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} on {addr} never became ready",
            process.name
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts Prometheus on `addr` with the configuration file `config`, storing its data
/// in `data`, and waits until it is ready. Blocking, like [`wait_ready`].
pub fn start_prometheus(addr: SocketAddr, config: &Path, data: &Path) -> Process {
    start_prometheus_with(addr, config, data, &[])
}

/// [`start_prometheus`] with more command-line flags (`--web.enable-remote-write-receiver`,
/// `--rules.alert.resend-delay=1s`, ...).
pub fn start_prometheus_with(
    addr: SocketAddr,
    config: &Path,
    data: &Path,
    flags: &[&str],
) -> Process {
    let mut process = spawn(
        "prometheus",
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .args(flags),
        "prometheus",
    );
    wait_ready(&mut process, addr, "/-/ready");
    process
}

/// Starts VictoriaMetrics (Debian `victoria-metrics`) on `addr`, storing in `data`, and
/// waits until it is ready. It answers PromQL at `/api/v1/query` like Prometheus and takes
/// remote write at `/api/v1/write`. Queries see samples up to now (no latency offset), so
/// a test reads what was just written. Blocking, like [`wait_ready`].
pub fn start_victoria_metrics(addr: SocketAddr, data: &Path) -> Process {
    let mut process = spawn(
        "victoria-metrics",
        Command::new("victoria-metrics")
            .arg(format!("-httpListenAddr={addr}"))
            .arg(format!("-storageDataPath={}", data.display()))
            .arg("-search.latencyOffset=0s")
            .arg("-search.disableCache"),
        "victoria-metrics",
    );
    wait_ready(&mut process, addr, "/health");
    process
}

/// Starts Alertmanager on `addr` with the configuration file `config`, storing its
/// silences and notification log in `data`, with clustering off (nothing binds beyond
/// `addr`), and waits until it is ready. Blocking, like [`wait_ready`].
pub fn start_alertmanager(addr: SocketAddr, config: &Path, data: &Path) -> Process {
    let mut process = spawn(
        "prometheus-alertmanager",
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--cluster.listen-address="),
        "prometheus-alertmanager",
    );
    wait_ready(&mut process, addr, "/-/ready");
    process
}

/// Starts a plain-HTTP Pushgateway on `addr` and waits until it is ready. Blocking, like
/// [`wait_ready`].
pub fn start_pushgateway(addr: SocketAddr) -> Process {
    let mut process = spawn(
        "prometheus-pushgateway",
        Command::new("prometheus-pushgateway").arg(format!("--web.listen-address={addr}")),
        "prometheus-pushgateway",
    );
    wait_ready(&mut process, addr, "/-/ready");
    process
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_found_exactly_or_not_at_all() {
        let text = "a_total{x=\"1\"} 3\na_total{x=\"10\"} 4 1700000000000\nb 2.5\n";
        assert_eq!(sample(text, "a_total{x=\"1\"}"), Some(3.0));
        assert_eq!(sample(text, "a_total{x=\"10\"}"), Some(4.0));
        assert_eq!(sample(text, "b"), Some(2.5));
        assert_eq!(sample(text, "a_tota"), None);
        assert_eq!(sample(text, "c"), None);
    }

    #[test]
    fn resident_memory_grows_with_touched_memory() {
        let before = resident_bytes();
        let block = vec![1u8; 64 << 20];
        let after = resident_bytes();
        assert!(std::hint::black_box(&block).iter().all(|&b| b == 1));
        assert!(
            after >= before + (48 << 20),
            "64 MiB touched, resident {before} -> {after}"
        );
    }
}
