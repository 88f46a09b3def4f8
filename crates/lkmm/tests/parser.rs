//! Data-driven parser tests: accepted shapes and errors with line/column.

use sashiko_lkmm::ast::{AtomValue, InitEntry, InitValue, Prop, Quantifier, StateLoc};
use sashiko_lkmm::parse_litmus;

#[test]
fn accepts_the_formats_used_by_the_corpus() {
    let cases: &[(&str, &str)] = &[
        ("doc string and key lines", "C t\n\"doc\"\nCycle=Rfe PodRR\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (x=1)\n"),
        ("nested ocaml comment", "C t\n(* a (* nested *) comment *)\n{ int x = 2; }\nP0(int *x) { int r0 = READ_ONCE(*x); }\nexists (0:r0=2)\n"),
        ("pointer init and addr atom", "C t\n{ int y; int *p = &y; 0:r1 = 0; }\nP0(int **p) { int *r1; r1 = READ_ONCE(*p); }\nexists (0:r1=y)\n"),
        ("atomic init", "C t\n{ atomic_t v = ATOMIC_INIT(1); }\nP0(atomic_t *v) { int r0 = atomic_inc_return(v); }\nforall (0:r0=2)\n"),
        ("filter and locations", "C t\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nlocations [x]\nfilter (x=1)\n~exists (x=2)\n"),
        ("if else and operators", "C t\n{}\nP0(int *x) { int r0 = READ_ONCE(*x); if (r0 == 1 && !(r0 & 2)) { WRITE_ONCE(*x, r0 + 1); } else WRITE_ONCE(*x, -1); }\nexists (x=2 \\/ ~x=0)\n"),
        ("dat3m arrays and values", "C t\n{ c[2] = {3, -1}; a[2] = {1, *(&c)}; int *p = *(&a); }\nP0(int *p) { int r0 = READ_ONCE(*p); }\nexists (0:r0=1 /\\ a[1]=0)\n"),
        ("register declared in init", "C t\n{ int 0:r1; int * 1:r2; }\nP0(int *x) { r1 = READ_ONCE(*x); }\nP1(int *x) { r2 = x; }\nexists (0:r1=0)\n"),
    ];
    for (name, src) in cases {
        if let Err(e) = parse_litmus(src) {
            panic!("{name}: {e}");
        }
    }
}

#[test]
fn parses_structure() {
    let t = parse_litmus("C name.litmus\n{ int x = 1; int *p = &x; 1:r0 = 3; }\nP0(int *x, spinlock_t *l) { spin_lock(l); }\nP1(int *x) { }\nexists (0:r0=1 /\\ [x]=2 \\/ 1:r0=0:r1)\n").expect("parses");
    assert_eq!(t.name, "name");
    assert_eq!(t.processes.len(), 2);
    assert_eq!(
        t.processes[0].params[1],
        ("l".to_string(), "spinlock_t *".to_string())
    );
    assert_eq!(t.quantifier, Quantifier::Exists);
    assert!(t.init.contains(&InitEntry::Location {
        name: "p".into(),
        ctype: "int *".into(),
        value: Some(InitValue::Addr("x".into()))
    }));
    assert!(t.init.contains(&InitEntry::Register {
        thread: 1,
        name: "r0".into(),
        value: InitValue::Int(3)
    }));
    match &t.condition {
        Prop::Or(_, right) => assert_eq!(
            **right,
            Prop::Atom(
                StateLoc::Reg(1, "r0".into()),
                AtomValue::Loc(StateLoc::Reg(0, "r1".into()))
            )
        ),
        other => panic!("unexpected condition {other:?}"),
    }
}

#[test]
fn errors_name_line_and_column() {
    let cases: &[(&str, &str, usize, usize)] = &[
        ("missing header", "P0() {}\n", 1, 1),
        (
            "bad statement",
            "C t\n{}\nP0(int *x) {\n  WRITE_ONCE(*x, 1)\n}\nexists (x=1)\n",
            5,
            1,
        ),
        (
            "loop",
            "C t\n{}\nP0(int *x) {\n  while (1) { }\n}\nexists (x=1)\n",
            4,
            3,
        ),
        (
            "bad condition",
            "C t\n{}\nP0(int *x) { }\nexists (x=)\n",
            4,
            11,
        ),
        (
            "stray character",
            "C t\n{}\nP0(int *x) { int r0 = $; }\nexists (x=0)\n",
            3,
            23,
        ),
    ];
    for (name, src, line, column) in cases {
        let e = parse_litmus(src).expect_err(name);
        assert_eq!((e.line, e.column), (*line, *column), "{name}: {e}");
    }
}

#[test]
fn every_problem_of_a_file_is_reported() {
    // A bad init entry, a missing `;`, a stray character, an unsupported
    // loop inside a block, and a bad condition: five problems, in order.
    let src = "C t\n{ int x = ; int y = 1; }\nP0(int *x) {\n  WRITE_ONCE(*x, 1)\n  int r0 = $;\n  if (r0) { while (1) { } }\n  int r1 = READ_ONCE(*x);\n}\nexists (x=)\n";
    let e = parse_litmus(src).expect_err("five problems");
    let found: Vec<(usize, usize)> = e.diagnostics().iter().map(|d| (d.line, d.column)).collect();
    assert_eq!(
        found,
        vec![(2, 11), (5, 3), (5, 12), (6, 13), (9, 11)],
        "{e}"
    );
    assert_eq!((e.line, e.column), (2, 11), "the first problem leads");
    let text = e.to_string();
    assert!(
        text.contains("line 5, column 12: unexpected character '$'")
            && text.contains("line 6, column 13: `while` statements are not supported"),
        "{text}"
    );
}

#[test]
fn recovery_keeps_the_statements_around_an_error() {
    // One bad statement between good ones: only it is reported, once.
    let src = "C t\n{}\nP0(int *x) {\n  WRITE_ONCE(*x, 1);\n  r0 = ;\n  WRITE_ONCE(*x, 2);\n}\nP1(int *x) {\n  int r1 = READ_ONCE(*x);\n}\nexists (1:r1=2)\n";
    let e = parse_litmus(src).expect_err("one problem");
    assert_eq!(e.diagnostics().len(), 1, "{e}");
    assert_eq!((e.line, e.column), (5, 8), "{e}");
}
