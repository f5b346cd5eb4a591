//! "Did you mean" suggestions for misspelt keys and values.

/// The candidate closest to `written` by edit distance, if it is close enough to be a
/// plausible typo (at most a third of the word, and at least 2 edits allowed) or the
/// word is a prefix of it (`transcribe` for `transcription`).
pub(crate) fn closest<'a>(written: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let written = written.to_ascii_lowercase();
    candidates
        .iter()
        .map(|candidate| (edit_distance(&written, candidate), *candidate))
        .filter(|(distance, candidate)| {
            *distance <= (candidate.len() / 3).max(2)
                || (written.len() >= 3 && candidate.starts_with(&written[..written.len().min(6)]))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPS: [&str; 4] = ["transcription", "tts", "translation", "realtime"];

    #[test]
    fn typos_get_the_closest_candidate() {
        assert_eq!(closest("transcribe", &OPS), Some("transcription"));
        assert_eq!(closest("transcripton", &OPS), Some("transcription"));
        assert_eq!(closest("tss", &OPS), Some("tts"));
        assert_eq!(closest("real-time", &OPS), Some("realtime"));
        assert_eq!(closest("translate", &OPS), Some("translation"));
        assert_eq!(closest("banana", &OPS), None);
    }
}
