//! CacheExpiration: a rendered body (and its gzip form, made on first demand) is reused
//! for that long, so a burst of scrapes costs one render.

use std::sync::Mutex;
#[cfg(feature = "gzip")]
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::sync::lock;

/// Produces a fresh exposition body.
pub type RenderFn = dyn Fn() -> String + Send + Sync;

struct Rendered {
    at: Instant,
    plain: Bytes,
    #[cfg(feature = "gzip")]
    gzip: OnceLock<Bytes>,
}

/// The scrape cache the endpoint uses (CacheExpiration), public for serving the
/// exposition from another HTTP server: a burst of scrapes costs one render.
///
/// ```
/// use std::time::Duration;
/// use conduit_metrics_runtime::MetricsConfig;
/// use conduit_metrics_runtime::registry::Registry;
/// use conduit_metrics_runtime::serving::ScrapeCache;
///
/// let registry: &'static Registry = Box::leak(Box::new(Registry::new(&MetricsConfig::default())));
/// let cache = ScrapeCache::new(Box::new(move || registry.render()), Duration::from_secs(10));
/// let body = cache.plain(); // rendered now
/// assert_eq!(cache.plain(), body); // reused for 10 s
/// ```
pub struct ScrapeCache {
    render: Box<RenderFn>,
    expiration: Duration,
    current: Mutex<Option<std::sync::Arc<Rendered>>>,
}

impl ScrapeCache {
    /// A cache over `render` whose bodies are reused for `expiration` (zero: never).
    pub fn new(render: Box<RenderFn>, expiration: Duration) -> Self {
        ScrapeCache {
            render,
            expiration,
            current: Mutex::new(None),
        }
    }

    /// The body, rendered now or reused. Concurrent scrapes of an expired body wait for
    /// one render instead of each rendering.
    pub fn plain(&self) -> Bytes {
        self.current().plain.clone()
    }

    /// The body, gzipped when asked (the gzip form is made once per render).
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    pub fn body(&self, gzip: bool) -> Bytes {
        let rendered = self.current();
        if gzip {
            rendered
                .gzip
                .get_or_init(|| compress(&rendered.plain))
                .clone()
        } else {
            rendered.plain.clone()
        }
    }

    fn current(&self) -> std::sync::Arc<Rendered> {
        let mut current = lock(&self.current);
        match current.as_ref() {
            Some(rendered) if rendered.at.elapsed() < self.expiration => rendered.clone(),
            _ => {
                let rendered = std::sync::Arc::new(Rendered {
                    at: Instant::now(),
                    plain: Bytes::from((self.render)()),
                    #[cfg(feature = "gzip")]
                    gzip: OnceLock::new(),
                });
                *current = Some(rendered.clone());
                rendered
            }
        }
    }
}

#[cfg(feature = "gzip")]
fn compress(plain: &[u8]) -> Bytes {
    use std::io::Write as _;

    // Level 1: scrape bodies are repetitive text; faster levels gain little size.
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(plain.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(plain);
    Bytes::from(encoder.finish().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting_cache(expiration: Duration) -> (ScrapeCache, Arc<AtomicUsize>) {
        let renders = Arc::new(AtomicUsize::new(0));
        let counter = renders.clone();
        let cache = ScrapeCache::new(
            Box::new(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                format!("render {n}\n").repeat(100)
            }),
            expiration,
        );
        (cache, renders)
    }

    #[test]
    fn one_render_per_expiration() {
        let (cache, renders) = counting_cache(Duration::from_secs(3600));
        assert_eq!(cache.plain(), cache.plain());
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        let (uncached, renders) = counting_cache(Duration::ZERO);
        assert_ne!(uncached.plain(), uncached.plain());
        assert_eq!(renders.load(Ordering::SeqCst), 2);
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn gzip_round_trips_from_the_same_render() {
        use std::io::Read as _;
        let (cache, renders) = counting_cache(Duration::from_secs(3600));
        let plain = cache.body(false);
        let gzipped = cache.body(true);
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded.as_bytes(), &plain[..]);
        assert!(gzipped.len() < plain.len() / 10);
    }
}
