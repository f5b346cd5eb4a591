//! The duration of an uploaded audio file, read from its container rather than guessed
//! from its size, for `audio_seconds` (feature `audio-duration`).
//!
//! ```
//! use conduit_metrics_runtime::audio_duration::{audio_duration_secs, AudioDurationError};
//!
//! // A WAV header for one second of 22,050 Hz, 16-bit mono, then its samples.
//! let mut wav = Vec::new();
//! wav.extend_from_slice(b"RIFF");
//! wav.extend_from_slice(&(36u32 + 44_100).to_le_bytes());
//! wav.extend_from_slice(b"WAVEfmt ");
//! wav.extend_from_slice(&16u32.to_le_bytes());
//! wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
//! wav.extend_from_slice(&1u16.to_le_bytes()); // mono
//! wav.extend_from_slice(&22_050u32.to_le_bytes());
//! wav.extend_from_slice(&44_100u32.to_le_bytes()); // bytes a second
//! wav.extend_from_slice(&2u16.to_le_bytes()); // bytes a frame
//! wav.extend_from_slice(&16u16.to_le_bytes());
//! wav.extend_from_slice(b"data");
//! wav.extend_from_slice(&44_100u32.to_le_bytes());
//! wav.resize(wav.len() + 44_100, 0);
//! assert_eq!(audio_duration_secs(&wav), Ok(1.0));
//!
//! // Not audio: an error that says what it starts with, never a guess.
//! let error = audio_duration_secs(b"{\"text\": \"hello\"}").unwrap_err();
//! assert!(matches!(error, AudioDurationError::UnknownFormat { .. }));
//! ```
//!
//! How each format is read, and what it costs, is in `docs/audio-duration.md`: WAV (and
//! RF64) from its `fmt ` and `data` chunks, clamped to the bytes present; FLAC, MP3 (Xing,
//! Info or VBRI header), Ogg (Vorbis, Opus, FLAC), MP4/M4A and WebM/Matroska from their
//! headers, trusted once the last packets are found where the header says the audio ends;
//! an MP3 without a header, a stream without a stated length, and a file whose header
//! claims more than is there, from the timestamps of its packets. No sample is decoded.

mod containers;
mod headers;
mod sniff;
mod wav;

use std::fmt;

use crate::labels::UnknownDuration;

/// The duration in seconds of an audio file: see [`audio_duration`].
///
/// Usable as it is in the attribute: `audio_seconds = audio_duration_secs(&audio)` adds
/// the seconds, and an `Err` counts the payload in
/// `conduit_audio_audio_seconds_unknown_total` instead.
pub fn audio_duration_secs(audio: impl AsRef<[u8]>) -> Result<f64, AudioDurationError> {
    audio_duration(audio).map(|duration| duration.seconds)
}

/// The duration of an audio file, and what it was read from.
///
/// Work and memory are bounded by the payload: nothing is copied, no sample is decoded,
/// the reader's buffers are 64 KiB and one packet, and a packet scan stops after as many
/// packets as the payload has bytes.
pub fn audio_duration(audio: impl AsRef<[u8]>) -> Result<AudioDuration, AudioDurationError> {
    let audio = audio.as_ref();
    match sniff::sniff(audio)? {
        AudioFormat::Wav => wav::duration(audio),
        format => containers::duration(audio, format),
    }
}

/// The duration of raw PCM (no header) in the stated format; a trailing partial frame
/// is not counted.
///
/// ```
/// use conduit_metrics_runtime::audio_duration::{pcm_duration_secs, PcmFormat};
/// let pcm = vec![0u8; 64_000]; // two seconds of 16 kHz, 16-bit mono
/// assert_eq!(pcm_duration_secs(&pcm, PcmFormat::new(16_000, 1, 16)), Ok(2.0));
/// ```
pub fn pcm_duration_secs(
    audio: impl AsRef<[u8]>,
    format: PcmFormat,
) -> Result<f64, AudioDurationError> {
    let malformed = |problem: &str| AudioDurationError::Malformed {
        format: AudioFormat::Pcm,
        problem: problem.to_owned(),
    };
    if format.sample_rate == 0 {
        return Err(malformed("the sample rate is 0"));
    }
    if format.channels == 0 {
        return Err(malformed("the channel count is 0"));
    }
    if format.bits_per_sample == 0 || format.bits_per_sample % 8 != 0 {
        return Err(malformed(
            "bits per sample must be a non-zero multiple of 8",
        ));
    }
    let frame_bytes = u64::from(format.channels) * u64::from(format.bits_per_sample / 8);
    let frames = audio.as_ref().len() as u64 / frame_bytes;
    Ok(frames as f64 / f64::from(format.sample_rate))
}

/// The layout of raw PCM, for [`pcm_duration_secs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmFormat {
    /// Frames a second (Hz).
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Bits of one sample of one channel (8, 16, 24, 32 or 64).
    pub bits_per_sample: u16,
}

impl PcmFormat {
    /// A PCM layout.
    pub const fn new(sample_rate: u32, channels: u16, bits_per_sample: u16) -> Self {
        PcmFormat {
            sample_rate,
            channels,
            bits_per_sample,
        }
    }
}

/// What [`audio_duration`] read.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct AudioDuration {
    /// Seconds of audio.
    pub seconds: f64,
    /// The container it was read from.
    pub format: AudioFormat,
    /// From the header, or from the packets' timestamps.
    pub read_from: ReadFrom,
}

/// Where a duration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// The container's header (checked against where its last packets end, except WAV,
    /// whose `data` chunk is measured).
    Header,
    /// The timestamps of every packet: no header says the length, or the header claims
    /// more than the payload holds.
    Packets,
}

/// The containers [`audio_duration`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AudioFormat {
    /// RIFF WAVE or RF64: PCM, float, A-law, µ-law, `WAVE_FORMAT_EXTENSIBLE` of those, or
    /// a compressed format with a `fact` sample count.
    Wav,
    /// Native FLAC.
    Flac,
    /// MPEG audio layer III (with or without ID3 tags).
    Mp3,
    /// Ogg: Vorbis, Opus or FLAC.
    Ogg,
    /// MP4 / M4A (ISO base media), e.g. AAC.
    Mp4,
    /// Matroska or WebM, e.g. Opus.
    Matroska,
    /// Raw PCM with a stated layout ([`pcm_duration_secs`]).
    Pcm,
}

impl AudioFormat {
    /// A short name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            AudioFormat::Wav => "WAV",
            AudioFormat::Flac => "FLAC",
            AudioFormat::Mp3 => "MP3",
            AudioFormat::Ogg => "Ogg",
            AudioFormat::Mp4 => "MP4",
            AudioFormat::Matroska => "Matroska/WebM",
            AudioFormat::Pcm => "PCM",
        }
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a payload has no duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AudioDurationError {
    /// Zero bytes.
    #[error("the audio payload is empty")]
    Empty,
    /// Not a container this reads.
    #[error(
        "the payload is not WAV, FLAC, MP3, Ogg, MP4/M4A or WebM/Matroska audio (it starts with {starts_with})"
    )]
    UnknownFormat {
        /// Its first bytes, in hex.
        starts_with: String,
    },
    /// A known container holding what this does not time.
    #[error("{format}: {problem}")]
    Unsupported {
        /// The container.
        format: AudioFormat,
        /// What it holds.
        problem: String,
    },
    /// A known container that is broken.
    #[error("malformed {format}: {problem}")]
    Malformed {
        /// The container.
        format: AudioFormat,
        /// What is wrong.
        problem: String,
    },
}

impl AudioDurationError {
    /// The `reason` label it counts under in `conduit_audio_audio_seconds_unknown_total`.
    pub const fn reason(&self) -> UnknownDuration {
        match self {
            AudioDurationError::Empty | AudioDurationError::UnknownFormat { .. } => {
                UnknownDuration::UnknownFormat
            }
            AudioDurationError::Unsupported { .. } => UnknownDuration::Unsupported,
            AudioDurationError::Malformed { .. } => UnknownDuration::Malformed,
        }
    }

    pub(crate) fn malformed(format: AudioFormat, problem: impl Into<String>) -> Self {
        AudioDurationError::Malformed {
            format,
            problem: problem.into(),
        }
    }

    pub(crate) fn unsupported(format: AudioFormat, problem: impl Into<String>) -> Self {
        AudioDurationError::Unsupported {
            format,
            problem: problem.into(),
        }
    }
}

impl From<AudioDurationError> for UnknownDuration {
    fn from(error: AudioDurationError) -> Self {
        error.reason()
    }
}

impl From<&AudioDurationError> for UnknownDuration {
    fn from(error: &AudioDurationError) -> Self {
        error.reason()
    }
}
