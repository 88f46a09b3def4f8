use super::*;

fn verdict_kind(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Gone(_) => "gone",
        Verdict::Present(_) => "present",
        Verdict::Unknown(_) => "unknown",
    }
}

#[test]
fn defects_are_read_from_the_problem() {
    let cases = [
        (
            "foo->lock is not released on the -EINVAL return",
            Some(Defect::LockBalance),
        ),
        (
            "mutex_unlock() is missing on the error path",
            Some(Defect::LockBalance),
        ),
        (
            "item allocated with kmalloc() is leaked when the ring is full",
            Some(Defect::Leak),
        ),
        ("buf is never freed when g() fails", Some(Defect::Leak)),
        ("the consumer may see the head before the item", None),
    ];
    for (problem, expected) in cases {
        assert_eq!(Defect::of(problem), expected, "{problem}");
    }
}

#[test]
fn lock_balance_on_every_return() {
    let cases = [
        (
            "the lock taken before the check is not released on its return",
            "int foo_set(struct foo *foo, int value)\n{\n\tmutex_lock(&foo->lock);\n\tif (value < 0)\n\t\treturn -EINVAL;\n\tfoo->value = value;\n\tmutex_unlock(&foo->lock);\n\treturn 0;\n}\n",
            "present",
        ),
        (
            "mutex_lock() moved below the check (issue 15, case 4)",
            "int foo_set(struct foo *foo, int value)\n{\n\tif (value < 0)\n\t\treturn -EINVAL;\n\tmutex_lock(&foo->lock);\n\tfoo->value = value;\n\tmutex_unlock(&foo->lock);\n\treturn 0;\n}\n",
            "gone",
        ),
        (
            "unlocked in the error block before returning",
            "int f(struct foo *foo)\n{\n\tspin_lock_irqsave(&foo->lock, flags);\n\tif (bad(foo)) {\n\t\tspin_unlock_irqrestore(&foo->lock, flags);\n\t\treturn -EIO;\n\t}\n\tspin_unlock_irqrestore(&foo->lock, flags);\n\treturn 0;\n}\n",
            "gone",
        ),
        (
            "a jump to an unlock label",
            "int f(struct foo *foo)\n{\n\tint ret = 0;\n\n\tmutex_lock(&foo->lock);\n\tif (bad(foo)) {\n\t\tret = -EIO;\n\t\tgoto out;\n\t}\n\twork(foo);\nout:\n\tmutex_unlock(&foo->lock);\n\treturn ret;\n}\n",
            "gone",
        ),
        (
            "a release under a condition does not count",
            "void f(struct foo *foo)\n{\n\tmutex_lock(&foo->lock);\n\tif (done(foo))\n\t\tmutex_unlock(&foo->lock);\n}\n",
            "present",
        ),
        (
            "an interruptible lock that failed is not held on its return",
            "int f(struct foo *foo)\n{\n\tif (mutex_lock_interruptible(&foo->lock))\n\t\treturn -EINTR;\n\twork(foo); /* } not a brace */\n\tmutex_unlock(&foo->lock);\n\treturn 0;\n}\n",
            "gone",
        ),
        (
            "no lock at all",
            "int f(void)\n{\n\treturn 0;\n}\n",
            "unknown",
        ),
        (
            "a jump out of sight",
            "int f(struct foo *foo)\n{\n\tmutex_lock(&foo->lock);\n\tif (bad(foo))\n\t\tgoto elsewhere;\n\tmutex_unlock(&foo->lock);\n\treturn 0;\n}\n",
            "unknown",
        ),
    ];
    for (what, function, expected) in cases {
        let verdict = recheck(Defect::LockBalance, "foo->lock is still held", function);
        assert_eq!(verdict_kind(&verdict), expected, "{what}: {verdict:?}");
    }
}

#[test]
fn allocations_freed_returned_or_stored_on_every_return() {
    let cases = [
        (
            "the early return leaks buf",
            "int f(void)\n{\n\tchar *buf = kmalloc(16, GFP_KERNEL);\n\tif (g())\n\t\treturn -EIO;\n\tuse(buf);\n\tkfree(buf);\n\treturn 0;\n}\n",
            "present",
        ),
        (
            "a jump to the free",
            "int f(void)\n{\n\tchar *buf = kmalloc(16, GFP_KERNEL);\n\tif (g())\n\t\tgoto out;\n\tuse(buf);\nout:\n\tkfree(buf);\n\treturn 0;\n}\n",
            "gone",
        ),
        (
            "allocated after the check, stored in the ring",
            "int foo_ring_push(struct foo_ring *ring, int value)\n{\n\tstruct foo_item *item;\n\n\tif (ring->count == FOO_RING_SIZE)\n\t\treturn -ENOSPC;\n\titem = kmalloc(sizeof(*item), GFP_KERNEL);\n\tif (!item)\n\t\treturn -ENOMEM;\n\titem->value = value;\n\tring->slots[ring->head] = item;\n\treturn 0;\n}\n",
            "gone",
        ),
        (
            "allocated before the check (v1 of issue 15, case 1)",
            "int foo_ring_push(struct foo_ring *ring, int value)\n{\n\tstruct foo_item *item = kmalloc(sizeof(*item), GFP_KERNEL);\n\n\tif (!item)\n\t\treturn -ENOMEM;\n\tif (ring->count == FOO_RING_SIZE)\n\t\treturn -ENOSPC;\n\titem->value = value;\n\tring->slots[ring->head] = item;\n\treturn 0;\n}\n",
            "present",
        ),
        (
            "handed back to the caller",
            "void *f(void)\n{\n\tvoid *p = kzalloc(8, GFP_KERNEL);\n\n\tif (!p)\n\t\treturn NULL;\n\treturn p;\n}\n",
            "gone",
        ),
        (
            "freed only under a condition",
            "void f(void)\n{\n\tchar *buf = kmalloc(16, GFP_KERNEL);\n\n\tif (g())\n\t\tkfree(buf);\n}\n",
            "present",
        ),
    ];
    for (what, function, expected) in cases {
        let verdict = recheck(Defect::Leak, "item is leaked", function);
        assert_eq!(verdict_kind(&verdict), expected, "{what}: {verdict:?}");
    }
}

#[test]
fn the_verdict_names_the_place() {
    let verdict = recheck(
        Defect::LockBalance,
        "foo->lock is not released",
        "int f(struct foo *foo)\n{\n\tmutex_lock(&foo->lock);\n\tif (x)\n\t\treturn -EINVAL;\n\tmutex_unlock(&foo->lock);\n\treturn 0;\n}\n",
    );
    assert_eq!(
        verdict,
        Verdict::Present("foo->lock is held at `return -EINVAL`".to_owned())
    );
}
