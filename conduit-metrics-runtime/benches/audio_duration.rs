//! The duration of a 10 MB upload of each format against decoding it fully, in one run
//! (`cargo bench -p conduit-metrics-runtime --features audio-duration --bench audio_duration`):
//! - `<format>/duration`: `audio_duration` of the file;
//! - `<format>/full_decode`: symphonia reading and decoding every packet of the same
//!   file (the baseline: what timing it by its samples costs). Symphonia has no Opus
//!   decoder, so the Opus files' baseline is reading every packet without decoding.
//!
//! Plus the hostile worst case the tests bound: `mp3_no_header_100mb/duration`, every
//! frame of a 100 MB MP3 without a Xing header counted. The files are made by ffmpeg
//! (which the test command installs) into a temporary directory before the run; their
//! sizes and durations go to `target/criterion/audio_duration/sizes.json` for
//! `scripts/bench_tables.py`.

use std::hint::black_box;
use std::io::Cursor;

use conduit_metrics_runtime::audio_duration::audio_duration;
use conduit_metrics_testkit::audio_files::{make_tone, mp3_without_header_upload};
use criterion::{Criterion, criterion_group, criterion_main};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// `(name, seconds of tone, ffmpeg arguments, extension)`: each about 10 MB.
const FILES: &[(&str, u32, &[&str], &str)] = &[
    ("wav_16k_mono", 320, &["-ar", "16000"], "wav"),
    (
        "flac_44k_stereo_noise",
        100,
        &["-ac", "2", "-af", "volume=1"],
        "flac",
    ),
    (
        "mp3_cbr_128k_xing",
        655,
        &["-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"],
        "mp3",
    ),
    (
        "mp3_cbr_128k_no_header",
        655,
        &[
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "128k",
            "-write_xing",
            "0",
            "-id3v2_version",
            "0",
        ],
        "mp3",
    ),
    (
        "ogg_vorbis_stereo",
        480,
        &["-ac", "2", "-c:a", "libvorbis", "-q:a", "8"],
        "ogg",
    ),
    (
        "ogg_opus_stereo",
        655,
        &["-ac", "2", "-c:a", "libopus", "-b:a", "128k"],
        "opus",
    ),
    (
        "m4a_aac_stereo",
        655,
        &["-ac", "2", "-c:a", "aac", "-b:a", "128k"],
        "m4a",
    ),
    (
        "webm_opus_stereo",
        655,
        &["-ac", "2", "-c:a", "libopus", "-b:a", "128k"],
        "webm",
    ),
];

/// Decodes every packet of the audio track (or, without a decoder, reads every packet);
/// returns the frames seen.
fn full_decode(bytes: &[u8]) -> u64 {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .unwrap();
    let track = reader.default_track(TrackType::Audio).unwrap().clone();
    let mut decoder = match &track.codec_params {
        Some(CodecParameters::Audio(params)) => symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .ok(),
        _ => None,
    };
    let mut frames = 0u64;
    while let Ok(Some(packet)) = reader.next_packet() {
        if packet.track_id != track.id {
            continue;
        }
        frames += match decoder.as_mut() {
            Some(decoder) => decoder
                .decode(&packet)
                .map_or(0, |buffer| buffer.frames() as u64),
            None => packet.dur.get(),
        };
    }
    frames
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut sizes = serde_json::Map::new();
    for &(name, seconds, args, extension) in FILES {
        // A tone compresses to almost nothing in FLAC and Vorbis: noise makes 10 MB.
        let noise = name.starts_with("flac") || name.starts_with("ogg_vorbis");
        let path = if noise {
            let path = dir.path().join(format!("{name}.{extension}"));
            let status = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
                .arg(format!("anoisesrc=d={seconds}:c=pink:r=44100:a=0.3"))
                .args(args)
                .arg(&path)
                .status()
                .unwrap();
            assert!(status.success());
            path
        } else {
            make_tone(dir.path(), &format!("{name}.{extension}"), seconds, args)
        };
        let bytes = std::fs::read(path).unwrap();
        assert!(bytes.len() > 8 << 20, "{name}: {} bytes", bytes.len());
        let seconds = audio_duration(&bytes).unwrap().seconds;
        sizes.insert(
            name.to_owned(),
            serde_json::json!({"bytes": bytes.len(), "seconds": seconds}),
        );
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.bench_function("duration", |b| {
            b.iter(|| audio_duration(black_box(&bytes)).unwrap())
        });
        group.bench_function("full_decode", |b| b.iter(|| full_decode(black_box(&bytes))));
        group.finish();
    }
    let criterion =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/audio_duration");
    std::fs::create_dir_all(&criterion).unwrap();
    std::fs::write(
        criterion.join("sizes.json"),
        serde_json::Value::Object(sizes).to_string(),
    )
    .unwrap();
    let (upload, _) = mp3_without_header_upload(dir.path());
    let mut group = c.benchmark_group("mp3_no_header_100mb");
    group.sample_size(10);
    group.bench_function("duration", |b| {
        b.iter(|| audio_duration(black_box(&upload)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
