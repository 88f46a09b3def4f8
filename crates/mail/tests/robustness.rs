//! Random-bytes robustness on the stable toolchain (the cargo-fuzz targets
//! in fuzz/ need nightly): a bounded number of deterministic pseudo-random
//! mutations of real mails and diffs go through every parser and through
//! series assembly. Nothing may panic, every mail keeps a Message-ID.

mod support;

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

const SNIPPETS: &[&[u8]] = &[
    b"\n",
    b"\r\n",
    b"\n\n",
    b"--",
    b"---\n",
    b"diff --git a/x b/x\n",
    b"@@ -1,3 +1,4 @@\n",
    b"@@ -0,0 +1 @@",
    b"+",
    b"-",
    b" ",
    b"\\ No newline at end of file\n",
    b"GIT binary patch\nliteral 3\n",
    b"rename from ",
    b"Content-Type: multipart/mixed; boundary=\"b\"\n",
    b"--b\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"=?utf-8?b?",
    b"=C3=",
    b"charset=\"y\"",
    b"charset=utf-7\n+AKM-",
    b"Subject: [PATCH v2 3/5] ",
    b"In-Reply-To: <",
    b"References: <a@b> <",
    b"Message-ID: <",
    b">",
    b"\xff\xfe",
    b"\xe4\xbd",
    b"Reviewed-by: A <a@b.c>\n",
    b"base-commit: ",
    b"[",
    b"]",
    b"Re: ",
    b"\x1b$B",
];

const SEED_MAIL: &[u8] = b"Message-ID: <seed@x>\nFrom: A <a@b.c>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\
Subject: [PATCH v2 1/2] x: y\nIn-Reply-To: <cover@x>\nContent-Type: text/plain; charset=utf-8\n\n\
msg\n\nSigned-off-by: A <a@b.c>\n---\n x | 2 +-\n\ndiff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n\
@@ -1,2 +1,2 @@\n a\n-b\n+c\n-- \n2.40\n";

fn mutate(random: &mut Random, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..1 + random.below(8) {
        let at = random.below(bytes.len() + 1);
        match random.below(5) {
            0 if !bytes.is_empty() => {
                let index = at.min(bytes.len() - 1);
                bytes[index] = random.next() as u8;
            }
            1 => bytes.truncate(at),
            2 => {
                let end = (at + random.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                let snippet = SNIPPETS[random.below(SNIPPETS.len())];
                bytes.splice(at..at, snippet.iter().copied());
            }
        }
    }
    bytes
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = vec![SEED_MAIL.to_vec()];
    if let Some(corpus) = support::corpus_dir() {
        for name in [
            "s22-binary-diff-duplicate-number.mbox",
            "s25-patch-as-attachment.mbox",
            "s33-grab-bag-odd-messages.mbox",
        ] {
            if let Ok(data) = std::fs::read(corpus.join("series").join(name)) {
                seeds.extend(
                    support::split_mboxrd(&data)
                        .into_iter()
                        .filter(|m| m.len() < 40_000),
                );
            }
        }
    } else {
        support::skip_message("robustness seeds from the corpus (built-in seed only)");
    }
    seeds
}

#[test]
fn random_mutations_never_panic() {
    const CASES: usize = 1500;
    let seeds = seeds();
    let mut random = Random(0x5eed_cafe_f00d_d00d);
    let mut batch = Vec::new();
    for case in 0..CASES {
        let seed = &seeds[random.below(seeds.len())];
        let bytes = mutate(&mut random, seed);
        let message = sashiko_mail::parse_message(&bytes);
        assert!(
            !message.message_id.is_empty(),
            "case {case}: empty Message-ID"
        );
        let (files, _) = message.files();
        for file in &files {
            for hunk in &file.hunks {
                let numbered = hunk
                    .lines
                    .iter()
                    .filter(|line| line.kind != sashiko_mail::diff::LineKind::NoNewline)
                    .count();
                assert!(
                    numbered <= (hunk.old_lines + hunk.new_lines) as usize,
                    "case {case}: hunk overflow"
                );
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let _ = sashiko_mail::diff::parse(&text);
        let _ = sashiko_mail::patch_id::stable_patch_id(&text);
        let _ = sashiko_mail::parse_subject(&text);
        batch.push(message);
        if batch.len() == 8 {
            let assembly = sashiko_mail::assemble(&batch);
            for series in &assembly.series {
                assert!(
                    series.patch_message_ids.len() >= series.total as usize,
                    "case {case}: short series"
                );
            }
            batch.clear();
        }
    }
    println!(
        "{CASES} mutated inputs from {} seeds parsed and assembled without panic",
        seeds.len()
    );
}
