//! Real audio files in every format users upload, made by Debian's `ffmpeg` from one
//! sentence spoken by `espeak-ng` and from a tone, with `ffprobe`'s duration of each: the
//! third-party oracle the audio-duration tests compare with. The test command installs
//! both programs; a missing one fails the test that needs it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The sentence every spoken file says.
pub const SENTENCE: &str =
    "The quick brown fox jumps over the lazy dog while the meter counts every second of it.";

/// One made file.
#[derive(Debug, Clone)]
pub struct AudioFile {
    /// What it is, e.g. `mp3-vbr-22k-mono`.
    pub name: &'static str,
    /// Where it is.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// `ffprobe`'s duration (`format=duration`) in seconds.
    pub ffprobe_seconds: f64,
    /// One codec frame in seconds (MP3 1152 or 576 samples, AAC 1024, Opus 20 ms, Vorbis
    /// 2048 samples; 0 for PCM and FLAC, whose lengths are exact).
    pub frame_seconds: f64,
    /// Whether its container states its length (a Xing header, `mvhd`, `Duration`, ...).
    pub states_length: bool,
}

impl AudioFile {
    /// How far a duration may be from ffprobe's: 20 ms, or one codec frame.
    pub fn tolerance(&self) -> f64 {
        self.frame_seconds.max(0.020)
    }
}

/// `(name, source, ffmpeg output arguments, extension, frame seconds, states length)`.
type Recipe = (
    &'static str,
    Source,
    &'static [&'static str],
    &'static str,
    f64,
    bool,
);

#[derive(Debug, Clone, Copy)]
enum Source {
    Speech,
    /// A 440 Hz tone of this many seconds, at 44.1 kHz.
    Tone(u32),
}

const RECIPES: &[Recipe] = &[
    (
        "wav-s16-22k-mono",
        Source::Speech,
        &["-c:a", "pcm_s16le"],
        "wav",
        0.0,
        true,
    ),
    (
        "wav-s16-48k-stereo",
        Source::Speech,
        &["-ar", "48000", "-ac", "2"],
        "wav",
        0.0,
        true,
    ),
    (
        "wav-s24-44k-stereo-extensible",
        Source::Tone(3),
        &["-ac", "2", "-c:a", "pcm_s24le"],
        "wav",
        0.0,
        true,
    ),
    (
        "wav-f32-8k-mono",
        Source::Speech,
        &["-ar", "8000", "-c:a", "pcm_f32le"],
        "wav",
        0.0,
        true,
    ),
    (
        "wav-s16-16k-6ch-rf64",
        Source::Tone(2),
        &["-ar", "16000", "-ac", "6", "-rf64", "always"],
        "wav",
        0.0,
        true,
    ),
    ("flac-22k-mono", Source::Speech, &[], "flac", 0.0, true),
    (
        "flac-48k-stereo",
        Source::Tone(4),
        &["-ar", "48000", "-ac", "2"],
        "flac",
        0.0,
        true,
    ),
    (
        "mp3-cbr-128k-44k-stereo",
        Source::Tone(5),
        &["-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"],
        "mp3",
        1152.0 / 44_100.0,
        true,
    ),
    (
        "mp3-vbr-22k-mono",
        Source::Speech,
        &["-c:a", "libmp3lame", "-q:a", "4"],
        "mp3",
        576.0 / 22_050.0,
        true,
    ),
    (
        "mp3-vbr-48k-stereo",
        Source::Tone(3),
        &[
            "-ar",
            "48000",
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-q:a",
            "2",
        ],
        "mp3",
        1152.0 / 48_000.0,
        true,
    ),
    (
        "mp3-cbr-16k-mono-no-header",
        Source::Speech,
        &[
            "-ar",
            "16000",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "32k",
            "-write_xing",
            "0",
            "-id3v2_version",
            "0",
        ],
        "mp3",
        576.0 / 16_000.0,
        false,
    ),
    (
        "ogg-vorbis-22k-mono",
        Source::Speech,
        &["-c:a", "libvorbis"],
        "ogg",
        2048.0 / 22_050.0,
        true,
    ),
    (
        "ogg-vorbis-44k-stereo",
        Source::Tone(4),
        &["-ac", "2", "-c:a", "libvorbis"],
        "ogg",
        2048.0 / 44_100.0,
        true,
    ),
    (
        "ogg-opus-mono",
        Source::Speech,
        &["-c:a", "libopus", "-b:a", "32k"],
        "opus",
        0.020,
        true,
    ),
    (
        "ogg-opus-stereo",
        Source::Tone(3),
        &["-ac", "2", "-c:a", "libopus"],
        "opus",
        0.020,
        true,
    ),
    (
        "m4a-aac-22k-mono",
        Source::Speech,
        &["-c:a", "aac"],
        "m4a",
        1024.0 / 22_050.0,
        true,
    ),
    (
        "m4a-aac-44k-stereo",
        Source::Tone(4),
        &["-ac", "2", "-c:a", "aac", "-b:a", "128k"],
        "m4a",
        1024.0 / 44_100.0,
        true,
    ),
    (
        "webm-opus-mono",
        Source::Speech,
        &["-c:a", "libopus"],
        "webm",
        0.020,
        true,
    ),
    (
        "webm-opus-stereo-48k",
        Source::Tone(3),
        &["-ac", "2", "-c:a", "libopus"],
        "webm",
        0.020,
        true,
    ),
    (
        "mka-opus-live-no-duration",
        Source::Speech,
        &["-c:a", "libopus", "-live", "1"],
        "mka",
        0.020,
        false,
    ),
];

/// Makes every file in `dir` (a fresh temporary directory) and probes it.
pub fn make_all(dir: &Path) -> Vec<AudioFile> {
    let speech = dir.join("speech.wav");
    run(Command::new("espeak-ng")
        .arg("-w")
        .arg(&speech)
        .arg(SENTENCE));
    RECIPES
        .iter()
        .map(
            |&(name, source, args, extension, frame_seconds, states_length)| {
                let path = dir.join(format!("{name}.{extension}"));
                let mut command = Command::new("ffmpeg");
                command.args(["-v", "error", "-y"]);
                match source {
                    Source::Speech => command.arg("-i").arg(&speech),
                    Source::Tone(seconds) => command.args([
                        "-f",
                        "lavfi",
                        "-i",
                        &format!("sine=frequency=440:duration={seconds}:sample_rate=44100"),
                    ]),
                };
                run(command.args(args).arg(&path));
                AudioFile {
                    name,
                    bytes: std::fs::read(&path).unwrap(),
                    ffprobe_seconds: ffprobe_seconds(&path),
                    path,
                    frame_seconds,
                    states_length,
                }
            },
        )
        .collect()
}

/// A long file for size tests: `seconds` of a tone encoded with these ffmpeg arguments.
pub fn make_tone(dir: &Path, name: &str, seconds: u32, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let tone = format!("sine=frequency=440:duration={seconds}:sample_rate=44100");
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &tone])
        .args(args)
        .arg(&path));
    path
}

/// The hostile worst case of the audio-duration tests and bench: an upload of at least
/// 100 MB of MP3 frames with no header at all (no ID3, no Xing), so every frame must be
/// counted; ten minutes of 320 kbps CBR repeated. Returns it with ffprobe's duration of
/// the whole (ten minutes' duration times the copies).
pub fn mp3_without_header_upload(dir: &Path) -> (Vec<u8>, f64) {
    let no_header = [
        "-c:a",
        "libmp3lame",
        "-b:a",
        "320k",
        "-write_xing",
        "0",
        "-id3v2_version",
        "0",
    ];
    let path = make_tone(dir, "no-header.mp3", 600, &no_header);
    let one = std::fs::read(&path).unwrap();
    let copies = (100 << 20) / one.len() + 1;
    (one.repeat(copies), ffprobe_seconds(&path) * copies as f64)
}

/// `ffprobe`'s `format=duration` of a file in seconds; for a file that states none (a
/// live Matroska stream), where ffprobe's last packet ends.
pub fn ffprobe_seconds(path: &Path) -> f64 {
    let probe = |entries: &str| {
        let output = Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", entries, "-of", "csv=p=0"])
            .arg(path)
            .output()
            .unwrap_or_else(|e| panic!("ffprobe (the test command installs ffmpeg): {e}"));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let stated = probe("format=duration");
    if let Ok(seconds) = stated.trim().parse() {
        return seconds;
    }
    probe("packet=pts_time,duration_time")
        .lines()
        .filter_map(|line| {
            let (pts, duration) = line.split_once(',')?;
            Some(pts.parse::<f64>().ok()? + duration.trim().parse::<f64>().ok()?)
        })
        .fold(None, |end: Option<f64>, packet_end| {
            Some(end.map_or(packet_end, |e| e.max(packet_end)))
        })
        .unwrap_or_else(|| {
            panic!(
                "ffprobe gave no duration for {}: {stated:?}",
                path.display()
            )
        })
}

fn run(command: &mut Command) {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().unwrap_or_else(|e| {
        panic!("{program} (the test command installs ffmpeg and espeak-ng): {e}")
    });
    assert!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
