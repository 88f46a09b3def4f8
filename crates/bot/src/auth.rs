//! Whether the list server vouches for the sender of a mail command.
//!
//! A `From:` header is whatever the sender typed, so it cannot authorise
//! anything. What a sender cannot write is the verdict the list server
//! adds when the mail arrives: the server checks DKIM/SPF/DMARC against
//! the sending domain's DNS and records the result in an ARC set
//! (`ARC-Authentication-Results: i=N; <authserv-id>; dmarc=pass
//! header.from=example.org ...`, RFC 8617), prepended above everything the
//! sender wrote. kernel.org's list server (`smtp.subspace.kernel.org`)
//! seals every list mail this way, and lore/NNTP/public-inbox keep the
//! headers as the list delivered them.
//!
//! The rule, per list, with the authserv-ids the operator trusts
//! (`command_authserv_ids` in the policy):
//!
//! 1. the topmost `ARC-Authentication-Results` header carries the highest
//!    instance number, exactly once, and a trusted authserv-id: a sender
//!    can add sets of their own, but only *below* the server's, and a
//!    sender's set with a higher number than the server's would have made
//!    the server seal on top of it (or, past the limit of 50, record
//!    `arc=fail`, checked next);
//! 2. no `Authentication-Results` header of a trusted server above it says
//!    `arc=fail`;
//! 3. it says `dmarc=pass header.from=D` or `dkim=pass header.d=D`, where D
//!    is the domain of the command's `From:`.
//!
//! This authenticates the sending *domain*; that a user of that domain
//! cannot send as another is the domain's own rule (it holds for the mail
//! providers and company domains developers use). Nothing is verified
//! cryptographically here: the bot trusts the list server's verdict and
//! the archive's copy of it, which is why the ids to trust are configured
//! per list and none is trusted by default. A Message-ID chain proves
//! nothing on a public list (every id is public), so it is not used.
//!
//! Pure: reads header text only.

use sashiko_report::mailhdr::Mailbox;

/// Why a command's sender is not taken as authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotAuthenticated(pub String);

impl std::fmt::Display for NotAuthenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The unfolded header fields of `raw`, in order (name, value).
fn header_fields(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    fields
}

/// One `ARC-Authentication-Results` (with its instance) or
/// `Authentication-Results` value, split.
#[derive(Debug)]
struct Results<'a> {
    instance: Option<u32>,
    authserv_id: &'a str,
    /// `method=result` clauses with their properties, e.g.
    /// `dmarc=pass (p=none) header.from=example.org`.
    clauses: Vec<&'a str>,
}

fn parse_results(value: &str, arc: bool) -> Option<Results<'_>> {
    let mut parts = value.split(';').map(str::trim);
    let mut instance = None;
    if arc {
        let tag = parts.next()?;
        let number = tag.strip_prefix("i=").or_else(|| tag.strip_prefix("i ="))?;
        instance = Some(number.trim().parse().ok()?);
    }
    // The authserv-id may carry a version after a space.
    let authserv_id = parts.next()?.split_whitespace().next()?;
    Some(Results {
        instance,
        authserv_id,
        clauses: parts.filter(|p| !p.is_empty()).collect(),
    })
}

/// The value of `property` (`header.from`) in a clause, comments skipped.
fn property<'a>(clause: &'a str, property: &str) -> Option<&'a str> {
    clause.split_whitespace().find_map(|word| {
        let (name, value) = word.split_once('=')?;
        name.eq_ignore_ascii_case(property)
            .then(|| value.trim_matches(['"', ';']))
    })
}

fn method_result(clause: &str) -> Option<(String, String)> {
    let first = clause.split_whitespace().next()?;
    let (method, result) = first.split_once('=')?;
    Some((method.to_ascii_lowercase(), result.to_ascii_lowercase()))
}

fn is_trusted(authserv_id: &str, trusted: &[String]) -> bool {
    trusted
        .iter()
        .any(|id| !id.is_empty() && id.eq_ignore_ascii_case(authserv_id))
}

/// Checks that a trusted list server vouches for `from` on the mail whose
/// raw bytes (or just its header) are `raw`.
pub fn list_server_vouches(
    raw: &[u8],
    from: &Mailbox,
    trusted: &[String],
) -> Result<(), NotAuthenticated> {
    let refuse = |why: String| Err(NotAuthenticated(why));
    if trusted.iter().all(String::is_empty) {
        return refuse(
            "no list server is trusted to authenticate senders (policy: command_authserv_ids)"
                .into(),
        );
    }
    let fields = header_fields(raw);
    let arc: Vec<(usize, Results<'_>)> = fields
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| name == "arc-authentication-results")
        .filter_map(|(position, (_, value))| Some((position, parse_results(value, true)?)))
        .collect();
    let Some((top_position, top)) = arc.first() else {
        return refuse(
            "the mail carries no ARC-Authentication-Results from the list server".into(),
        );
    };
    let highest = arc.iter().filter_map(|(_, r)| r.instance).max();
    let at_highest = arc.iter().filter(|(_, r)| r.instance == highest).count();
    if top.instance != highest || at_highest != 1 {
        return refuse(format!(
            "the topmost ARC results (i={}) are not the only ones with the highest instance (i={}): sets were added below the server's",
            top.instance.unwrap_or(0),
            highest.unwrap_or(0)
        ));
    }
    if !is_trusted(top.authserv_id, trusted) {
        return refuse(format!(
            "the topmost ARC results come from {:?}, not a trusted list server",
            top.authserv_id
        ));
    }
    let arc_failed = fields[..*top_position]
        .iter()
        .filter(|(name, _)| name == "authentication-results")
        .filter_map(|(_, value)| parse_results(value, false))
        .filter(|results| is_trusted(results.authserv_id, trusted))
        .flat_map(|results| results.clauses)
        .any(|clause| method_result(clause) == Some(("arc".into(), "fail".into())));
    if arc_failed {
        return refuse("the list server found the ARC chain broken (arc=fail)".into());
    }
    let domain = from
        .key()
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_owned())
        .unwrap_or_default();
    let vouched = top.clauses.iter().any(|clause| {
        let aligned = |name: &str| {
            property(clause, name)
                .is_some_and(|value| value.trim_start_matches('@').eq_ignore_ascii_case(&domain))
        };
        match method_result(clause) {
            Some((method, result)) if result == "pass" => {
                (method == "dmarc" && aligned("header.from"))
                    || (method == "dkim" && aligned("header.d"))
            }
            _ => false,
        }
    });
    if vouched {
        Ok(())
    } else {
        refuse(format!(
            "the list server ({}) did not find DMARC or DKIM passing for {domain}",
            top.authserv_id
        ))
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
