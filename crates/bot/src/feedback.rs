//! Reading replies to our reviews: what the person said (agree, disagree,
//! fixed, question) by plain heuristics over their own words (quoted text
//! and signatures are skipped), and which finding they answered (the one
//! whose text they quoted right above their words).
//!
//! Heuristics only; no model. Classification never triggers mail.

/// What a reply says about a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Agree,
    Disagree,
    Fixed,
    Question,
    /// Nothing recognisable.
    Unclear,
}

impl Class {
    /// The name printed and stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Agree => "agree",
            Class::Disagree => "disagree",
            Class::Fixed => "fixed",
            Class::Question => "question",
            Class::Unclear => "unclear",
        }
    }
}

const FIXED: &[&str] = &[
    "fixed in v",
    "will fix",
    "i'll fix",
    "i will fix",
    "fixed it",
    "fixed this",
    "fixed now",
    "fixed locally",
    "fixed that",
    "will be fixed",
    "addressed in v",
    "fix in v",
    "will send v",
    "queued a fix",
    "will respin",
    "fixed, thanks",
];
const DISAGREE: &[&str] = &[
    "false positive",
    "not a bug",
    "not an issue",
    "not a problem",
    "this is wrong",
    "that's wrong",
    "is incorrect",
    "can't happen",
    "cannot happen",
    "can never happen",
    "doesn't apply",
    "does not apply",
    "not true",
    "nonsense",
    "bogus",
    "i disagree",
    "not correct",
    "is fine as is",
    "is safe because",
    "already handled",
    "no, ",
];
const AGREE: &[&str] = &[
    "good catch",
    "nice catch",
    "you're right",
    "you are right",
    "indeed",
    "agreed",
    "i agree",
    "makes sense",
    "valid point",
    "true, ",
    "correct, ",
    "right, ",
    "thanks for catching",
    "oops",
];

/// The reply's own words: unquoted lines before the signature, without
/// attribution lines (`On ... wrote:`).
pub fn own_words(body: &str) -> String {
    let mut out = String::new();
    for line in body.lines() {
        if line == "-- " || line == "--" {
            break;
        }
        let trimmed = line.trim();
        if trimmed.starts_with('>') || (trimmed.starts_with("On ") && trimmed.ends_with("wrote:")) {
            continue;
        }
        out.push_str(trimmed);
        out.push('\n');
    }
    out
}

/// Classifies a reply body. Fixed beats disagree beats agree; a reply
/// with none of those but a question mark is a question.
pub fn classify_reply(body: &str) -> Class {
    let words = own_words(body).to_lowercase();
    let words = words.replace('’', "'");
    let has = |phrases: &[&str]| phrases.iter().any(|phrase| words.contains(phrase));
    if has(FIXED) {
        Class::Fixed
    } else if has(DISAGREE) {
        Class::Disagree
    } else if has(AGREE) {
        Class::Agree
    } else if words.contains('?') {
        Class::Question
    } else {
        Class::Unclear
    }
}

fn tokens(text: &str) -> std::collections::BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|word| word.len() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// Which of `problems` the reply answers: the one sharing most words with
/// the quoted block right above the reply's first own paragraph (at least
/// three words in common). `None` when nothing matches.
pub fn answered_finding(body: &str, problems: &[&str]) -> Option<usize> {
    let mut quoted = String::new();
    let mut block = String::new();
    for line in body.lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix('>') {
            block.push_str(rest);
            block.push('\n');
        } else {
            let attribution = trimmed.starts_with("On ") && trimmed.ends_with("wrote:");
            if !trimmed.is_empty() && !attribution && !block.is_empty() {
                quoted = std::mem::take(&mut block);
                break;
            }
        }
    }
    if quoted.is_empty() {
        quoted = block;
    }
    let quoted = tokens(&quoted);
    problems
        .iter()
        .enumerate()
        .map(|(index, problem)| (tokens(problem).intersection(&quoted).count(), index))
        .filter(|(common, _)| *common >= 3)
        .max_by_key(|(common, index)| (*common, std::cmp::Reverse(*index)))
        .map(|(_, index)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_classified_by_their_own_words() {
        let cases = [
            ("> Does this leak p?\n\nGood catch, thanks.\n", Class::Agree),
            ("> Does this leak p?\n\nFixed in v3.\n", Class::Fixed),
            (
                "> Does this leak p?\nNo, p is freed by the caller. This is a false positive.\n",
                Class::Disagree,
            ),
            (
                "> Does this leak p?\n\nWhy would it leak?\n",
                Class::Question,
            ),
            ("> You're right\n\nThanks.\n", Class::Unclear),
            (
                "On Mon, Ada wrote:\n> x\nYou are right, will fix.\n-- \nGood catch sig\n",
                Class::Fixed,
            ),
            ("Indeed, I missed the error path.\n", Class::Agree),
        ];
        for (body, expected) in cases {
            assert_eq!(classify_reply(body), expected, "{body:?}");
        }
    }

    #[test]
    fn the_quoted_finding_is_found() {
        let problems = [
            "Does this leak the buffer when io_prep fails? The early return skips kfree().",
            "Is ctx->lock held here? io_req_complete() expects it.",
        ];
        let body = "On x, Sashiko wrote:\n> +\tspin_unlock(&ctx->lock);\n>\n> Is ctx->lock held here? io_req_complete()\n> expects it.\n\nYes, the caller holds it.\n\n> Does this leak\n\nno\n";
        assert_eq!(answered_finding(body, &problems), Some(1));
        assert_eq!(answered_finding("no quotes at all\n", &problems), None);
    }
}
