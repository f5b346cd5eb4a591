//! Recording: what the hot path does. Calls (`call`: start, finish with an outcome
//! (`outcome`), the guard that records `cancelled` and `panic`), streams and returned futures recorded as
//! one call (`stream`), realtime sessions (`session`) and their voice turns (`turn`), held resources (`resources`), and
//! costs, audio seconds, cache lookups and health checks (`costs`), and the
//! application's build (`build`). Each writes the store through its methods.

mod build;
mod call;
mod costs;
mod outcome;
mod resources;
mod session;
mod stream;
mod turn;

pub use build::record_build_info;
pub use call::{ActiveCall, CallSite, start_call, start_call_with_model};
pub use costs::{record_cache_lookup, record_cost, record_health_check};
pub use outcome::CallOutcome;
pub use resources::{ResourceGuard, hold_resource};
pub use session::{RealtimeSession, realtime_session, realtime_turn, record_realtime_latency};
pub use stream::{
    InstrumentedFuture, InstrumentedStream, StreamItem, StreamTally, instrument_future,
    instrument_stream,
};
pub use turn::Turn;
