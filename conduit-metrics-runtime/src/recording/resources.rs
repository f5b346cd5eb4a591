//! Held resources (open WebSocket connections, pooled streams, ...):
//! `conduit_audio_active_operations{resource="…"}` counts the guards alive now.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

use crate::labels::provider_label;
use crate::store::{Registry, global};

/// Holds one unit of a resource until dropped.
///
/// ```
/// use conduit_metrics_runtime::MetricsConfig;
/// use conduit_metrics_runtime::registry::Registry;
///
/// let registry = Registry::new(&MetricsConfig::default());
/// let socket = registry.hold_resource("websocket_connections");
/// assert!(registry.render().contains(r#"conduit_audio_active_operations{resource="websocket_connections"} 1"#));
/// drop(socket);
/// assert!(registry.render().contains(r#"conduit_audio_active_operations{resource="websocket_connections"} 0"#));
/// ```
#[derive(Debug)]
#[must_use = "the resource is released when the guard is dropped"]
pub struct ResourceGuard {
    count: Arc<AtomicI64>,
}

impl Drop for ResourceGuard {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Relaxed);
    }
}

impl Registry {
    /// Counts one unit of `resource` as held until the guard is dropped. Resource names
    /// are chosen by code, not by requests; they are cleaned like provider names.
    pub fn hold_resource(&self, resource: &str) -> ResourceGuard {
        let count = self.resource(provider_label(resource));
        count.fetch_add(1, Relaxed);
        ResourceGuard { count }
    }
}

/// Holds a resource on the [global](crate::registry::global) registry.
pub fn hold_resource(resource: &str) -> ResourceGuard {
    global().hold_resource(resource)
}
