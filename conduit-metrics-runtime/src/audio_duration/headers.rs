//! The lengths containers state in their headers that the container library does not
//! give back: an MP4's presentation length (`mvhd`, after its edit list, as players and
//! ffprobe report it), a Matroska segment's `Duration`, and whether an MP3 starts with a
//! Xing, Info or VBRI header (without one, its length is a guess from the bitrate).

/// Seconds an MP4's `moov/mvhd` states, if it states any (fragmented files state 0).
pub(super) fn mp4_presentation_seconds(audio: &[u8]) -> Option<f64> {
    let moov = mp4_child(audio, b"moov")?;
    let mvhd = mp4_child(moov, b"mvhd")?;
    let (timescale, duration) = match *mvhd.first()? {
        0 => (be(mvhd.get(12..16)?), be(mvhd.get(16..20)?)),
        1 => (be(mvhd.get(20..24)?), be(mvhd.get(24..32)?)),
        _ => return None,
    };
    let unknown = duration == 0 || duration == u64::from(u32::MAX) || duration == u64::MAX;
    (timescale != 0 && !unknown).then(|| duration as f64 / timescale as f64)
}

/// The body of the first box of this type among `boxes`.
fn mp4_child<'a>(mut boxes: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    // Every box header is at least 8 bytes, so the walk ends within len / 8 steps.
    while boxes.len() >= 8 {
        let (size, header) = match be(&boxes[..4]) {
            0 => (boxes.len() as u64, 8),
            1 => (be(boxes.get(8..16)?), 16),
            size => (size, 8),
        };
        if size < header as u64 {
            return None;
        }
        let end = usize::try_from(size).unwrap_or(usize::MAX).min(boxes.len());
        if &boxes[4..8] == kind {
            return boxes.get(header..end);
        }
        boxes = &boxes[end..];
    }
    None
}

/// Seconds a Matroska segment's `Info/Duration` states (WebM written live, by a browser's
/// MediaRecorder, states none).
pub(super) fn matroska_seconds(audio: &[u8]) -> Option<f64> {
    const SEGMENT: u64 = 0x1853_8067;
    const INFO: u64 = 0x1549_A966;
    const TIMESTAMP_SCALE: u64 = 0x2A_D7B1;
    const DURATION: u64 = 0x4489;
    const CLUSTER: u64 = 0x1F43_B675;
    let mut at = 0usize;
    let mut scale_ns = 1_000_000u64;
    let mut duration: Option<f64> = None;
    let mut info_end = usize::MAX;
    // Each element is at least two bytes, so the walk ends within len / 2 steps.
    while at < audio.len() {
        let (id, id_len) = ebml_id(&audio[at..])?;
        let (size, size_len) = ebml_size(audio.get(at + id_len..)?)?;
        let body = at + id_len + size_len;
        let end = size.map_or(audio.len(), |size| {
            body.saturating_add(size).min(audio.len())
        });
        match id {
            // Step into the segment and its info; skip the rest.
            SEGMENT => at = body,
            INFO => {
                info_end = end;
                at = body;
            }
            TIMESTAMP_SCALE => {
                scale_ns = be(audio.get(body..end)?);
                at = end;
            }
            DURATION => {
                let bytes = audio.get(body..end)?;
                duration = match bytes.len() {
                    4 => Some(f64::from(f32::from_be_bytes(bytes.try_into().ok()?))),
                    8 => Some(f64::from_be_bytes(bytes.try_into().ok()?)),
                    _ => None,
                };
                at = end;
            }
            CLUSTER => break,
            _ => at = end,
        }
        if at >= info_end {
            break;
        }
    }
    let seconds = duration? * scale_ns as f64 / 1e9;
    (seconds.is_finite() && seconds > 0.0).then_some(seconds)
}

/// An EBML element id (its length marker kept, as ids are written) and its length.
fn ebml_id(bytes: &[u8]) -> Option<(u64, usize)> {
    let len = bytes.first()?.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    Some((be(bytes.get(..len)?), len))
}

/// An EBML size (`None` when unknown: all value bits set) and its length.
fn ebml_size(bytes: &[u8]) -> Option<(Option<usize>, usize)> {
    let len = bytes.first()?.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let raw = be(bytes.get(..len)?);
    let value = raw & (u64::MAX >> (64 - 7 * len));
    let unknown = value == u64::MAX >> (64 - 7 * len);
    Some((
        if unknown {
            None
        } else {
            usize::try_from(value).ok()
        },
        len,
    ))
}

/// Whether the first MPEG audio frame (after any ID3v2 tag) carries a Xing, Info or VBRI
/// header, which states the stream's frame count.
pub(super) fn mp3_has_length_header(audio: &[u8]) -> bool {
    let tag = if audio.starts_with(b"ID3") {
        super::sniff::id3v2_len(audio).min(audio.len())
    } else {
        0
    };
    let start = tag
        + audio[tag..]
            .windows(2)
            .take(1 << 20)
            .position(|pair| pair[0] == 0xFF && pair[1] & 0xE0 == 0xE0)
            .unwrap_or(audio.len() - tag);
    // The tag sits within the side information of the first frame: 4 + 32 bytes at most
    // for Xing/Info, 4 + 32 for VBRI.
    let first_frame = &audio[start..audio.len().min(start + 64)];
    [b"Xing", b"Info", b"VBRI"]
        .iter()
        .any(|tag| first_frame.windows(4).any(|w| w == *tag))
}

/// A big-endian unsigned integer of up to 8 bytes.
fn be(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |n, &b| (n << 8) | u64::from(b))
}
