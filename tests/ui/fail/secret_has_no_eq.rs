// Secrets compare only in constant time, inside the endpoint: `==` does not compile.
use conduit_metrics_runtime::config::Secret;

fn main() {
    let configured = Secret::new("token");
    let presented = Secret::new("token");
    let _ = configured == presented;
}
