//! Fuzz target: arbitrary text as a MAINTAINERS file and as the patch it
//! routes (split at the first NUL byte), and as a subsystem guide and a
//! budget glob. Routing, guide sections and glob matching must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sashiko_review::budget_policy::glob_match;
use sashiko_review::maintainers::Maintainers;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (maintainers_text, patch) = text.split_once('\0').unwrap_or((&text, ""));
    let maintainers = Maintainers::parse(maintainers_text);
    let files: Vec<&str> = patch.lines().take(8).collect();
    let mut with_real = files.clone();
    with_real.extend(["mm/rmap.c", "fs/ext4/super.c", "drivers/gpu/drm/é.c"]);
    let _ = maintainers.route(&with_real, patch);
    let _ = sashiko_review::guides::split_sections(&text);
    for pattern in maintainers_text.lines().take(8) {
        for file in &with_real {
            let _ = glob_match(pattern, file);
        }
    }
});
