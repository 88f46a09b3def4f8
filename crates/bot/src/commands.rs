//! Mail commands in replies to the bot or to a reviewed patch: a line
//! `#sashiko stop`, `#sashiko rerun` or `#sashiko known` (outside quoted
//! text). They are honoured only from the patch author (in-body `From:`
//! or the patch mail's sender) or a maintainer listed in the policy, and
//! only when the list server vouches for the command's sender
//! ([`crate::auth`]): a `From:` alone is forged with one line. Every
//! decision is logged by the caller.
//!
//! Parsing only: this module never acts on a command.

use sashiko_report::mailhdr::Mailbox;

/// A command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Never review or answer this series again.
    Stop,
    /// Review this version again and reply with the new review.
    Rerun,
    /// The reported problem is known (a true positive, not to be repeated).
    Known,
}

impl Command {
    /// The command word.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Stop => "stop",
            Command::Rerun => "rerun",
            Command::Known => "known",
        }
    }
}

/// Commands in `body`, in order, each once. Quoted lines (`>`) never count.
pub fn parse_commands(body: &str) -> Vec<Command> {
    let mut found = Vec::new();
    for line in body.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("#sashiko") else {
            continue;
        };
        let word = rest
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let command = match word.as_str() {
            "stop" => Command::Stop,
            "rerun" => Command::Rerun,
            "known" => Command::Known,
            _ => continue,
        };
        if !found.contains(&command) {
            found.push(command);
        }
    }
    found
}

/// Whether `sender` (already authenticated, see [`crate::auth`]) may
/// command the bot about a patch by `authors` (its real author and the
/// sender of the patch mail).
pub fn authorised(sender: &Mailbox, authors: &[Mailbox], maintainers: &[String]) -> bool {
    let key = sender.key();
    authors.iter().any(|author| author.key() == key)
        || maintainers
            .iter()
            .any(|m| Mailbox::parse(m).is_some_and(|m| m.key() == key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_found_outside_quotes() {
        let cases: [(&str, &[Command]); 6] = [
            ("#sashiko stop\n", &[Command::Stop]),
            (
                "Thanks.\n\n  #sashiko rerun please\n#sashiko known\n",
                &[Command::Rerun, Command::Known],
            ),
            ("> #sashiko stop\nno\n", &[]),
            ("#sashiko stopp\n", &[]),
            ("#SASHIKO is great\n", &[]),
            ("#sashiko stop\n#sashiko stop\n", &[Command::Stop]),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_commands(body), expected, "{body:?}");
        }
    }

    #[test]
    fn only_author_and_maintainers_command() {
        let author = Mailbox::parse("Ada <ada@example.org>").expect("address");
        let maintainers = vec!["Jens Axboe <axboe@kernel.dk>".to_string()];
        let cases = [
            ("ADA@example.org", true),
            ("axboe@kernel.dk", true),
            ("mallory@example.org", false),
        ];
        for (sender, expected) in cases {
            let sender = Mailbox::parse(sender).expect("address");
            assert_eq!(
                authorised(&sender, std::slice::from_ref(&author), &maintainers),
                expected,
                "{sender}"
            );
        }
    }
}
