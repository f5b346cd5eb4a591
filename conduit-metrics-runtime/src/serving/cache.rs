//! CacheExpiration: a rendered body (and its gzip form, made on first demand) is reused
//! for that long, so a burst of scrapes costs one render. Each exposition format has its
//! own body, rendered and expiring apart.

use std::sync::Mutex;
#[cfg(feature = "gzip")]
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::exposition::ExpositionFormat;
use crate::sync::lock;

/// Produces a fresh exposition body (text format 0.0.4).
pub type RenderFn = dyn Fn() -> String + Send + Sync;

/// Produces a fresh exposition body in the format asked for (binary for
/// [`ExpositionFormat::Protobuf`]).
pub type FormatRenderFn = dyn Fn(ExpositionFormat) -> Vec<u8> + Send + Sync;

enum Render {
    /// Text format 0.0.4 only.
    Text(Box<RenderFn>),
    /// Every format.
    Formats(Box<FormatRenderFn>),
}

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
    render: Render,
    expiration: Duration,
    /// The current body of each format: text format 0.0.4, OpenMetrics, protobuf.
    current: [Mutex<Option<std::sync::Arc<Rendered>>>; 3],
}

impl ScrapeCache {
    /// A cache over `render` (text format 0.0.4 only) whose bodies are reused for
    /// `expiration` (zero: never).
    pub fn new(render: Box<RenderFn>, expiration: Duration) -> Self {
        ScrapeCache {
            render: Render::Text(render),
            expiration,
            current: Default::default(),
        }
    }

    /// A cache over `render`, which renders every [`ExpositionFormat`]; each format's body
    /// is cached apart.
    pub fn with_formats(render: Box<FormatRenderFn>, expiration: Duration) -> Self {
        ScrapeCache {
            render: Render::Formats(render),
            expiration,
            current: Default::default(),
        }
    }

    /// The format a scraper gets when it asks for `wanted`: `wanted` if this cache renders
    /// it, else text format 0.0.4.
    pub fn format_for(&self, wanted: ExpositionFormat) -> ExpositionFormat {
        match self.render {
            Render::Formats(_) => wanted,
            Render::Text(_) => ExpositionFormat::Text,
        }
    }

    /// The text-format body, rendered now or reused. Concurrent scrapes of an expired body
    /// wait for one render instead of each rendering.
    pub fn plain(&self) -> Bytes {
        self.current(ExpositionFormat::Text).plain.clone()
    }

    /// The text-format body, gzipped when asked (the gzip form is made once per render).
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    pub fn body(&self, gzip: bool) -> Bytes {
        self.body_in(ExpositionFormat::Text, gzip)
    }

    /// The body in `format` (see [`format_for`](Self::format_for)), rendered now or reused.
    pub fn plain_in(&self, format: ExpositionFormat) -> Bytes {
        self.current(self.format_for(format)).plain.clone()
    }

    /// The body in `format`, gzipped when asked.
    #[cfg(feature = "gzip")]
    #[cfg_attr(docsrs, doc(cfg(feature = "gzip")))]
    pub fn body_in(&self, format: ExpositionFormat, gzip: bool) -> Bytes {
        let rendered = self.current(self.format_for(format));
        if gzip {
            rendered
                .gzip
                .get_or_init(|| compress(&rendered.plain))
                .clone()
        } else {
            rendered.plain.clone()
        }
    }

    fn current(&self, format: ExpositionFormat) -> std::sync::Arc<Rendered> {
        let slot = match format {
            ExpositionFormat::Text => 0,
            ExpositionFormat::OpenMetrics => 1,
            ExpositionFormat::Protobuf => 2,
        };
        let mut current = lock(&self.current[slot]);
        match current.as_ref() {
            Some(rendered) if rendered.at.elapsed() < self.expiration => rendered.clone(),
            _ => {
                let body = match &self.render {
                    Render::Text(render) => render().into_bytes(),
                    Render::Formats(render) => render(format),
                };
                let rendered = std::sync::Arc::new(Rendered {
                    at: Instant::now(),
                    plain: Bytes::from(body),
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

    #[test]
    fn each_format_has_its_own_body() {
        let renders = Arc::new(AtomicUsize::new(0));
        let counter = renders.clone();
        let cache = ScrapeCache::with_formats(
            Box::new(move |format| {
                counter.fetch_add(1, Ordering::SeqCst);
                format!("{format:?}\n").into_bytes()
            }),
            Duration::from_secs(3600),
        );
        for _ in 0..3 {
            assert_eq!(&cache.plain_in(ExpositionFormat::Text)[..], b"Text\n");
            assert_eq!(
                &cache.plain_in(ExpositionFormat::OpenMetrics)[..],
                b"OpenMetrics\n"
            );
        }
        assert_eq!(renders.load(Ordering::SeqCst), 2);
        // A text-only cache answers every scraper in text.
        let (text_only, _) = counting_cache(Duration::from_secs(3600));
        let format = text_only.format_for(ExpositionFormat::OpenMetrics);
        assert_eq!(format, ExpositionFormat::Text);
        assert_eq!(
            text_only.plain_in(ExpositionFormat::OpenMetrics),
            text_only.plain()
        );
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
