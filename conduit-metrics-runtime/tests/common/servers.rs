//! Real servers started by tests (Debian packages installed by the README's test command).

use std::net::SocketAddr;

use conduit_metrics_testkit::{Process, free_addr, start_pushgateway};

/// A running server, killed when dropped.
pub struct Server {
    _process: Process,
    pub addr: SocketAddr,
}

/// Starts `prometheus-pushgateway` on a free loopback port and waits until it is ready.
pub fn pushgateway() -> Server {
    let addr = free_addr();
    Server {
        _process: start_pushgateway(addr),
        addr,
    }
}
