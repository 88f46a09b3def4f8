//! Table-driven tests of every input that decides recipients: list known
//! / opted in / muted, reply mode, extra Cc, ignored and bot senders,
//! severity threshold, "no issues" replies, foreign lists, dry run, and
//! the delays (embargo, quiet hours, daily cap).

use super::*;
use crate::policy::Policy;

const POLICY: &str = r#"
[bot]
address = "Sashiko <sashiko@bot.example>"

[defaults]
min_severity = "medium"
daily_cap = 2

[lists."io-uring.vger.kernel.org"]
enabled = true
extra_cc = ["reviews@archive.example"]

[lists."linux-block.vger.kernel.org"]
enabled = true
reply = "author"

[lists."private.vger.kernel.org"]
enabled = true
reply = "private"
extra_cc = ["maint@example.org"]

[lists."quiet.vger.kernel.org"]
enabled = true
quiet_hours = "22-06"
embargo_hours = 24
send_no_issues = true
dry_run = true

[lists."ksummit.lists.linux.dev"]
enabled = false

[lists."strict.vger.kernel.org"]
enabled = true
ignored_senders = ["ignored@example.org"]

[subsystems.fs]
min_severity = "high"
extra_cc = ["fs-reviews@example.org"]

[subsystems.drivers]
enabled = false
"#;

/// (To, Cc, dry run, delays) of a reply that is sent.
type Expected = (
    &'static [&'static str],
    &'static [&'static str],
    bool,
    &'static [&'static str],
);

struct Case {
    name: &'static str,
    list: Option<&'static str>,
    subsystems: &'static [&'static str],
    sender: &'static str,
    author: &'static str,
    to: &'static [&'static str],
    cc: &'static [&'static str],
    worst: Option<Severity>,
    sent_today: u32,
    /// `Err(skip)` or `Ok((to, cc, dry_run, delayed_by))`.
    expected: Result<Expected, Skip>,
}

const AUTHOR: &str = "Ada Dev <ada@example.org>";
/// 2025-01-02 10:00 UTC.
const NOON: i64 = 1_735_812_000;

fn case(name: &'static str) -> Case {
    Case {
        name,
        list: Some("io-uring.vger.kernel.org"),
        subsystems: &["io_uring"],
        sender: AUTHOR,
        author: AUTHOR,
        to: &["io-uring@vger.kernel.org"],
        cc: &[
            "Jens Axboe <axboe@kernel.dk>",
            "linux-kernel@vger.kernel.org",
        ],
        worst: Some(Severity::High),
        sent_today: 0,
        expected: Ok((&["ada@example.org"], &[], false, &[])),
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            expected: Ok((
                &["ada@example.org"],
                &[
                    "io-uring@vger.kernel.org",
                    "axboe@kernel.dk",
                    "reviews@archive.example",
                ],
                false,
                &[],
            )),
            ..case("reply-all drops the list that is not opted in (linux-kernel) and adds extra Cc")
        },
        Case {
            list: None,
            expected: Err(Skip::UnknownList),
            ..case("no list")
        },
        Case {
            list: Some("netdev.vger.kernel.org"),
            expected: Err(Skip::UnknownList),
            ..case("unknown list")
        },
        Case {
            list: Some("ksummit.lists.linux.dev"),
            expected: Err(Skip::NotOptedIn),
            ..case("list present but not opted in")
        },
        Case {
            subsystems: &["drivers"],
            expected: Err(Skip::SubsystemMuted),
            ..case("subsystem muted")
        },
        Case {
            worst: Some(Severity::Low),
            expected: Err(Skip::BelowSeverity),
            ..case("below the list's minimum")
        },
        Case {
            subsystems: &["fs"],
            worst: Some(Severity::Medium),
            expected: Err(Skip::BelowSeverity),
            ..case("subsystem raises the minimum")
        },
        Case {
            subsystems: &["fs", "io_uring"],
            worst: Some(Severity::Critical),
            expected: Ok((
                &["ada@example.org"],
                &[
                    "io-uring@vger.kernel.org",
                    "axboe@kernel.dk",
                    "reviews@archive.example",
                    "fs-reviews@example.org",
                ],
                false,
                &[],
            )),
            ..case("subsystem extra Cc adds to the list's")
        },
        Case {
            worst: None,
            expected: Err(Skip::NoIssuesNotWanted),
            ..case("no findings and no-issues replies off")
        },
        Case {
            list: Some("linux-block.vger.kernel.org"),
            to: &["linux-block@vger.kernel.org"],
            expected: Ok((
                &["ada@example.org"],
                &["linux-block@vger.kernel.org"],
                false,
                &[],
            )),
            ..case("author mode: author and list only")
        },
        Case {
            list: Some("private.vger.kernel.org"),
            to: &["private@vger.kernel.org"],
            expected: Ok((&["ada@example.org"], &["maint@example.org"], false, &[])),
            ..case("private mode: never the list")
        },
        Case {
            sender: "Ada Dev via B4 Relay <devnull+ada.example.org@kernel.org>",
            expected: Ok((
                &["ada@example.org"],
                &[
                    "io-uring@vger.kernel.org",
                    "axboe@kernel.dk",
                    "reviews@archive.example",
                ],
                false,
                &[],
            )),
            ..case("b4 relay: the real author is addressed, not the relay")
        },
        Case {
            cc: &[
                "Sashiko <sashiko@bot.example>",
                "kernel test robot <lkp@intel.com>",
                "axboe@kernel.dk",
            ],
            expected: Ok((
                &["ada@example.org"],
                &[
                    "io-uring@vger.kernel.org",
                    "axboe@kernel.dk",
                    "reviews@archive.example",
                ],
                false,
                &[],
            )),
            ..case("never ourselves or a bot in Cc")
        },
        Case {
            list: Some("strict.vger.kernel.org"),
            sender: "ignored@example.org",
            author: "ignored@example.org",
            expected: Err(Skip::IgnoredSender),
            ..case("ignored sender")
        },
        Case {
            sender: "kernel test robot <lkp@intel.com>",
            author: "kernel test robot <lkp@intel.com>",
            expected: Err(Skip::BotSender),
            ..case("bot sender")
        },
        Case {
            list: Some("quiet.vger.kernel.org"),
            to: &["quiet@vger.kernel.org"],
            cc: &[],
            worst: None,
            expected: Ok((
                &["ada@example.org"],
                &["quiet@vger.kernel.org"],
                true,
                &["embargo"],
            )),
            ..case("no-issues wanted, dry run, embargo (ends outside quiet hours)")
        },
        Case {
            sent_today: 2,
            expected: Ok((
                &["ada@example.org"],
                &[
                    "io-uring@vger.kernel.org",
                    "axboe@kernel.dk",
                    "reviews@archive.example",
                ],
                false,
                &["daily cap"],
            )),
            ..case("daily cap reached: delayed to the next day")
        },
        Case {
            list: Some("io-uring@vger.kernel.org"),
            expected: Ok((
                &["ada@example.org"],
                &[
                    "io-uring@vger.kernel.org",
                    "axboe@kernel.dk",
                    "reviews@archive.example",
                ],
                false,
                &[],
            )),
            ..case("list named by posting address")
        },
    ]
}

fn boxes(list: &[&str]) -> Vec<Mailbox> {
    list.iter()
        .map(|a| Mailbox::parse(a).expect("test address"))
        .collect()
}

#[test]
fn every_combination_deciding_recipients() {
    let policy = Policy::parse(POLICY, "test").expect("policy parses");
    for case in cases() {
        let sender = Mailbox::parse(case.sender).expect("sender");
        let author = if case.sender.contains("B4 Relay") {
            Mailbox::parse(AUTHOR).expect("author")
        } else {
            Mailbox::parse(case.author).expect("author")
        };
        let subsystems: Vec<String> = case.subsystems.iter().map(|s| s.to_string()).collect();
        let (to, cc) = (boxes(case.to), boxes(case.cc));
        let request = ReplyRequest {
            list: case.list,
            subsystems: &subsystems,
            sender: &sender,
            author: &author,
            to: &to,
            cc: &cc,
            worst: case.worst,
            posted_at: NOON,
            now: NOON + 3600,
            sent_today: case.sent_today,
        };
        let got = match decide(&policy, &request) {
            Decision::Skip(skip) => Err(skip),
            Decision::Send(plan) => Ok((
                plan.to.iter().map(Mailbox::key).collect::<Vec<_>>(),
                plan.cc.iter().map(Mailbox::key).collect::<Vec<_>>(),
                plan.dry_run,
                plan.delayed_by.clone(),
                plan.not_before,
            )),
        };
        match (&got, &case.expected) {
            (Err(got), Err(expected)) => assert_eq!(got, expected, "{}", case.name),
            (Ok((to, cc, dry, why, not_before)), Ok((eto, ecc, edry, ewhy))) => {
                assert_eq!(to, eto, "{}: to", case.name);
                assert_eq!(cc, ecc, "{}: cc", case.name);
                assert_eq!(dry, edry, "{}: dry run", case.name);
                assert_eq!(why, ewhy, "{}: delays", case.name);
                assert_eq!(
                    not_before.is_some(),
                    !ewhy.is_empty(),
                    "{}: not_before",
                    case.name
                );
            }
            _ => panic!("{}: got {got:?}, expected {:?}", case.name, case.expected),
        }
    }
}

#[test]
fn delays_land_on_the_right_hour() {
    let policy = Policy::parse(POLICY, "test").expect("policy parses");
    let author = Mailbox::parse(AUTHOR).expect("author");
    let request = ReplyRequest {
        list: Some("quiet.vger.kernel.org"),
        subsystems: &[],
        sender: &author,
        author: &author,
        to: &[],
        cc: &[],
        worst: Some(Severity::High),
        posted_at: NOON,
        now: NOON,
        sent_today: 0,
    };
    // Embargo ends at 10:00 the next day, outside 22-06: no quiet delay.
    let Decision::Send(plan) = decide(&policy, &request) else {
        panic!("sends")
    };
    assert_eq!(plan.not_before, Some(NOON + 86_400));
    // Posted at 20:00: embargo ends 20:00 next day, not quiet; posted at
    // 23:00 minus 24h ... use a zero-embargo list in quiet time instead.
    let late = ReplyRequest {
        posted_at: NOON - 24 * 3600 + 13 * 3600,
        now: NOON + 13 * 3600,
        ..request.clone()
    };
    let Decision::Send(plan) = decide(&policy, &late) else {
        panic!("sends")
    };
    // now = 23:00; quiet until 06:00 next day.
    assert_eq!(plan.not_before, Some(NOON - 10 * 3600 + 86_400 + 6 * 3600));
}

/// The recipient cap keeps the author, then the list and the extra Cc,
/// then the patch's addresses in order; the rest are named as dropped.
#[test]
fn the_recipient_cap_keeps_the_author_and_the_list_first() {
    let author = Mailbox::parse(AUTHOR).expect("author");
    let many: Vec<Mailbox> = (0..300)
        .map(|n| Mailbox::parse(&format!("dev{n:03}@example.net")).expect("address"))
        .collect();
    let cases: [(&str, usize, usize, usize); 4] = [
        // (max_recipients line, Cc written, kept To + Cc, dropped)
        // The author, the list and one extra Cc come on top of those written.
        ("", 300, 20, 283),
        ("max_recipients = 5\n", 300, 5, 298),
        ("max_recipients = 0\n", 300, 303, 0),
        ("max_recipients = 50\n", 10, 13, 0),
    ];
    for (setting, written, kept, dropped) in cases {
        let policy = Policy::parse(
            &format!(
                "[bot]\naddress = \"S <s@bot.example>\"\n[lists.\"io-uring.vger.kernel.org\"]\n\
                 enabled = true\n{setting}extra_cc = [\"reviews@archive.example\"]\n"
            ),
            "test",
        )
        .expect("policy parses");
        let request = ReplyRequest {
            list: Some("io-uring.vger.kernel.org"),
            subsystems: &[],
            sender: &author,
            author: &author,
            to: &[],
            cc: &many[..written],
            worst: Some(Severity::High),
            posted_at: NOON,
            now: NOON,
            sent_today: 0,
        };
        let Decision::Send(plan) = decide(&policy, &request) else {
            panic!("{setting:?}: sends")
        };
        let keys: Vec<String> = plan.to.iter().chain(&plan.cc).map(Mailbox::key).collect();
        assert_eq!(
            (keys.len(), plan.dropped.len()),
            (kept, dropped),
            "{setting:?}"
        );
        if kept >= 3 {
            assert_eq!(keys[0], "ada@example.org", "{setting:?}");
            assert!(keys.contains(&"io-uring@vger.kernel.org".to_owned()));
            assert!(keys.contains(&"reviews@archive.example".to_owned()));
        }
        if dropped > 0 {
            // The patch's addresses are kept in the order written.
            assert!(
                keys.contains(&"dev000@example.net".to_owned()),
                "{setting:?}"
            );
            assert!(!keys.contains(&"dev299@example.net".to_owned()));
        }
    }
}
