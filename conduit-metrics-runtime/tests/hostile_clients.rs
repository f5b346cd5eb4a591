//! Hostile clients of the endpoint, all at once: malformed requests, huge headers,
//! slow-loris clients, hundreds of idle connections, wrong credentials in a loop and
//! requests from outside the allowlist. Meanwhile a legitimate scraper keeps getting 200
//! within its timeout, and the process's file descriptors and memory stay bounded.
//! Every loop is bounded in count and time; everything is on loopback.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use conduit_metrics_runtime::limits::{HEADER_READ_TIMEOUT, MAX_CONNECTIONS};
use conduit_metrics_runtime::registry::Registry;
use conduit_metrics_runtime::serving::EndpointServer;
use conduit_metrics_runtime::{MetricsConfig, Operation, Status};
use conduit_metrics_testkit::resident_bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const TOKEN: &str = "scraper-token-0123456789";

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// A connection from a chosen loopback source address (127.0.0.0/8 is all local).
async fn connect_from(source: &str, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().unwrap())?;
    socket.connect(server).await
}

/// One request; returns the status code, or what went wrong (no connection, or a
/// connection closed without an answer): a failure of the test wherever an answer is
/// due.
async fn exchange(source: &str, server: SocketAddr, request: &[u8]) -> Result<u16, String> {
    let mut stream = connect_from(source, server)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    // The server may answer (431) before reading all of a huge request; read the answer
    // whether or not the whole request went out.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no answer ({read:?}, {} bytes)", answer.len()))
}

fn scrape_request(token: &str) -> Vec<u8> {
    format!("GET /metrics HTTP/1.1\r\nHost: metrics\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legitimate_scraper_is_served_through_an_attack() {
    let fds = common::raise_fd_limit();
    assert!(
        fds >= 4096,
        "this test holds over a thousand sockets; the fd limit is {fds}"
    );
    let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
    for i in 0..200 {
        registry
            .start_call(Operation::Tts, &format!("provider-{}", i % 20))
            .finish(Status::Success);
    }
    let config = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .bearer_token(TOKEN)
        .allowed_networks([
            "127.0.0.1/32".parse().unwrap(),
            "127.0.0.3/32".parse().unwrap(),
        ])
        .cache_expiration(Duration::from_millis(500))
        .build()
        .unwrap();
    let server = EndpointServer::start(&config, move || registry.render()).unwrap();
    let addr = server.local_addr();
    let fds_before = open_fds();
    let memory_before = resident_bytes();

    let attacking = Arc::new(AtomicBool::new(true));
    let mut attackers = Vec::new();

    // 300 idle connections that never send a byte (from an address outside the allowlist).
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(connect_from("127.0.0.2", addr).await.unwrap());
    }
    // 20 slow-loris clients: one header byte a second. Each must be cut off by the
    // server's header timeout (5 s), long before its 30-byte head is complete.
    let mut slow_lorises = Vec::new();
    for _ in 0..20 {
        slow_lorises.push(tokio::spawn(async move {
            let mut stream = connect_from("127.0.0.1", addr).await.unwrap();
            let started = Instant::now();
            for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa"
                .iter()
                .take(30)
            {
                if stream.write_all(&[*byte]).await.is_err() {
                    return Some(started.elapsed());
                }
                let mut probe = [0u8; 64];
                // Wait a second for the next byte, watching for the server closing.
                if let Ok(read) =
                    tokio::time::timeout(Duration::from_secs(1), stream.read(&mut probe)).await
                {
                    // Closed (0), reset, or a 408 answer: cut off either way.
                    let _ = read;
                    return Some(started.elapsed());
                }
            }
            None
        }));
    }
    // Malformed requests and huge headers, in a loop.
    let refused = Arc::new(AtomicU64::new(0));
    {
        let attacking = attacking.clone();
        let refused = refused.clone();
        attackers.push(tokio::spawn(async move {
            let huge = format!(
                "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
                "a".repeat(64 * 1024)
            );
            let garbage: [&[u8]; 6] = [
                b"GARBAGE\r\n\r\n",
                b"GET\r\n\r\n",
                b"\x00\x01\x02\xff\xfe\r\n\r\n",
                b"GET /metrics HTTP/9.9\r\n\r\n",
                b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                huge.as_bytes(),
            ];
            for round in 0..300 {
                if !attacking.load(Relaxed) {
                    break;
                }
                let request = garbage[round % garbage.len()];
                let expected = if request.len() > 1024 { 431 } else { 400 };
                let status = exchange("127.0.0.1", addr, request).await;
                assert_eq!(status, Ok(expected), "malformed request {round}");
                refused.fetch_add(1, Relaxed);
            }
            0
        }));
    }
    // Wrong credentials in a loop, and requests from outside the allowlist.
    let wrong = Arc::new(AtomicU64::new(0));
    for (source, expected) in [("127.0.0.3", 401u16), ("127.0.0.2", 403)] {
        let attacking = attacking.clone();
        let wrong = wrong.clone();
        attackers.push(tokio::spawn(async move {
            for attempt in 0..400 {
                if !attacking.load(Relaxed) {
                    break;
                }
                let token = format!("guess-{attempt:06}-{}", "x".repeat(attempt % 30));
                let status = exchange(source, addr, &scrape_request(&token)).await;
                assert_eq!(status, Ok(expected), "from {source}");
                wrong.fetch_add(1, Relaxed);
            }
            0
        }));
    }

    // The legitimate scraper: every 100 ms for 8 s, each scrape within 2 s.
    let mut scrapes = 0u32;
    let mut peak_fds = 0;
    let end = Instant::now() + Duration::from_secs(8);
    while Instant::now() < end {
        let started = Instant::now();
        let status = tokio::time::timeout(
            Duration::from_secs(2),
            exchange("127.0.0.1", addr, &scrape_request(TOKEN)),
        )
        .await
        .unwrap_or_else(|_| panic!("scrape {scrapes} timed out under attack"));
        assert_eq!(status, Ok(200), "scrape {scrapes} failed under attack");
        assert!(started.elapsed() < Duration::from_secs(2));
        scrapes += 1;
        peak_fds = peak_fds.max(open_fds());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    attacking.store(false, Relaxed);
    for attacker in attackers {
        attacker.await.unwrap();
    }
    for (index, slow) in slow_lorises.into_iter().enumerate() {
        let cut_off = slow.await.unwrap();
        // Cut off by the 5 s header timeout: not before it (the client's clock starts
        // after the server's; half a second of slack), and not long after it (the probe
        // sees the close within its 1 s read, and the attack keeps the machine busy).
        let earliest = HEADER_READ_TIMEOUT - Duration::from_millis(500);
        let latest = HEADER_READ_TIMEOUT + Duration::from_secs(4);
        assert!(
            cut_off.is_some_and(|after| (earliest..=latest).contains(&after)),
            "slow-loris client {index} was cut off after {cut_off:?}; the header timeout is {HEADER_READ_TIMEOUT:?}"
        );
    }
    // Proves the loop ran for the whole attack; a busy machine may scrape less often.
    assert!(scrapes >= 10, "only {scrapes} scrapes");
    assert!(
        refused.load(Relaxed) > 50,
        "the malformed-request loop did not run"
    );
    assert!(wrong.load(Relaxed) > 100, "the credential loop did not run");

    // Idle connections were closed by the server's header timeout (5 s).
    let mut closed = 0;
    for mut stream in idle {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte)).await
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 300, "idle connections left open");

    // Bounded: our own 300 idle sockets plus the server's side of them, with headroom.
    assert!(
        peak_fds <= fds_before + 2 * 330 + 100,
        "{peak_fds} fds at peak, {fds_before} before"
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while open_fds() > fds_before + 20 {
        assert!(
            Instant::now() < deadline,
            "{} fds left open, {fds_before} before",
            open_fds()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Bounded by what the attack holds at once: 300 idle and 20 slow connections (a
    // task and a read buffer of at most 16 KiB each on the server, plus ours), not by
    // how many requests it sent.
    let growth = resident_bytes().saturating_sub(memory_before);
    assert!(growth < 16 * 1024 * 1024, "memory grew by {growth} bytes");
    server.shutdown();
}

/// More idle connections than the server serves at once (`MAX_CONNECTIONS`, 512): it
/// holds at most that many, the rest wait in the listen backlog, the header timeout frees
/// them all, and a scrape is answered afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_and_frees() {
    let fds = common::raise_fd_limit();
    assert!(
        fds >= 4096,
        "this test holds over a thousand sockets; the fd limit is {fds}"
    );
    let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
    let config = MetricsConfig::builder()
        .listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let server = EndpointServer::start(&config, move || registry.render()).unwrap();
    let addr = server.local_addr();
    let fds_before = open_fds();
    let mut idle = Vec::new();
    for _ in 0..MAX_CONNECTIONS + 100 {
        idle.push(connect_from("127.0.0.1", addr).await.unwrap());
    }
    // Let the server accept what it will.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ours = idle.len();
    let held = open_fds().saturating_sub(fds_before + ours);
    assert!(
        held <= MAX_CONNECTIONS + 8,
        "the server holds {held} connections, the cap is {MAX_CONNECTIONS}"
    );
    assert!(
        held >= MAX_CONNECTIONS / 2,
        "the server accepted only {held}"
    );
    // Every idle connection is closed by the header timeout, those in the backlog too
    // once they are accepted.
    let mut closed = 0;
    for mut stream in idle {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_secs(20), stream.read(&mut byte)).await
        {
            closed += 1;
        }
    }
    assert_eq!(closed, MAX_CONNECTIONS + 100, "idle connections left open");
    let status = exchange(
        "127.0.0.1",
        addr,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, Ok(200));
    server.shutdown();
}
