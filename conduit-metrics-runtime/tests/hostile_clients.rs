//! Hostile clients of the endpoint, all at once: malformed requests, huge headers,
//! slow-loris clients, hundreds of idle connections, wrong credentials in a loop and
//! requests from outside the allowlist. Meanwhile a legitimate scraper keeps getting 200
//! within its timeout, and the process's file descriptors and memory stay bounded.
//! Every loop is bounded in count and time; everything is on loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

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

/// One request; returns the status code (0 when the connection closed without one).
async fn exchange(source: &str, server: SocketAddr, request: &[u8]) -> u16 {
    let Ok(mut stream) = connect_from(source, server).await else {
        return 0;
    };
    if stream.write_all(request).await.is_err() {
        return 0;
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn scrape_request(token: &str) -> Vec<u8> {
    format!("GET /metrics HTTP/1.1\r\nHost: metrics\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legitimate_scraper_is_served_through_an_attack() {
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
    // 20 slow-loris clients: one header byte a second.
    for _ in 0..20 {
        let attacking = attacking.clone();
        attackers.push(tokio::spawn(async move {
            let Ok(mut stream) = connect_from("127.0.0.1", addr).await else {
                return 0u64;
            };
            let mut sent = 0;
            for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa"
                .iter()
                .take(30)
            {
                if !attacking.load(Relaxed) || stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                sent += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            sent
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
                let status = exchange("127.0.0.1", addr, garbage[round % garbage.len()]).await;
                assert!(
                    status == 0 || (400..500).contains(&status),
                    "malformed request got {status}"
                );
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
                assert_eq!(status, expected, "from {source}");
                wrong.fetch_add(1, Relaxed);
            }
            0
        }));
    }

    // The legitimate scraper: every 100 ms for 8 s, each scrape within 2 s.
    let mut scrapes = 0;
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
        assert_eq!(status, 200, "scrape {scrapes} failed under attack");
        assert!(started.elapsed() < Duration::from_secs(2));
        scrapes += 1;
        peak_fds = peak_fds.max(open_fds());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    attacking.store(false, Relaxed);
    for attacker in attackers {
        attacker.await.unwrap();
    }
    assert!(scrapes >= 40, "only {scrapes} scrapes");
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
    let growth = resident_bytes().saturating_sub(memory_before);
    assert!(growth < 64 * 1024 * 1024, "memory grew by {growth} bytes");
    server.shutdown();
}
