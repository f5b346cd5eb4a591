//! Real servers started by tests (Debian packages installed by the README's test command).

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound and released; the server binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `prometheus-pushgateway` on a free loopback port and waits until it is ready.
pub fn pushgateway() -> Server {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new("prometheus-pushgateway")
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-pushgateway must be installed: run the README's test command (scripts/test.sh), which installs Debian's `prometheus-pushgateway` package");
    let server = Server { child, addr };
    wait_ready(addr, "/-/ready");
    server
}

/// Polls `path` until it answers 200 (at most 30 s).
pub fn wait_ready(addr: SocketAddr, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(addr).is_ok() && super::get(addr, path).0 == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "server on {addr} never became ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
