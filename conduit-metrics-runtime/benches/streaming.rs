//! Per-chunk cost of `#[audio_metric(stream)]`, in one run, against the bare stream:
//! - `bare`: a stream of 1,000 chunks of 20 ms of 24 kHz 16-bit audio (960 bytes each),
//!   polled to its end;
//! - `stream`: the same function with `#[audio_metric(operation = "tts", stream)]`;
//! - `stream_with_closures`: with per-chunk `size` and `audio_seconds` closures too.
//!
//! Each iteration creates the stream and polls it to the end, so the call's start and
//! finish are included, spread over the 1,000 chunks. Divide a time by 1,000 for the
//! per-chunk figure; docs/performance.md gives the ratios against `bare`.

use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use conduit_metrics_runtime::audio_metric;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_core::Stream;

const CHUNKS: usize = 1_000;
static PCM: [u8; 960] = [0; 960];

/// Yields `remaining` chunks, ready at once, as a synthesizer with buffered audio does.
struct Chunks {
    remaining: usize,
}

impl Stream for Chunks {
    type Item = Result<&'static [u8], ()>;

    #[inline]
    fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.remaining -= 1;
        Poll::Ready(Some(Ok(black_box(&PCM[..]))))
    }
}

fn bare(provider: &str) -> impl Stream<Item = Result<&'static [u8], ()>> + use<> {
    black_box(provider);
    Chunks { remaining: CHUNKS }
}

#[audio_metric(operation = "tts", stream)]
fn instrumented(provider: &str) -> impl Stream<Item = Result<&'static [u8], ()>> + use<> {
    Chunks { remaining: CHUNKS }
}

#[audio_metric(
    operation = "tts",
    stream,
    size = |chunk| chunk.len(),
    audio_seconds = |chunk| chunk.len() as f64 / 48_000.0
)]
fn instrumented_with_closures(
    provider: &str,
) -> impl Stream<Item = Result<&'static [u8], ()>> + use<> {
    Chunks { remaining: CHUNKS }
}

/// Polls a stream to its end and returns the bytes seen.
#[inline]
fn drain<S: Stream<Item = Result<&'static [u8], ()>>>(stream: S) -> usize {
    let mut stream = std::pin::pin!(stream);
    let mut context = Context::from_waker(Waker::noop());
    let mut bytes = 0;
    while let Poll::Ready(Some(item)) = stream.as_mut().poll_next(&mut context) {
        bytes += item.map_or(0, <[u8]>::len);
    }
    bytes
}

fn per_chunk(c: &mut Criterion) {
    let mut group = c.benchmark_group("per_chunk");
    group.throughput(Throughput::Elements(CHUNKS as u64));
    group.bench_function("bare", |b| b.iter(|| drain(bare(black_box("elevenlabs")))));
    group.bench_function("stream", |b| {
        b.iter(|| drain(instrumented(black_box("elevenlabs"))))
    });
    group.bench_function("stream_with_closures", |b| {
        b.iter(|| drain(instrumented_with_closures(black_box("elevenlabs"))))
    });
    group.finish();
}

criterion_group!(benches, per_chunk);
criterion_main!(benches);
