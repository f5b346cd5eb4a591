//! The protobuf wire encoding, as much of it as `io.prometheus.client` and OTLP messages
//! need: varints, zigzag, fixed64, doubles, strings, bytes and length-delimited nested
//! messages. Write-only,
//! straight into the body (no message structs, no `protoc`). A nested message gets a
//! one-byte length placeholder, widened in place when it turns out longer than 127 bytes.

/// Wire type of varints.
const VARINT: u32 = 0;
/// Wire type of doubles.
const FIXED64: u32 = 1;
/// Wire type of strings, nested messages and packed repeated fields.
const LEN: u32 = 2;

pub(super) fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire_type: u32) {
    varint(out, u64::from(field << 3 | wire_type));
}

pub(super) fn uint64(out: &mut Vec<u8>, field: u32, value: u64) {
    key(out, field, VARINT);
    varint(out, value);
}

#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(super) fn int64(out: &mut Vec<u8>, field: u32, value: i64) {
    key(out, field, VARINT);
    varint(out, value as u64);
}

pub(super) fn sint(out: &mut Vec<u8>, field: u32, value: i64) {
    key(out, field, VARINT);
    varint(out, zigzag(value));
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub(super) fn double(out: &mut Vec<u8>, field: u32, value: f64) {
    key(out, field, FIXED64);
    out.extend_from_slice(&value.to_le_bytes());
}

pub(super) fn string(out: &mut Vec<u8>, field: u32, value: &str) {
    bytes(out, field, value.as_bytes());
}

#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(super) fn bytes(out: &mut Vec<u8>, field: u32, value: &[u8]) {
    key(out, field, LEN);
    varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// A `fixed64` (or `sfixed64`, as its two's complement bits).
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(super) fn fixed64(out: &mut Vec<u8>, field: u32, value: u64) {
    key(out, field, FIXED64);
    out.extend_from_slice(&value.to_le_bytes());
}

/// A packed `repeated fixed64` field.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(super) fn packed_fixed64(out: &mut Vec<u8>, field: u32, values: impl Iterator<Item = u64>) {
    let start = begin(out, field);
    for value in values {
        out.extend_from_slice(&value.to_le_bytes());
    }
    end(out, start);
}

/// A packed `repeated double` field.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(super) fn packed_double(out: &mut Vec<u8>, field: u32, values: impl Iterator<Item = f64>) {
    let start = begin(out, field);
    for value in values {
        out.extend_from_slice(&value.to_le_bytes());
    }
    end(out, start);
}

/// A packed `repeated uint64` field.
#[cfg_attr(not(feature = "otlp"), allow(dead_code))]
pub(super) fn packed_uint64(out: &mut Vec<u8>, field: u32, values: impl Iterator<Item = u64>) {
    let start = begin(out, field);
    for value in values {
        varint(out, value);
    }
    end(out, start);
}

/// Starts a nested message (or packed field) in `field`; close it with [`end`].
pub(super) fn begin(out: &mut Vec<u8>, field: u32) -> usize {
    key(out, field, LEN);
    begin_delimited(out)
}

/// Starts a length-prefixed message without a field key (a top-level `MetricFamily` of
/// the delimited format); close it with [`end`].
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(super) fn begin_delimited(out: &mut Vec<u8>) -> usize {
    out.push(0);
    out.len()
}

/// Closes the message that [`begin`] or [`begin_delimited`] started at `start`.
pub(super) fn end(out: &mut Vec<u8>, start: usize) {
    let len = out.len() - start;
    if len < 0x80 {
        out[start - 1] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(4);
        varint(&mut prefix, len as u64);
        out.splice(start - 1..start, prefix);
    }
}

/// A packed `repeated sint64` field.
#[cfg_attr(not(feature = "protobuf"), allow(dead_code))]
pub(super) fn packed_sint(out: &mut Vec<u8>, field: u32, values: impl Iterator<Item = i64>) {
    let start = begin(out, field);
    for value in values {
        varint(out, zigzag(value));
    }
    end(out, start);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_the_protobuf_examples() {
        // From the protobuf encoding guide: 150 in field 1 is 08 96 01.
        let mut out = Vec::new();
        uint64(&mut out, 1, 150);
        assert_eq!(out, [0x08, 0x96, 0x01]);
        assert_eq!([0, -1, 1, -2, i64::MIN].map(zigzag), [0, 1, 2, 3, u64::MAX]);
        let mut out = Vec::new();
        string(&mut out, 2, "testing");
        assert_eq!(out, b"\x12\x07testing");
    }

    #[test]
    fn long_nested_messages_get_a_wider_length() {
        for len in [0usize, 1, 127, 128, 300, 20_000] {
            let mut out = vec![0xAA];
            let start = begin(&mut out, 3);
            out.extend(std::iter::repeat_n(7u8, len));
            end(&mut out, start);
            let mut expected = vec![0xAA, 3 << 3 | 2];
            varint(&mut expected, len as u64);
            expected.extend(std::iter::repeat_n(7u8, len));
            assert_eq!(out, expected, "{len}");
        }
    }
}
