#!/bin/sh
# Seed the fuzz corpora from real kernel text in ../shared (never written):
# C files of the 6.1.20 subset (every file with non-ASCII text, and a
# sample of the rest) for source_scan; MAINTAINERS pieces for maintainers;
# patches cut from the ext4 list slice for diff_anchor and mail_checks.
# Usage: fuzz/seed.sh   (from anywhere; writes fuzz/corpus/, ignored by git)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=$here/../../shared
tarball=$shared/kernel/linux-6.1.20-core.tar.xz
mbox=$shared/corpus/lists/linux-ext4-19250-21749.mbox
[ -f "$tarball" ] || { echo "seed.sh: $tarball is absent" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xJf "$tarball" -C "$work"
root=$(dirname "$(find "$work" -maxdepth 2 -name MAINTAINERS | head -n 1)")
mkdir -p "$here/corpus/source_scan" "$here/corpus/maintainers" \
    "$here/corpus/diff_anchor" "$here/corpus/mail_checks"
# C files under 64 KiB: all with non-ASCII bytes, and every 20th of the rest.
n=0
find "$root" -name '*.[ch]' -size -64k | sort | while read -r file; do
    n=$((n + 1))
    name=$(echo "${file#"$root"/}" | tr / _)
    if LC_ALL=C grep -q '[^ -~	]' "$file" || [ $((n % 20)) -eq 0 ]; then
        cp "$file" "$here/corpus/source_scan/$name"
    fi
done
# MAINTAINERS in pieces of 400 lines, with a patch's file list after a NUL.
split -l 400 "$root/MAINTAINERS" "$work/maint."
for piece in "$work"/maint.*; do
    { cat "$piece"; printf '\0mm/rmap.c\nfs/ext4/super.c\n'; } \
        > "$here/corpus/maintainers/$(basename "$piece")"
done
# Patches of the ext4 slice: the diff for diff_anchor, message NUL diff
# for mail_checks.
if [ -f "$mbox" ]; then
    awk -v out="$work/mail." 'BEGIN { n = 0 } /^From / { n++ } { print > (out n) }' "$mbox"
    for mail in $(ls "$work"/mail.* | head -n 400); do
        grep -q '^diff --git' "$mail" || continue
        base=$(basename "$mail")
        sed -n '/^diff --git/,$p' "$mail" > "$here/corpus/diff_anchor/$base"
        { sed -n '1,/^---$/p' "$mail"; printf '\0'; sed -n '/^diff --git/,$p' "$mail"; } \
            > "$here/corpus/mail_checks/$base"
    done
fi
for target in source_scan maintainers diff_anchor mail_checks; do
    echo "$target: $(ls "$here/corpus/$target" | wc -l) seeds"
done
