//! WAV (RIFF WAVE and RF64), read here rather than by the container library: a WAV's
//! length is its `data` chunk, and streamed WAVs (a TTS answer written before its length
//! was known, ffmpeg writing to a pipe) state 0 or 0xFFFFFFFF there, or more than was
//! sent. The chunk is measured against the bytes present instead.

use super::{AudioDuration, AudioDurationError, AudioFormat, ReadFrom};

const PCM: u16 = 0x0001;
const IEEE_FLOAT: u16 = 0x0003;
const A_LAW: u16 = 0x0006;
const MU_LAW: u16 = 0x0007;
const EXTENSIBLE: u16 = 0xFFFE;

/// What the `fmt ` chunk says.
struct Format {
    tag: u16,
    sample_rate: u32,
    block_align: u16,
}

pub(super) fn duration(audio: &[u8]) -> Result<AudioDuration, AudioDurationError> {
    let malformed = |problem: &str| AudioDurationError::malformed(AudioFormat::Wav, problem);
    let rf64 = audio.starts_with(b"RF64");
    let mut format: Option<Format> = None;
    let mut fact_frames: Option<u64> = None;
    let mut ds64_data: Option<u64> = None;
    let mut offset = 12usize;
    // Every chunk header is 8 bytes, so the walk ends within len / 8 steps.
    while let Some(header) = audio.get(offset..offset + 8) {
        let id = &header[..4];
        let stated = u64::from(u32_at(header, 4));
        let body_start = offset + 8;
        let present = (audio.len() - body_start) as u64;
        match id {
            b"ds64" if rf64 => {
                ds64_data = audio
                    .get(body_start + 8..body_start + 16)
                    .map(|b| u64_at(b, 0))
            }
            b"fmt " => {
                let end = body_start.saturating_add(stated as usize).min(audio.len());
                format = Some(read_format(&audio[body_start..end])?);
            }
            b"fact" => {
                fact_frames = audio
                    .get(body_start..body_start + 4)
                    .map(|b| u64::from(u32_at(b, 0)))
            }
            b"data" => {
                let format =
                    format.ok_or_else(|| malformed("the data chunk comes before the fmt chunk"))?;
                let stated = match (rf64, stated) {
                    (true, 0xFFFF_FFFF) => ds64_data.unwrap_or(present),
                    // Placeholders of a WAV written as it streamed.
                    (_, 0 | 0xFFFF_FFFF) => present,
                    (_, stated) => stated,
                };
                let data_bytes = stated.min(present);
                return seconds(&format, data_bytes, fact_frames);
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        let next = body_start as u64 + stated + (stated & 1);
        offset = usize::try_from(next).unwrap_or(usize::MAX);
    }
    Err(match format {
        None => malformed("no fmt chunk (the header is cut short or is not a WAV header)"),
        Some(_) => malformed("no data chunk"),
    })
}

fn read_format(body: &[u8]) -> Result<Format, AudioDurationError> {
    let malformed = |problem: &str| AudioDurationError::malformed(AudioFormat::Wav, problem);
    if body.len() < 16 {
        return Err(malformed("the fmt chunk is shorter than 16 bytes"));
    }
    let mut tag = u16_at(body, 0);
    if tag == EXTENSIBLE {
        // The sub-format GUID starts with the format tag it stands for.
        tag = body
            .get(24..26)
            .map(|b| u16_at(b, 0))
            .ok_or_else(|| malformed("WAVE_FORMAT_EXTENSIBLE without its sub-format"))?;
    }
    let format = Format {
        tag,
        sample_rate: u32_at(body, 4),
        block_align: u16_at(body, 12),
    };
    if u16_at(body, 2) == 0 {
        return Err(malformed("the channel count is 0"));
    }
    if format.sample_rate == 0 {
        return Err(malformed("the sample rate is 0"));
    }
    if format.block_align == 0 {
        return Err(malformed("the block alignment (bytes a frame) is 0"));
    }
    Ok(format)
}

fn seconds(
    format: &Format,
    data_bytes: u64,
    fact_frames: Option<u64>,
) -> Result<AudioDuration, AudioDurationError> {
    let frames = match format.tag {
        PCM | IEEE_FLOAT | A_LAW | MU_LAW => data_bytes / u64::from(format.block_align),
        // Compressed WAV (ADPCM, GSM, MP3 in WAV) says its length in a fact chunk.
        tag => fact_frames.ok_or_else(|| {
            AudioDurationError::unsupported(
                AudioFormat::Wav,
                format!("format tag {tag:#06x} is compressed and has no fact chunk with its sample count"),
            )
        })?,
    };
    Ok(AudioDuration {
        seconds: frames as f64 / f64::from(format.sample_rate),
        format: AudioFormat::Wav,
        read_from: ReadFrom::Header,
    })
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32_at(bytes, at)) | u64::from(u32_at(bytes, at + 4)) << 32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV header: `fmt ` with this tag, rate, channels and bits, then `data` stating
    /// `stated` bytes, followed by `present` zero bytes.
    fn wav(tag: u16, rate: u32, channels: u16, bits: u16, stated: u32, present: usize) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&channels.to_le_bytes());
        fmt.extend_from_slice(&rate.to_le_bytes());
        fmt.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        fmt.extend_from_slice(&align.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        if tag == EXTENSIBLE {
            fmt.extend_from_slice(&22u16.to_le_bytes());
            fmt.extend_from_slice(&bits.to_le_bytes());
            fmt.extend_from_slice(&3u32.to_le_bytes());
            fmt.extend_from_slice(&[0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00]);
            fmt.extend_from_slice(&[0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]);
        }
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        out.extend_from_slice(&fmt);
        out.extend_from_slice(b"LIST\x03\0\0\0abc\0"); // an odd chunk, padded
        out.extend_from_slice(b"data");
        out.extend_from_slice(&stated.to_le_bytes());
        out.resize(out.len() + present, 0);
        out
    }

    fn secs(bytes: &[u8]) -> Result<f64, AudioDurationError> {
        duration(bytes).map(|d| d.seconds)
    }

    #[test]
    fn any_rate_channels_and_depth_from_the_data_chunk() {
        assert_eq!(secs(&wav(PCM, 48_000, 2, 16, 192_000, 192_000)), Ok(1.0));
        assert_eq!(secs(&wav(PCM, 22_050, 1, 16, 44_100, 44_100)), Ok(1.0));
        assert_eq!(secs(&wav(PCM, 44_100, 2, 24, 264_600, 264_600)), Ok(1.0));
        assert_eq!(
            secs(&wav(IEEE_FLOAT, 8_000, 1, 32, 16_000, 16_000)),
            Ok(0.5)
        );
        assert_eq!(
            secs(&wav(EXTENSIBLE, 48_000, 2, 24, 288_000, 288_000)),
            Ok(1.0)
        );
        assert_eq!(secs(&wav(MU_LAW, 8_000, 1, 8, 8_000, 8_000)), Ok(1.0));
    }

    #[test]
    fn a_streamed_or_overstated_length_is_measured_against_the_bytes_present() {
        assert_eq!(secs(&wav(PCM, 16_000, 1, 16, 0xFFFF_FFFF, 16_000)), Ok(0.5));
        assert_eq!(secs(&wav(PCM, 16_000, 1, 16, 0, 32_000)), Ok(1.0));
        // A header claiming 37 hours over 1 s of samples.
        assert_eq!(secs(&wav(PCM, 16_000, 1, 16, 0xFFFF_0000, 32_000)), Ok(1.0));
        // A truncated file: what is there, to the last whole frame.
        let full = wav(PCM, 16_000, 2, 16, 64_000, 64_000);
        assert_eq!(secs(&full[..full.len() - 32_003]), Ok(7_999.0 / 16_000.0));
    }

    #[test]
    fn broken_headers_are_errors_that_say_what_is_wrong() {
        let message = |bytes: &[u8]| secs(bytes).unwrap_err().to_string();
        assert_eq!(
            message(&wav(PCM, 0, 1, 16, 100, 100)),
            "malformed WAV: the sample rate is 0"
        );
        assert_eq!(
            message(&wav(PCM, 8_000, 0, 16, 100, 100)),
            "malformed WAV: the channel count is 0"
        );
        assert_eq!(
            message(&wav(PCM, 8_000, 1, 16, 100, 100)[..30]),
            "malformed WAV: the fmt chunk is shorter than 16 bytes"
        );
        assert_eq!(
            message(b"RIFF\0\0\0\0WAVE"),
            "malformed WAV: no fmt chunk (the header is cut short or is not a WAV header)"
        );
        let adpcm = wav(0x0011, 8_000, 2, 4, 100, 100);
        assert_eq!(
            message(&adpcm),
            "WAV: format tag 0x0011 is compressed and has no fact chunk with its sample count"
        );
        // A chunk claiming 4 GiB ends the walk instead of being read.
        let mut huge = b"RIFF\0\0\0\0WAVEjunk\xff\xff\xff\xff".to_vec();
        huge.resize(1_000, 0);
        assert_eq!(
            message(&huge),
            "malformed WAV: no fmt chunk (the header is cut short or is not a WAV header)"
        );
    }
}
