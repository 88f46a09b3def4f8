use super::*;

/// `check(subject, reply, patch, version, index, total, rfc, resend, pull, prefix, title)`
#[allow(clippy::too_many_arguments, reason = "one row of a data table")]
fn check(
    subject: &str,
    is_reply: bool,
    has_patch_keyword: bool,
    version: Option<u32>,
    counter: Option<(u32, u32)>,
    rfc: bool,
    resend: bool,
    pull: bool,
    prefix: &str,
    title: &str,
) {
    let tags = parse_subject(subject);
    assert_eq!(tags.is_reply, is_reply, "reply of {subject:?}");
    assert_eq!(
        tags.has_patch_keyword, has_patch_keyword,
        "patch keyword of {subject:?}"
    );
    assert_eq!(tags.version, version, "version of {subject:?}");
    assert_eq!(
        tags.index.zip(tags.total),
        counter,
        "counter of {subject:?}"
    );
    assert_eq!(tags.rfc, rfc, "rfc of {subject:?}");
    assert_eq!(tags.resend, resend, "resend of {subject:?}");
    assert_eq!(tags.is_pull_request, pull, "pull of {subject:?}");
    assert_eq!(tags.prefix, prefix, "prefix of {subject:?}");
    assert_eq!(tags.title, title, "title of {subject:?}");
}

#[test]
fn subjects_seen_on_kernel_lists() {
    check(
        "[PATCH v3 02/11] mm: foo",
        false,
        true,
        Some(3),
        Some((2, 11)),
        false,
        false,
        false,
        "PATCH v3 02/11",
        "mm: foo",
    );
    check(
        "[PATCH 1/5] [v2] kbuild: x",
        false,
        true,
        Some(2),
        Some((1, 5)),
        false,
        false,
        false,
        "PATCH 1/5 v2",
        "kbuild: x",
    );
    check(
        "[PATCH 0/5 v2] address warnings",
        false,
        true,
        Some(2),
        Some((0, 5)),
        false,
        false,
        false,
        "PATCH 0/5 v2",
        "address warnings",
    );
    check(
        "[PATCHSET v2 0/3] Cleanup",
        false,
        true,
        Some(2),
        Some((0, 3)),
        false,
        false,
        false,
        "PATCHSET v2 0/3",
        "Cleanup",
    );
    check(
        "[PATCH][next][V2] io_uring: fix",
        false,
        true,
        Some(2),
        None,
        false,
        false,
        false,
        "PATCH next V2",
        "io_uring: fix",
    );
    check(
        "[RFC PATCH 0/3] kbuild: bash",
        false,
        true,
        None,
        Some((0, 3)),
        true,
        false,
        false,
        "RFC PATCH 0/3",
        "kbuild: bash",
    );
    check(
        "[PATCHSET RFC 0/11] async reads",
        false,
        true,
        None,
        Some((0, 11)),
        true,
        false,
        false,
        "PATCHSET RFC 0/11",
        "async reads",
    );
    check(
        "[Resend PATCH] ext2: errno",
        false,
        true,
        None,
        None,
        false,
        true,
        false,
        "Resend PATCH",
        "ext2: errno",
    );
    check(
        "[PATCH net-next v4 3/7] net: y",
        false,
        true,
        Some(4),
        Some((3, 7)),
        false,
        false,
        false,
        "PATCH net-next v4 3/7",
        "net: y",
    );
    check(
        "[PATCHv2 1/2] blk: z",
        false,
        true,
        Some(2),
        Some((1, 2)),
        false,
        false,
        false,
        "PATCHv2 1/2",
        "blk: z",
    );
    check(
        "[GIT PULL] io_uring fixes",
        false,
        false,
        None,
        None,
        false,
        false,
        true,
        "GIT PULL",
        "io_uring fixes",
    );
    check(
        "[GIT PULL 1/2] Kbuild",
        false,
        false,
        None,
        Some((1, 2)),
        false,
        false,
        true,
        "GIT PULL 1/2",
        "Kbuild",
    );
    check(
        "Re: [PATCH v2] foo",
        true,
        true,
        Some(2),
        None,
        false,
        false,
        false,
        "PATCH v2",
        "foo",
    );
    check(
        "AW: [PATCH][next][V2] io_uring",
        true,
        true,
        Some(2),
        None,
        false,
        false,
        false,
        "PATCH next V2",
        "io_uring",
    );
    check(
        "答复: [PATCH -next v3] bfq: fix",
        true,
        true,
        Some(3),
        None,
        false,
        false,
        false,
        "PATCH -next v3",
        "bfq: fix",
    );
    check(
        "Re: 回复: 回复: [PATCH] io-wq: Fix",
        true,
        true,
        None,
        None,
        false,
        false,
        false,
        "PATCH",
        "io-wq: Fix",
    );
    check(
        "RE: [EXT] Re: FYI, fsnotify",
        true,
        false,
        None,
        None,
        false,
        false,
        false,
        "EXT",
        "FYI, fsnotify",
    );
    check(
        "[PATCH]gen_initramfs_list.sh failure",
        false,
        true,
        None,
        None,
        false,
        false,
        false,
        "PATCH",
        "gen_initramfs_list.sh failure",
    );
    check(
        "improve use_mm / unuse_mm v2",
        false,
        false,
        None,
        None,
        false,
        false,
        false,
        "",
        "improve use_mm / unuse_mm v2",
    );
    check("", false, false, None, None, false, false, false, "", "");
    check(
        "[PATCH e2fsprogs 00/11] Case",
        false,
        true,
        None,
        Some((0, 11)),
        false,
        false,
        false,
        "PATCH e2fsprogs 00/11",
        "Case",
    );
    check(
        "Re: Re: [GIT PULL] Block",
        true,
        false,
        None,
        None,
        false,
        false,
        true,
        "GIT PULL",
        "Block",
    );
    check(
        "[PATCH  RESEND\n v2  1/3]  spaced",
        false,
        true,
        Some(2),
        Some((1, 3)),
        false,
        true,
        false,
        "PATCH RESEND v2 1/3",
        "spaced",
    );
    check("[", false, false, None, None, false, false, false, "", "[");
}
