//! The closest of a list of known words to a misspelt one, for "did you mean" hints.

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely
/// misspelling (at most a third of the word's length, and at least one edit allowed).
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
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

    #[test]
    fn suggests_only_near_misses() {
        let ops = ["transcription", "tts", "translation", "realtime"];
        assert_eq!(closest("transcribtion", ops), Some("transcription"));
        assert_eq!(closest("tss", ops), Some("tts"));
        assert_eq!(closest("realtme", ops), Some("realtime"));
        assert_eq!(closest("video", ops), None);
    }
}
