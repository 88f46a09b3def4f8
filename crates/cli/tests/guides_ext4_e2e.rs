//! Acceptance of the subsystem guides on real data: a real ext4 patch from
//! the linux-ext4 list slice is applied with `git am -3` to the real Linux
//! 6.1.20 tree of ../shared/kernel (unpacked and committed in a temporary
//! directory), then the `sashiko` binary reviews it against the fake LLM.
//! The tree's own MAINTAINERS routes the patch to the ext4 guide (and the
//! vfs guide by path); each finder stage's request carries exactly its own
//! sections of those guides, and the stored review names them.
//!
//! Skips with a message when ../shared or tar/git are missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeLlmServer, FakeScript};
use serde_json::json;

const SHARED: &str = "../../../shared";
const SLICE: &str = "corpus/lists/linux-ext4-19250-21749.mbox";
const TARBALL: &str = "kernel/linux-6.1.20-core.tar.xz";
/// "[PATCH] ext4: Fix dir corruption when ext4_dx_add_entry() fails"
/// (fs/ext4/namei.c), posted 2022-09-09; it applies to 6.1.20.
const PATCH_ID: &str = "20220909062736.2929221-1-chengzhihao1@huawei.com";

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(SHARED);
    let present = dir.join(SLICE).is_file() && dir.join(TARBALL).is_file();
    let tools = ["tar", "git"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|out| out.status.success())
    });
    (present && tools).then_some(dir)
}

/// The kernel tree as one commit; `Env::new` calls this with `repo`.
fn kernel_repo(dir: &Path) {
    let tarball = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(SHARED)
        .join(TARBALL);
    let status = Command::new("tar")
        .arg("-xJf")
        .arg(&tarball)
        .arg("--strip-components=1")
        .arg("-C")
        .arg(dir)
        .status()
        .expect("tar runs");
    assert!(status.success(), "unpacking {}", tarball.display());
    init_repo(dir);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "Linux 6.1.20 (subset)"]);
}

/// The one message of the slice with `message_id`, as an mboxrd file.
fn message_mbox(slice: &Path, message_id: &str) -> Vec<u8> {
    let bytes = std::fs::read(slice).expect("slice");
    let format = sashiko_ingest::mbox::detect_format(&bytes);
    let split = sashiko_ingest::mbox::split(&bytes, format);
    let raw = split
        .messages
        .iter()
        .find(|message| sashiko_mail::parse_message(&message.bytes).message_id == message_id)
        .unwrap_or_else(|| panic!("{message_id} is in the slice"));
    let mut mbox = b"From mboxrd@z Thu Jan  1 00:00:00 1970\n".to_vec();
    for line in raw.bytes.split_inclusive(|byte| *byte == b'\n') {
        let quotes = line.iter().take_while(|byte| **byte == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            mbox.push(b'>');
        }
        mbox.extend_from_slice(line);
    }
    mbox.extend_from_slice(b"\n");
    mbox
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_ext4_patch_gets_the_ext4_guide_by_stage_and_the_review_names_it() {
    let Some(shared) = shared() else {
        eprintln!(
            "SKIPPED guides_ext4_e2e: ../shared (the ext4 list slice and the kernel tarball) or tar/git not found"
        );
        return;
    };
    let env = Env::new(kernel_repo);
    let mbox = env
        .repo()
        .parent()
        .expect("the repository sits in the temporary home")
        .join("series.mbox");
    std::fs::write(&mbox, message_mbox(&shared.join(SLICE), PATCH_ID)).expect("write mbox");
    let applied = Command::new("git")
        .args(["am", "-3", "-q", "--patch-format=mboxrd"])
        .arg(&mbox)
        .current_dir(env.repo())
        .output()
        .expect("git am runs");
    assert!(
        applied.status.success(),
        "git am -3: {}",
        String::from_utf8_lossy(&applied.stderr)
    );

    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    let subsystems = document["review"]["subsystems"]
        .as_array()
        .expect("subsystems");
    assert_eq!(subsystems.first(), Some(&json!("EXT4 FILE SYSTEM")));
    assert_eq!(document["review"]["guides"], json!(["ext4", "vfs"]));

    // Each stage gets its own sections of the ext4 guide, and only those.
    let request = |stage: &str| -> String {
        let requests = fake.requests_for(stage);
        assert_eq!(requests.len(), 1, "one request for stage {stage}");
        requests[0].body.to_string()
    };
    let cases: &[(&str, &str, &str)] = &[
        // (stage, a rule of its ext4 section, a rule of another section)
        (
            "flow",
            "ext4_journal_get_write_access()",
            "ext4_lock_group()",
        ),
        (
            "locking",
            "ext4_lock_group()",
            "ext4_journal_get_write_access()",
        ),
        ("resource", "ext4_orphan_add()", "ext4_lock_group()"),
        ("security", "ext4_ext_check_inode()", "ext4_orphan_add()"),
        ("style", "Subject prefix `ext4:`", "ext4_orphan_add()"),
    ];
    for (stage, own, other) in cases {
        let body = request(stage);
        assert!(
            body.contains("From the ext4 guide:"),
            "{stage}: no ext4 guide in the request"
        );
        assert!(body.contains(own), "{stage}: lacks its ext4 rule {own:?}");
        assert!(
            !body.contains(other),
            "{stage}: carries another stage's ext4 rule {other:?}"
        );
    }
    assert!(
        request("locking").contains("From the vfs guide:"),
        "the vfs guide's locking section reaches the locking stage"
    );
    assert!(
        !request("intent").contains("From the ext4 guide:"),
        "the ext4 guide has no intent section"
    );

    // The stored review names the guides and the prompt set that used them.
    let store = env.store().await;
    let rows = store
        .web_rows(
            "test: review guides",
            "SELECT guides, prompt_set_hash, status FROM reviews",
            &[],
        )
        .await
        .expect("reviews");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let guides = rows[0]["guides"].to_string();
    assert!(
        guides.contains("ext4") && guides.contains("vfs"),
        "stored guides: {guides}"
    );
    assert_eq!(
        rows[0]["prompt_set_hash"].as_str(),
        document["review"]["prompt_set_hash"].as_str()
    );
    assert_eq!(rows[0]["status"], json!("finished"));
    store.close().await;
}
