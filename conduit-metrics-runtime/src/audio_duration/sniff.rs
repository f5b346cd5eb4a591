//! Which container a payload is, from its first bytes.

use super::{AudioDurationError, AudioFormat};

/// The container of `audio`, or why it is none this reads.
pub(super) fn sniff(audio: &[u8]) -> Result<AudioFormat, AudioDurationError> {
    if audio.is_empty() {
        return Err(AudioDurationError::Empty);
    }
    let at = |offset: usize, magic: &[u8]| audio.get(offset..offset + magic.len()) == Some(magic);
    if (at(0, b"RIFF") || at(0, b"RF64")) && at(8, b"WAVE") {
        return Ok(AudioFormat::Wav);
    }
    if at(0, b"fLaC") {
        return Ok(AudioFormat::Flac);
    }
    if at(0, b"OggS") {
        return Ok(AudioFormat::Ogg);
    }
    if at(4, b"ftyp") {
        return Ok(AudioFormat::Mp4);
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Ok(AudioFormat::Matroska);
    }
    if at(0, b"ID3") {
        // An ID3v2 tag, then FLAC or (most often) MPEG audio.
        return Ok(match audio.get(id3v2_len(audio)..) {
            Some(rest) if rest.starts_with(b"fLaC") => AudioFormat::Flac,
            _ => AudioFormat::Mp3,
        });
    }
    if let [0xFF, second, ..] = *audio
        && second & 0xE0 == 0xE0
    {
        // Layer bits 00 are ADTS: AAC frames with no container around them.
        if second & 0x06 == 0 {
            return Err(AudioDurationError::unsupported(
                AudioFormat::Mp4,
                "raw AAC (ADTS) frames without a container; send them in M4A",
            ));
        }
        return Ok(AudioFormat::Mp3);
    }
    let starts_with = audio
        .iter()
        .take(8)
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    Err(AudioDurationError::UnknownFormat { starts_with })
}

/// The length of the ID3v2 tag at the start (its header, body and footer).
pub(super) fn id3v2_len(audio: &[u8]) -> usize {
    let Some(header) = audio.get(..10) else {
        return audio.len();
    };
    let body = header[6..10]
        .iter()
        .fold(0usize, |len, &byte| (len << 7) | usize::from(byte & 0x7F));
    let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
    10 + body + footer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_container_is_known_by_its_first_bytes() {
        let cases: [(&[u8], AudioFormat); 7] = [
            (b"RIFF\0\0\0\0WAVEfmt ", AudioFormat::Wav),
            (b"RF64\xff\xff\xff\xffWAVEds64", AudioFormat::Wav),
            (b"fLaC\0\0\0\x22", AudioFormat::Flac),
            (b"OggS\0\x02", AudioFormat::Ogg),
            (b"\0\0\0\x20ftypM4A ", AudioFormat::Mp4),
            (b"\x1a\x45\xdf\xa3\x9f", AudioFormat::Matroska),
            (b"\xff\xfb\x90\x64", AudioFormat::Mp3),
        ];
        for (bytes, format) in cases {
            assert_eq!(sniff(bytes), Ok(format), "{bytes:?}");
        }
        let id3_then_flac = [b"ID3\x04\0\0\0\0\0\x02".as_slice(), b"..", b"fLaC"].concat();
        assert_eq!(sniff(&id3_then_flac), Ok(AudioFormat::Flac));
        assert_eq!(
            sniff(b"ID3\x04\0\0\0\0\0\x00\xff\xfb"),
            Ok(AudioFormat::Mp3)
        );
    }

    #[test]
    fn what_is_not_audio_is_named_by_its_first_bytes() {
        assert_eq!(sniff(b""), Err(AudioDurationError::Empty));
        assert_eq!(
            sniff(b"RIFF\0\0\0\0AVI LIST").unwrap_err().to_string(),
            "the payload is not WAV, FLAC, MP3, Ogg, MP4/M4A or WebM/Matroska audio (it starts with 52 49 46 46 00 00 00 00)"
        );
        let adts = sniff(b"\xff\xf1\x50\x80").unwrap_err();
        assert!(adts.to_string().contains("ADTS"), "{adts}");
    }
}
