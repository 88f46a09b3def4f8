//! Fuzz target: arbitrary bytes as one or more mails. Parsing and series
//! assembly must never panic, and every mail must keep a Message-ID.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Up to four mails separated by a form feed, so assembly sees threads.
    let messages: Vec<_> = data
        .split(|&byte| byte == 0x0c)
        .take(4)
        .map(sashiko_mail::parse_message)
        .collect();
    for message in &messages {
        assert!(!message.message_id.is_empty());
        let _ = message.files();
    }
    let assembly = sashiko_mail::assemble(&messages);
    for series in &assembly.series {
        assert!(series.patch_message_ids.len() >= series.total as usize);
    }
});
