//! Voice turns: where a conversation's latency goes. A [`Turn`] of a realtime session
//! keeps the moments of its marks (user speech ended, end of turn, final transcript,
//! response started, agent audio started) and, when it ends, records the stages between
//! them, the whole turn and its outcome. A mark is one clock read and a store: no lock,
//! no allocation, no atomic.

use crate::clock::TurnStamp;
use crate::labels::{TurnOutcome, TurnStage};
use crate::store::{ModelId, ProviderSeries, Registry};
#[cfg(feature = "opentelemetry")]
use crate::trace::TraceRef;

/// The marks of a turn, in the order they happen.
const MARKS: usize = 5;
const USER_SPEECH_ENDED: usize = 0;
const END_OF_TURN: usize = 1;
const TRANSCRIPT_FINAL: usize = 2;
const RESPONSE_STARTED: usize = 3;
const AGENT_AUDIO_STARTED: usize = 4;

/// One turn of a realtime session, from the user's last word to the agent's first audio.
///
/// Each stage is timed from the latest earlier mark that was made, so a pipeline without
/// a transcript (a speech-to-speech model) times its response from the end of turn. A
/// mark made a second time, or after a later mark, is ignored. Dropping the turn (or
/// [`end`](Turn::end)) records it: each stage in `conduit_audio_turn_stage_seconds`, the
/// whole turn (first mark to agent audio) in `conduit_audio_realtime_latency_seconds`, and
/// one count of its outcome in `conduit_audio_turns_total`. The turn borrows its session,
/// so a session cannot end with a turn open.
///
/// ```
/// use conduit_metrics_runtime::MetricsConfig;
/// use conduit_metrics_runtime::registry::Registry;
///
/// let registry = Registry::new(&MetricsConfig::default());
/// let session = registry.realtime_session("openai");
/// let mut turn = session.turn();
/// turn.user_speech_ended();
/// turn.end_of_turn();
/// turn.transcript_final();
/// turn.response_started();
/// turn.agent_audio_started();
/// turn.end();
/// let text = registry.render();
/// assert!(text.contains(r#"conduit_audio_turns_total{provider="openai",outcome="answered"} 1"#));
/// assert!(text.contains(r#"conduit_audio_turn_stage_seconds_count{provider="openai",stage="synthesis"} 1"#));
/// assert!(text.contains(r#"conduit_audio_realtime_latency_seconds_count{provider="openai"} 1"#));
/// ```
#[derive(Debug)]
#[must_use = "a turn records its stages when it is dropped or ended"]
pub struct Turn<'s> {
    registry: &'s Registry,
    /// The provider's series: the whole turn goes to its `realtime_latency_seconds`.
    series: &'s ProviderSeries,
    /// The model its stages and outcome carry (`unknown` while the label is off).
    model: ModelId,
    /// The moment of each mark, `None` until it is made.
    marks: [Option<TurnStamp>; MARKS],
    /// The latest mark made, so an earlier one made after it is ignored.
    latest: Option<usize>,
    interrupted: bool,
    ended: bool,
    #[cfg(feature = "opentelemetry")]
    trace: Option<TraceRef>,
}

impl<'s> Turn<'s> {
    pub(crate) fn start(
        registry: &'s Registry,
        series: &'s ProviderSeries,
        model: ModelId,
    ) -> Self {
        Turn {
            registry,
            series,
            model,
            marks: [None; MARKS],
            latest: None,
            interrupted: false,
            ended: false,
            #[cfg(feature = "opentelemetry")]
            trace: crate::trace::current_trace(),
        }
    }

    /// The model serving this turn, for the `model` label of its stages and outcome
    /// (when `ModelLabel` is on; otherwise ignored). A session's turns already carry the
    /// session's model ([`RealtimeSession::with_model`](crate::RealtimeSession::with_model)).
    pub fn with_model(mut self, model: &str) -> Self {
        self.model = self.registry.model(model);
        self
    }

    /// Voice activity ended: the user stopped speaking (t0).
    #[inline]
    pub fn user_speech_ended(&mut self) {
        self.mark(USER_SPEECH_ENDED);
    }

    /// The turn detector decided the user is done (t1; stage `end_of_turn` = t1 − t0).
    #[inline]
    pub fn end_of_turn(&mut self) {
        self.mark(END_OF_TURN);
    }

    /// The final transcript is ready (t2; stage `transcription`).
    #[inline]
    pub fn transcript_final(&mut self) {
        self.mark(TRANSCRIPT_FINAL);
    }

    /// The response model produced its first token or output (t3; stage `response`).
    #[inline]
    pub fn response_started(&mut self) {
        self.mark(RESPONSE_STARTED);
    }

    /// The first frame of the agent's audio was sent to the user (t4; stage `synthesis`,
    /// and the end of the whole turn).
    #[inline]
    pub fn agent_audio_started(&mut self) {
        self.mark(AGENT_AUDIO_STARTED);
    }

    /// The user spoke over the agent's audio (barge-in): the turn's outcome is
    /// `interrupted`.
    #[inline]
    pub fn interrupted(&mut self) {
        self.interrupted = true;
    }

    /// Ends the turn now (as dropping it does).
    pub fn end(mut self) {
        self.record();
    }

    #[inline]
    fn mark(&mut self, mark: usize) {
        if self.marks[mark].is_none() && self.latest.is_none_or(|latest| latest < mark) {
            self.marks[mark] = Some(self.registry.turn_stamp());
            self.latest = Some(mark);
        }
    }

    fn outcome(&self) -> TurnOutcome {
        if self.interrupted {
            TurnOutcome::Interrupted
        } else if self.marks[AGENT_AUDIO_STARTED].is_some() {
            TurnOutcome::Answered
        } else {
            TurnOutcome::Abandoned
        }
    }

    fn record(&mut self) {
        self.ended = true;
        let native = self.registry.native_schema();
        let turns = self.series.turns(self.model);
        let turn_cells = turns.local();
        let mut previous: Option<TurnStamp> = None;
        for (mark, stamp) in self.marks.iter().enumerate() {
            let Some(stamp) = *stamp else {
                continue;
            };
            if let (Some(from), Some(stage)) = (previous, stage_ending_at(mark)) {
                let nanos = self.registry.turn_nanos(from, stamp);
                turn_cells.observe_stage(stage, nanos, native);
                #[cfg(feature = "opentelemetry")]
                if let Some(trace) = self.trace {
                    turns.record_stage_exemplar(stage, trace, nanos);
                }
            }
            previous = Some(stamp);
        }
        // The whole turn, from its first mark to the agent's audio, when both were made.
        let first = self.marks[..AGENT_AUDIO_STARTED].iter().flatten().next();
        if let (Some(&first), Some(last)) = (first, self.marks[AGENT_AUDIO_STARTED]) {
            let nanos = self.registry.turn_nanos(first, last);
            let realtime = self.series.realtime();
            realtime.local().observe_latency(nanos, native);
            #[cfg(feature = "opentelemetry")]
            if let Some(trace) = self.trace {
                realtime.record_latency_exemplar(trace, nanos);
            }
        }
        turn_cells.count_turn(self.outcome());
    }
}

/// The stage a mark ends (`None` for the first mark, which ends none).
fn stage_ending_at(mark: usize) -> Option<TurnStage> {
    match mark {
        END_OF_TURN => Some(TurnStage::EndOfTurn),
        TRANSCRIPT_FINAL => Some(TurnStage::Transcription),
        RESPONSE_STARTED => Some(TurnStage::Response),
        AGENT_AUDIO_STARTED => Some(TurnStage::Synthesis),
        _ => None,
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.record();
        }
    }
}
