//! FLAC, MP3, Ogg, MP4 and Matroska through symphonia's container readers (no decoder):
//! the header's length when the last packets are found where it says the audio ends,
//! else the end of the last packet.

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use symphonia::core::errors::Error as ReadError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::{TimeBase, Timestamp};

use super::headers::{matroska_seconds, mp3_has_length_header, mp4_presentation_seconds};
use super::{AudioDuration, AudioDurationError, AudioFormat, ReadFrom};

/// How far before the stated end the check seeks, and how short of it the last packet
/// may end (a final packet's length is not always stated).
const TAIL_SECONDS: f64 = 2.0;
const END_SLACK_SECONDS: f64 = 0.1;

pub(super) fn duration(
    audio: &[u8],
    format: AudioFormat,
) -> Result<AudioDuration, AudioDurationError> {
    guarded(format, || read(audio, format))
}

/// The readers are third-party code fed hostile bytes: a panic in one is this payload's
/// error, not the caller's.
fn guarded(
    format: AudioFormat,
    read: impl FnOnce() -> Result<AudioDuration, AudioDurationError>,
) -> Result<AudioDuration, AudioDurationError> {
    catch_unwind(AssertUnwindSafe(read)).unwrap_or_else(|_| {
        Err(AudioDurationError::malformed(
            format,
            "the container reader gave up on it",
        ))
    })
}

/// The audio track of one reader.
struct Track {
    id: u32,
    time_base: TimeBase,
    start: i64,
    /// The length the container states, in time-base ticks.
    stated: Option<u64>,
}

fn read(audio: &[u8], format: AudioFormat) -> Result<AudioDuration, AudioDurationError> {
    let mut reader = open(audio, format)?;
    let track = audio_track(reader.as_ref(), format)?;
    // Without a Xing, Info or VBRI header an MP3's length is the reader's guess from the
    // first frame's bitrate (wrong for VBR), so its frames are counted instead.
    let guessed = format == AudioFormat::Mp3 && !mp3_has_length_header(audio);
    let header_seconds = if guessed {
        None
    } else {
        match format {
            AudioFormat::Mp4 => mp4_presentation_seconds(audio),
            AudioFormat::Matroska => matroska_seconds(audio),
            _ => None,
        }
        .or_else(|| {
            track
                .stated
                .map(|ticks| ticks_to_seconds(track.time_base, ticks as i64))
        })
    };
    if let Some(seconds) = header_seconds
        && seconds.is_finite()
        && seconds >= 0.0
        && tail_reaches(reader.as_mut(), &track, seconds)
    {
        return Ok(AudioDuration {
            seconds,
            format,
            read_from: ReadFrom::Header,
        });
    }
    // No length stated, or more stated than is there: read where each packet ends.
    let mut reader = open(audio, format)?;
    let seconds = scan(reader.as_mut(), &track, format, audio.len())?;
    Ok(AudioDuration {
        seconds,
        format,
        read_from: ReadFrom::Packets,
    })
}

fn open(
    audio: &[u8],
    format: AudioFormat,
) -> Result<Box<dyn FormatReader + '_>, AudioDurationError> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(audio)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(match format {
        AudioFormat::Flac => "flac",
        AudioFormat::Mp3 => "mp3",
        AudioFormat::Ogg => "ogg",
        AudioFormat::Mp4 => "m4a",
        _ => "mka",
    });
    let options = FormatOptions::default();
    symphonia::default::get_probe()
        .probe(&hint, source, options, MetadataOptions::default())
        .map_err(|error| AudioDurationError::malformed(format, reader_problem(&error)))
}

fn audio_track(
    reader: &dyn FormatReader,
    format: AudioFormat,
) -> Result<Track, AudioDurationError> {
    let track = reader
        .default_track(TrackType::Audio)
        .or_else(|| reader.first_track(TrackType::Audio))
        .ok_or_else(|| AudioDurationError::unsupported(format, "it holds no audio track"))?;
    let time_base = track.time_base.ok_or_else(|| {
        AudioDurationError::malformed(
            format,
            "the audio track has no time base (a zero sample rate?)",
        )
    })?;
    // An MP3's stated length counts every decoded frame, as ffprobe does; the other
    // formats state only what plays (encoder delay and padding trimmed).
    let trimmed = u64::from(track.delay.unwrap_or(0)) + u64::from(track.padding.unwrap_or(0));
    let stated = match format {
        AudioFormat::Mp3 => track.num_frames.map(|frames| frames + trimmed),
        _ => track.duration.map(|d| d.get()).or(track.num_frames),
    };
    Ok(Track {
        id: track.id,
        time_base,
        start: track.start_ts.get().max(0),
        stated,
    })
}

/// Whether the track's packets go on to about `seconds`: seek to a little before it and
/// read to the end (a file cut short, or a header claiming hours over a few kilobytes,
/// fails this).
fn tail_reaches(reader: &mut dyn FormatReader, track: &Track, seconds: f64) -> bool {
    let to_ticks = |secs: f64| secs_to_ticks(track.time_base, secs);
    let stated_end = track.start.saturating_add(to_ticks(seconds));
    let from = stated_end
        .saturating_sub(to_ticks(TAIL_SECONDS))
        .max(track.start);
    let seek = SeekTo::Timestamp {
        ts: Timestamp::new(from),
        track_id: track.id,
    };
    if reader.seek(SeekMode::Coarse, seek).is_err() {
        return false;
    }
    let mut end = i64::MIN;
    // A tail of two seconds is a few hundred packets; a reader that does not advance is
    // cut off well after.
    for _ in 0..100_000 {
        match reader.next_packet() {
            Ok(Some(packet)) if packet.track_id == track.id => {
                end = end.max(packet.pts.get().saturating_add(packet.dur.get() as i64));
            }
            Ok(Some(_)) => {}
            Ok(None) => return end >= stated_end.saturating_sub(to_ticks(END_SLACK_SECONDS)),
            Err(_) => return false,
        }
    }
    false
}

/// The end of the last packet of the track, read from the start (MP3: its frames times
/// the samples of a frame, trimmed or not, as a header would state it).
fn scan(
    reader: &mut dyn FormatReader,
    track: &Track,
    format: AudioFormat,
    len: usize,
) -> Result<f64, AudioDurationError> {
    let mut end = i64::MIN;
    let mut longest = 0u64;
    let mut track_packets = 0u64;
    let mut packets = 0usize;
    // Every packet takes at least a byte of the payload: a reader that yields more has
    // stopped advancing.
    while packets <= len {
        match reader.next_packet() {
            Ok(Some(packet)) if packet.track_id == track.id => {
                packets += 1;
                end = end.max(packet.pts.get().saturating_add(packet.dur.get() as i64));
                longest = longest.max(packet.dur.get());
                track_packets += 1;
            }
            Ok(Some(_)) => packets += 1,
            Ok(None) => break,
            // A file cut short, or broken after some packets, ends where its readable
            // packets do: the audio a provider would receive.
            Err(_) if packets > 0 => break,
            Err(error) => {
                return Err(AudioDurationError::malformed(
                    format,
                    reader_problem(&error),
                ));
            }
        }
    }
    if packets > len {
        return Err(AudioDurationError::malformed(
            format,
            "more packets than bytes: the reader stopped advancing",
        ));
    }
    if end == i64::MIN {
        return Err(AudioDurationError::malformed(format, "no audio packets"));
    }
    let ticks = match format {
        // Every frame of a stream holds as many samples (1152, or 576 below 32 kHz).
        AudioFormat::Mp3 => track_packets.saturating_mul(longest) as i64,
        _ => end.saturating_sub(track.start),
    };
    Ok(ticks_to_seconds(track.time_base, ticks.max(0)))
}

fn ticks_to_seconds(time_base: TimeBase, ticks: i64) -> f64 {
    ticks as f64 * f64::from(time_base.numer.get()) / f64::from(time_base.denom.get())
}

fn secs_to_ticks(time_base: TimeBase, seconds: f64) -> i64 {
    (seconds * f64::from(time_base.denom.get()) / f64::from(time_base.numer.get())) as i64
}

fn reader_problem(error: &ReadError) -> String {
    match error {
        ReadError::IoError(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            "it ends before its header does".to_owned()
        }
        error => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_a_reader_is_the_payloads_error() {
        let error = guarded(AudioFormat::Matroska, || panic!("a reader's bug")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "malformed Matroska/WebM: the container reader gave up on it"
        );
        assert_eq!(error.reason(), crate::labels::UnknownDuration::Malformed);
    }
}
