//! The list-server check against real list mail (the corpus slices, as
//! lore delivered them) and against the forgeries it must refuse.

use super::*;

const TRUSTED: &[&str] = &["smtp.subspace.kernel.org"];

fn trusted() -> Vec<String> {
    TRUSTED.iter().map(|s| s.to_string()).collect()
}

/// The header block kernel.org's list server adds to a gmail.com mail
/// (taken from the io-uring slice), above `sender_part`.
fn delivered(sender_part: &str) -> String {
    format!(
        "Received: from mail-ed1-f46.google.com (mail-ed1-f46.google.com [209.85.208.46])\n\
         \tby smtp.subspace.kernel.org (Postfix) with ESMTPS id 4F4DA13DBB1;\n\
         \tWed, 19 Feb 2025 09:53:46 +0000 (UTC)\n\
         Authentication-Results: smtp.subspace.kernel.org; arc=none smtp.client-ip=209.85.208.46\n\
         ARC-Seal:i=1; a=rsa-sha256; d=subspace.kernel.org; s=arc-20240116;\n\
         \tt=1739958828; cv=none; b=j5Tv\n\
         ARC-Authentication-Results:i=1; smtp.subspace.kernel.org; dmarc=pass (p=none dis=none) header.from=gmail.com; spf=pass smtp.mailfrom=gmail.com; dkim=pass (2048-bit key) header.d=gmail.com header.i=@gmail.com header.b=CAw/N+A+; arc=none smtp.client-ip=209.85.208.46\n\
         Authentication-Results: smtp.subspace.kernel.org; dmarc=pass (p=none dis=none) header.from=gmail.com\n\
         {sender_part}\
         From: Ada <ada.dev@gmail.com>\nSubject: Re: x\n\n#sashiko rerun\n"
    )
}

fn check(raw: &str, from: &str, trusted: &[String]) -> Result<(), NotAuthenticated> {
    let from = Mailbox::parse(from).expect("address");
    list_server_vouches(raw.as_bytes(), &from, trusted)
}

#[test]
fn the_list_servers_verdict_authenticates_and_forgeries_do_not() {
    let genuine = delivered("");
    // A set the sender wrote themselves (any instance) sits below the
    // server's; one claiming a higher instance than the server's is
    // refused, one claiming the trusted id under the server's is ignored.
    let forged_high = delivered(
        "ARC-Authentication-Results: i=7; smtp.subspace.kernel.org; dmarc=pass header.from=kernel.org\n",
    );
    let forged_low = delivered(
        "ARC-Authentication-Results: i=1; smtp.subspace.kernel.org; dmarc=pass header.from=kernel.org\n",
    );
    // A sender's set at the limit (the server sealed nothing on top) but
    // the server recorded the broken chain.
    let at_limit = "Authentication-Results: smtp.subspace.kernel.org; arc=fail smtp.client-ip=1.2.3.4\n\
        ARC-Authentication-Results: i=50; smtp.subspace.kernel.org; dmarc=pass header.from=kernel.org\n\
        From: Jens <axboe@kernel.dk>\n\n#sashiko rerun\n";
    let unsealed = "From: Jens <axboe@kernel.dk>\nSubject: x\n\n#sashiko rerun\n";
    let other_server = genuine.replace(
        "ARC-Authentication-Results:i=1; smtp.subspace.kernel.org;",
        "ARC-Authentication-Results:i=1; mx.evil.example;",
    );
    let dmarc_fail = genuine
        .replace(
            "dmarc=pass (p=none dis=none) header.from=gmail.com; spf",
            "dmarc=fail header.from=gmail.com; spf",
        )
        .replace("dkim=pass (2048-bit key)", "dkim=fail (2048-bit key)");
    let cases: [(&str, &str, &[String], bool); 10] = [
        (&genuine, "ada.dev@gmail.com", &trusted(), true),
        (&genuine, "ADA.DEV@GMAIL.COM", &trusted(), true),
        // The verdict is about gmail.com: a From in another domain is not covered.
        (&genuine, "axboe@kernel.dk", &trusted(), false),
        (&genuine, "ada.dev@gmail.com", &[], false),
        (&forged_high, "axboe@kernel.dk", &trusted(), false),
        (&forged_low, "axboe@kernel.dk", &trusted(), false),
        (at_limit, "axboe@kernel.dk", &trusted(), false),
        (unsealed, "axboe@kernel.dk", &trusted(), false),
        (&other_server, "ada.dev@gmail.com", &trusted(), false),
        (&dmarc_fail, "ada.dev@gmail.com", &trusted(), false),
    ];
    for (index, (raw, from, trusted, expected)) in cases.into_iter().enumerate() {
        let verdict = check(raw, from, trusted);
        assert_eq!(verdict.is_ok(), expected, "case {index}: {verdict:?}");
    }
    // Every refusal says why.
    let why = check(&forged_high, "axboe@kernel.dk", &trusted()).expect_err("refused");
    assert!(why.0.contains("highest instance"), "{why}");
}

/// Every mail of the io-uring slice whose list server verdict is a pass
/// is vouched for its own From, and for no address of another domain.
#[test]
fn real_list_mail_is_vouched_for_its_own_sender_only() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/lists/io-uring-28250-30749.mbox");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipping: the corpus slice is not at {}", path.display());
        return;
    };
    let format = sashiko_ingest::mbox::detect_format(&bytes);
    let split = sashiko_ingest::mbox::split(&bytes, format);
    let stranger = Mailbox::parse("mallory@attacker.example").expect("address");
    let (mut vouched, mut total) = (0, 0);
    for message in &split.messages {
        let raw = &message.bytes;
        let headers = crate::headers::read_headers(raw);
        let Some(from) = headers.from else {
            continue;
        };
        total += 1;
        if list_server_vouches(raw, &from, &trusted()).is_ok() {
            vouched += 1;
        }
        assert!(list_server_vouches(raw, &stranger, &trusted()).is_err());
    }
    eprintln!("{vouched} of {total} messages vouched for their From by the list server");
    assert!(total > 2000, "{total}");
    // Measured: 1730 of 2500. Most developers' domains sign with DKIM or
    // publish DMARC; mail from the others (dmarc=none without an aligned
    // DKIM signature: 770 here) cannot carry a command.
    assert!(vouched * 10 >= total * 6, "{vouched} of {total}");
}
