//! Recording calls whose result arrives later than the function returns: a stream of
//! chunks (`#[audio_metric(stream)]`) or a future returned by a plain `fn`. The wrappers
//! own the call's [`ActiveCall`], so the call lasts as long as the stream or the future:
//! it ends when the stream ends or the future completes, `cancelled` when the wrapper is
//! dropped first, `panic` when polling unwinds.
//!
//! A stream dropped after an `Err` item ends with that error's status, not `cancelled`:
//! the usual consumer stops at the first error (`item?`), and the call did fail.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::call::ActiveCall;
use super::outcome::CallOutcome;
use crate::labels::{Status, UnknownDuration};

/// What a stream's chunks added up to so far: its first error's status, and the sums of
/// the per-chunk `size`, `cost` and `audio_seconds` closures.
#[derive(Debug, Clone, Copy)]
pub struct StreamTally {
    outcome: CallOutcome,
    failed: bool,
}

impl StreamTally {
    fn new(before: CallOutcome) -> Self {
        StreamTally {
            outcome: before.with_status(Status::Success),
            failed: false,
        }
    }

    /// Adds one chunk's bytes to the size observed when the stream ends.
    #[inline]
    pub fn add_size(&mut self, bytes: u64) {
        let total = self
            .outcome
            .size_so_far()
            .unwrap_or(0)
            .saturating_add(bytes);
        self.outcome = self.outcome.size(total);
    }

    /// Adds one chunk's dollars.
    #[inline]
    pub fn add_cost(&mut self, dollars: f64) {
        let total = self.outcome.cost_so_far().unwrap_or(0.0) + dollars;
        self.outcome = self.outcome.cost(total);
    }

    /// Adds one chunk's seconds of audio.
    #[inline]
    pub fn add_audio_seconds(&mut self, seconds: f64) {
        let total = self.outcome.audio_seconds_so_far().unwrap_or(0.0) + seconds;
        self.outcome = self.outcome.audio_seconds(total);
    }

    /// Adds one chunk's seconds of audio, or notes that its duration could not be read
    /// (the stream then counts once in `conduit_audio_audio_seconds_unknown_total`; the
    /// chunks that could be read still add up).
    #[inline]
    pub fn add_audio_duration<E: Into<UnknownDuration>>(&mut self, seconds: Result<f64, E>) {
        match seconds {
            Ok(seconds) => self.add_audio_seconds(seconds),
            Err(reason) => self.outcome = self.outcome.audio_seconds_unknown(reason.into()),
        }
    }

    /// The cache result of the stream: the first chunk's says it.
    #[inline]
    pub fn cache_hit(&mut self, hit: bool) {
        if !self.outcome.has_cache_hit() {
            self.outcome = self.outcome.cache_hit(hit);
        }
    }

    /// An `Err` item: the first one's status becomes the call's.
    #[inline]
    pub fn fail(&mut self, status: Status) {
        if !self.failed {
            self.failed = true;
            self.outcome = self.outcome.with_status(status);
        }
    }

    /// The outcome the call ends with if the stream ends now.
    pub fn outcome(&self) -> CallOutcome {
        self.outcome
    }
}

/// A stream item a `stream` call can classify: `Result<C, E>`.
#[diagnostic::on_unimplemented(
    message = "the items of an `#[audio_metric(stream)]` call must be `Result<C, E>`, not `{Self}`",
    label = "this stream's items are not a `Result`",
    note = "a stream of `Result<C, E>` lets each `Err` item set the call's status; wrap infallible items in `Ok`"
)]
pub trait StreamItem {
    /// The Ok value of an item (one chunk).
    type Chunk;
    /// The Err value of an item.
    type Error;
    /// The item as a chunk or an error.
    fn parts(&self) -> Result<&Self::Chunk, &Self::Error>;
}

impl<C, E> StreamItem for Result<C, E> {
    type Chunk = C;
    type Error = E;

    #[inline]
    fn parts(&self) -> Result<&C, &E> {
        self.as_ref()
    }
}

/// Finishes the call as `panic` if polling unwinds: dropped only on that path, since the
/// normal path [`disarm`](Self::disarm)s it.
struct FinishOnUnwind<'a>(&'a mut Option<ActiveCall<'static>>);

impl<'a> FinishOnUnwind<'a> {
    #[inline]
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for FinishOnUnwind<'_> {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            call.finish(Status::Panic);
        }
    }
}

pin_project! {
    /// A stream whose items are timed and classified as one call (see the module
    /// documentation). `#[audio_metric(stream)]` returns it in place of the function's
    /// stream.
    #[derive(Debug)]
    #[must_use = "a stream that is dropped at once is recorded as cancelled"]
    pub struct InstrumentedStream<S, F> {
        #[pin]
        stream: S,
        // `None` once the stream ended.
        call: Option<ActiveCall<'static>>,
        tally: StreamTally,
        observe: F,
    }

    impl<S, F> PinnedDrop for InstrumentedStream<S, F> {
        fn drop(this: Pin<&mut Self>) {
            // Ended early after an error: the error is the outcome. Otherwise the call's
            // own guard records `cancelled` (or `panic` while unwinding).
            let this = this.project();
            if this.tally.failed {
                if let Some(call) = this.call.take() {
                    call.finish_with(this.tally.outcome());
                }
            }
        }
    }
}

/// Wraps `stream` so it is recorded as `call`: `before` holds what was known before the
/// stream existed (a request size), and `observe` reads each item, as a chunk or an
/// error, into the tally. `I`, the item type, may be given where the stream's own type
/// does not fix it yet.
#[inline]
pub fn instrument_stream<I, S, F>(
    stream: S,
    call: ActiveCall<'static>,
    before: CallOutcome,
    observe: F,
) -> InstrumentedStream<S, F>
where
    I: StreamItem,
    S: Stream<Item = I>,
    F: FnMut(Result<&I::Chunk, &I::Error>, &mut StreamTally),
{
    InstrumentedStream {
        stream,
        call: Some(call),
        tally: StreamTally::new(before),
        observe,
    }
}

impl<S, F> Stream for InstrumentedStream<S, F>
where
    S: Stream,
    S::Item: StreamItem,
    F: FnMut(
        Result<&<S::Item as StreamItem>::Chunk, &<S::Item as StreamItem>::Error>,
        &mut StreamTally,
    ),
{
    type Item = S::Item;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let stream = this.stream;
        if this.call.is_none() {
            return stream.poll_next(cx);
        }
        let unwinding = FinishOnUnwind(this.call);
        let polled = stream.poll_next(cx);
        match &polled {
            Poll::Ready(Some(item)) => {
                if let Some(call) = unwinding.0.as_mut() {
                    call.mark_first_byte();
                }
                (this.observe)(item.parts(), this.tally);
            }
            Poll::Ready(None) => {
                if let Some(call) = unwinding.0.take() {
                    call.finish_with(this.tally.outcome());
                }
            }
            Poll::Pending => {}
        }
        unwinding.disarm();
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}

impl<S, F> FusedStream for InstrumentedStream<S, F>
where
    S: FusedStream,
    S::Item: StreamItem,
    F: FnMut(
        Result<&<S::Item as StreamItem>::Chunk, &<S::Item as StreamItem>::Error>,
        &mut StreamTally,
    ),
{
    fn is_terminated(&self) -> bool {
        self.stream.is_terminated()
    }
}

pin_project! {
    /// A future recorded as one call from its creation to its completion; the call's
    /// outcome comes from its output. `#[audio_metric]` returns it from a plain `fn` that
    /// returns a future.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled; one dropped at once is recorded as cancelled"]
    pub struct InstrumentedFuture<Fut, O> {
        #[pin]
        future: Fut,
        call: Option<ActiveCall<'static>>,
        outcome: Option<O>,
    }
}

/// Wraps `future` so it is recorded as `call`, ending with `outcome(&output)`.
#[inline]
pub fn instrument_future<Fut, O>(
    future: Fut,
    call: ActiveCall<'static>,
    outcome: O,
) -> InstrumentedFuture<Fut, O>
where
    Fut: Future,
    O: FnOnce(&Fut::Output) -> CallOutcome,
{
    InstrumentedFuture {
        future,
        call: Some(call),
        outcome: Some(outcome),
    }
}

impl<Fut, O> Future for InstrumentedFuture<Fut, O>
where
    Fut: Future,
    O: FnOnce(&Fut::Output) -> CallOutcome,
{
    type Output = Fut::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        let this = self.project();
        let unwinding = FinishOnUnwind(this.call);
        let polled = this.future.poll(cx);
        if let Poll::Ready(output) = &polled {
            if let (Some(call), Some(outcome)) = (unwinding.0.take(), this.outcome.take()) {
                call.finish_with(outcome(output));
            }
        }
        unwinding.disarm();
        polled
    }
}
