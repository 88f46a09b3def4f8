//! Fuzz target: arbitrary text as a diff, a subject and trailers. None of
//! the parsers may panic; hunk line numbers must stay within the header's
//! ranges.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (files, _) = sashiko_mail::diff::parse(&text);
    for file in &files {
        for hunk in &file.hunks {
            for line in &hunk.lines {
                if let Some(new_line) = line.new_line {
                    assert!(new_line >= hunk.new_start);
                }
                if let Some(old_line) = line.old_line {
                    assert!(old_line >= hunk.old_start);
                }
            }
        }
    }
    let _ = sashiko_mail::patch_id::stable_patch_id(&text);
    let _ = sashiko_mail::parse_subject(&text);
    let _ = sashiko_mail::trailer::commit_trailers(&text);
    let _ = sashiko_mail::trailer::reply_trailers(&text);
    let _ = sashiko_mail::trailer::meta_trailers(&text);
});
