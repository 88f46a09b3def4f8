//! Words of prose and code as the reviewer compares them: runs of letters,
//! digits and `_`, at least three characters, lowercased, without the
//! caller's list of common words. Pure.

use std::collections::BTreeSet;

/// The distinct words of `text` that are not in `common`.
pub fn content_words(text: &str, common: &[&str]) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|word| word.len() >= 3)
        .map(str::to_lowercase)
        .filter(|word| !common.contains(&word.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::content_words;

    #[test]
    fn words_are_long_lowercased_and_not_common() {
        let words = content_words("Does the buf_new() leak b->data? It leaks.", &["does"]);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        assert_eq!(words, ["buf_new", "data", "leak", "leaks", "the"]);
    }
}
