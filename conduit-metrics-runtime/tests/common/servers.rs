//! Real servers started by tests (Debian packages installed by the README's test command).

use std::net::SocketAddr;
use std::process::Command;

use conduit_metrics_testkit::{Process, free_addr, spawn, wait_ready};

/// A running server, killed when dropped.
pub struct Server {
    _process: Process,
    pub addr: SocketAddr,
}

/// Starts `prometheus-pushgateway` on a free loopback port and waits until it is ready.
pub fn pushgateway() -> Server {
    let addr = free_addr();
    let mut process = spawn(
        "prometheus-pushgateway",
        Command::new("prometheus-pushgateway").arg(format!("--web.listen-address={addr}")),
        "prometheus-pushgateway",
    );
    wait_ready(&mut process, addr, "/-/ready");
    Server {
        _process: process,
        addr,
    }
}
