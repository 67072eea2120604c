//! The `qm` commands as the interchange spec and the CLI contract describe them: `apply`
//! (per-file atomic batches, acknowledgement lines, every bad line reported, idempotent ids),
//! `balance --json` (filters, `--as-of` around late records, sorting, non-zero rows only),
//! `review --json`, `export` (round trip into an empty database), `verify`, the `--db`
//! option, `QM_DB`, standard input, and exit statuses 0, 1 and 2; then what a new user meets:
//! filters naming what does not exist (exit 1, named), storage errors with each cause once,
//! a closed standard output (quiet, exit 0), a description for every option, who recorded a
//! batch (`--by`, `QM_USER`, the OS user), review tables aligned whatever the names, the
//! demo's output and closing commands, the README's examples run as written, and where the
//! benchmark's memory figures come from.

use serde_json::{json, Value};

use crate::support::{bal, parse_balances, run_in, world, Bal, Db, Jsonl, Run};

/// `2025-01-DDTHH:00:00Z`.
fn jan(day: u32, hour: u32) -> String {
    format!("2025-01-{day:02}T{hour:02}:00:00Z")
}

/// Movements over the standard world, deliberately not in time order, touching every kind of
/// tracking, a sink, and a depot that ends at zero.
fn moves() -> Jsonl {
    let mut j = Jsonl::new();
    j.mv("m2", &jan(11, 8), "AMMO", 200, "DEPOT-A", "DEPOT-B")
        .mv("m1", &jan(10, 8), "AMMO", 1000, "FACTORY", "DEPOT-A")
        .mv_lot("m3", &jan(12, 8), "SHELL", "L1", 300, "FACTORY", "DEPOT-A")
        .mv_lot("m4", &jan(12, 9), "SHELL", "L2", 50, "FACTORY", "DEPOT-A")
        .mv_lot("m5", &jan(13, 8), "SHELL", "L1", 100, "DEPOT-A", "UA-DEPOT")
        .mv_serials(
            "m6",
            &jan(14, 8),
            "RIFLE",
            &["R1", "R2", "R3"],
            "FACTORY",
            "DEPOT-A",
        )
        .mv_serials("m7", &jan(15, 8), "RIFLE", &["R1"], "DEPOT-A", "UA-UNIT")
        .mv("m8", &jan(16, 8), "AMMO", 200, "DEPOT-B", "UA-UNIT")
        .mv("m9", &jan(17, 8), "AMMO", 50, "UA-UNIT", "EXPENDED");
    j
}

/// Every non-zero balance after [`moves`], in the order `qm balance` must print them.
fn expected_after_moves() -> Vec<Bal> {
    vec![
        bal("DEPOT-A", "AMMO", None, 800),
        bal("DEPOT-A", "RIFLE", None, 2),
        bal("DEPOT-A", "SHELL", Some("L1"), 200),
        bal("DEPOT-A", "SHELL", Some("L2"), 50),
        bal("EXPENDED", "AMMO", None, 50),
        bal("FACTORY", "AMMO", None, -1000),
        bal("FACTORY", "RIFLE", None, -3),
        bal("FACTORY", "SHELL", Some("L1"), -300),
        bal("FACTORY", "SHELL", Some("L2"), -50),
        bal("UA-DEPOT", "SHELL", Some("L1"), 100),
        bal("UA-UNIT", "AMMO", None, 150),
        bal("UA-UNIT", "RIFLE", None, 1),
    ]
}

/// A database holding [`world`] (batch 1) and [`moves`] (batch 2).
fn seeded() -> Db {
    let db = Db::new();
    db.apply_ok("world.jsonl", &world().text());
    db.apply_ok("moves.jsonl", &moves().text());
    db
}

fn balance(db: &Db, args: &[&str]) -> Vec<Bal> {
    let mut full = vec!["balance", "--json"];
    full.extend_from_slice(args);
    parse_balances(&db.qm(&full).ok().json())
}

/// The lines of `stderr` that report a bad line of `file`, as `(line, field)`.
fn reported_lines(stderr: &str, file: &str) -> Vec<(u32, Option<String>)> {
    let prefix = format!("{file}:");
    stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (num, rest) = rest.split_once(':')?;
            let line: u32 = num.parse().ok()?;
            let field = rest
                .trim_start()
                .strip_prefix("field \"")
                .and_then(|r| r.split_once('"'))
                .map(|(f, _)| f.to_owned());
            Some((line, field))
        })
        .collect()
}

#[test]
fn apply_acknowledges_each_file_and_balance_lists_every_nonzero_balance_sorted() {
    let db = Db::new();
    let w = db.file("world.jsonl", &world().text());
    let m = db.file("moves.jsonl", &moves().text());
    let r = db.qm(&["apply", &w, &m]);
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            format!("{w}: applied {} records as batch 1", world().len()),
            format!("{m}: applied {} records as batch 2", moves().len()),
        ],
        "stdout: {}",
        r.stdout
    );

    let got = db.balances(None);
    assert_eq!(got, expected_after_moves());
    // The JSON itself: `lot` is present and null for items without lots.
    let raw = db.qm(&["balance", "--json"]).ok().json();
    let first = &raw.as_array().unwrap()[0];
    assert_eq!(
        first,
        &json!({"holder": "DEPOT-A", "item": "AMMO", "lot": null, "qty": 800})
    );
    // DEPOT-B received 200 and sent 200: a zero balance is not listed.
    assert!(got.iter().all(|b| b.holder != "DEPOT-B"), "{got:?}");
    db.qm(&["verify"]).ok();
}

#[test]
fn balance_filters_by_holder_item_and_lot() {
    let db = seeded();
    let all = expected_after_moves();
    let only = |f: &dyn Fn(&Bal) -> bool| all.iter().filter(|b| f(b)).cloned().collect::<Vec<_>>();

    assert_eq!(
        balance(&db, &["--holder", "DEPOT-A"]),
        only(&|b| b.holder == "DEPOT-A")
    );
    assert_eq!(
        balance(&db, &["--item", "SHELL"]),
        only(&|b| b.item == "SHELL")
    );
    assert_eq!(
        balance(&db, &["--item", "SHELL", "--lot", "L1"]),
        only(&|b| b.item == "SHELL" && b.lot.as_deref() == Some("L1"))
    );
    assert_eq!(
        balance(&db, &["--holder", "UA-UNIT", "--item", "AMMO"]),
        vec![bal("UA-UNIT", "AMMO", None, 150)]
    );
    assert_eq!(
        balance(&db, &["--holder", "UA-UNIT", "--item", "RIFLE"]),
        vec![bal("UA-UNIT", "RIFLE", None, 1)]
    );
    // Options in another order mean the same.
    assert_eq!(
        balance(&db, &["--lot", "L2", "--holder", "DEPOT-A"]),
        vec![bal("DEPOT-A", "SHELL", Some("L2"), 50)]
    );
    // A holder whose stock went back to zero has no rows.
    assert_eq!(balance(&db, &["--holder", "DEPOT-B"]), vec![]);
}

#[test]
fn balance_as_of_counts_movements_at_or_before_the_time() {
    let db = seeded();
    // Midnight of the 10th: before anything happened.
    assert_eq!(balance(&db, &["--as-of", "2025-01-10"]), vec![]);
    // Exactly at m1's time: m1 counts.
    assert_eq!(
        balance(&db, &["--as-of", &jan(10, 8)]),
        vec![
            bal("DEPOT-A", "AMMO", None, 1000),
            bal("FACTORY", "AMMO", None, -1000)
        ]
    );
    // One second before m2: DEPOT-B has nothing yet. RFC 3339 with an offset is accepted.
    assert_eq!(
        balance(
            &db,
            &[
                "--holder",
                "DEPOT-B",
                "--as-of",
                "2025-01-11T09:59:59+02:00"
            ]
        ),
        vec![]
    );
    assert_eq!(
        balance(
            &db,
            &[
                "--holder",
                "DEPOT-B",
                "--as-of",
                "2025-01-11T10:00:00+02:00"
            ]
        ),
        vec![bal("DEPOT-B", "AMMO", None, 200)]
    );
    assert_eq!(
        balance(&db, &["--item", "RIFLE", "--as-of", "2025-01-14T12:00:00Z"]),
        vec![
            bal("DEPOT-A", "RIFLE", None, 3),
            bal("FACTORY", "RIFLE", None, -3)
        ]
    );
    // Far in the future: the same as now.
    assert_eq!(
        balance(&db, &["--as-of", "2100-01-01"]),
        expected_after_moves()
    );
}

#[test]
fn a_late_record_changes_balances_from_its_effective_time_on() {
    let db = seeded();
    let mut j = Jsonl::new();
    j.mv(
        "k1",
        "2025-03-01T00:00:00Z",
        "AMMO",
        100,
        "FACTORY",
        "DEPOT-B",
    )
    .mv(
        "k2",
        "2025-04-01T00:00:00Z",
        "AMMO",
        60,
        "DEPOT-B",
        "UA-DEPOT",
    );
    db.apply_ok("march.jsonl", &j.text());
    let depot_b = |t: &str| balance(&db, &["--holder", "DEPOT-B", "--as-of", t]);
    assert_eq!(depot_b("2025-02-20"), vec![]);
    assert_eq!(
        depot_b("2025-03-15"),
        vec![bal("DEPOT-B", "AMMO", None, 100)]
    );
    assert_eq!(
        depot_b("2025-05-01"),
        vec![bal("DEPOT-B", "AMMO", None, 40)]
    );

    // Recorded late, effective in February.
    let mut late = Jsonl::new();
    late.mv(
        "k0",
        "2025-02-15T00:00:00Z",
        "AMMO",
        50,
        "FACTORY",
        "DEPOT-B",
    );
    let r = db.apply_ok("late.jsonl", &late.text());
    assert!(
        r.stdout.contains("applied 1 records as batch 4"),
        "{}",
        r.stdout
    );
    assert_eq!(depot_b("2025-02-14"), vec![]);
    assert_eq!(
        depot_b("2025-02-15"),
        vec![bal("DEPOT-B", "AMMO", None, 50)]
    );
    assert_eq!(
        depot_b("2025-02-20"),
        vec![bal("DEPOT-B", "AMMO", None, 50)]
    );
    assert_eq!(
        depot_b("2025-03-15"),
        vec![bal("DEPOT-B", "AMMO", None, 150)]
    );
    assert_eq!(
        depot_b("2025-05-01"),
        vec![bal("DEPOT-B", "AMMO", None, 90)]
    );
    assert_eq!(
        balance(&db, &["--holder", "DEPOT-B"]),
        vec![bal("DEPOT-B", "AMMO", None, 90)]
    );
    db.qm(&["verify"]).ok();
}

#[test]
fn a_late_record_is_rejected_when_any_later_balance_would_go_negative() {
    let db = seeded();
    let mut j = Jsonl::new();
    j.mv(
        "k1",
        "2025-03-01T00:00:00Z",
        "AMMO",
        150,
        "FACTORY",
        "DEPOT-B",
    )
    .mv(
        "k2",
        "2025-04-01T00:00:00Z",
        "AMMO",
        60,
        "DEPOT-B",
        "UA-DEPOT",
    );
    db.apply_ok("march.jsonl", &j.text());
    let before = db.export();

    // At its own time DEPOT-B has 150, enough; but on 1 April it would be 50 - 60 = -10.
    let mut late = Jsonl::new();
    late.mv(
        "k3",
        "2025-03-20T00:00:00Z",
        "AMMO",
        100,
        "DEPOT-B",
        "UA-DEPOT",
    );
    let f = db.file("late.jsonl", &late.text());
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    let bad = reported_lines(&r.stderr, &f);
    assert_eq!(bad.len(), 1, "{}", r.stderr);
    assert_eq!(bad[0].0, 1);
    assert!(bad[0].1.is_some(), "the error names a field: {}", r.stderr);
    assert!(!r.stdout.contains("applied"), "{}", r.stdout);

    // Before its time there is nothing at DEPOT-B at all.
    let mut early = Jsonl::new();
    early.mv(
        "k4",
        "2025-02-01T00:00:00Z",
        "AMMO",
        1,
        "DEPOT-B",
        "UA-DEPOT",
    );
    let f = db.file("early.jsonl", &early.text());
    db.qm(&["apply", &f]).expect_code(1);

    // Lots count separately: L2 has 50 at DEPOT-A, though the item has 250 there.
    let mut lot = Jsonl::new();
    lot.mv_lot(
        "k5",
        "2025-06-01T00:00:00Z",
        "SHELL",
        "L2",
        51,
        "DEPOT-A",
        "UA-DEPOT",
    );
    let f = db.file("lot.jsonl", &lot.text());
    db.qm(&["apply", &f]).expect_code(1);

    assert_eq!(db.export(), before, "rejected files change nothing");
    db.qm(&["verify"]).ok();
}

#[test]
fn review_json_reports_on_hand_floor_headroom_and_in_transit() {
    let db = Db::new();
    let mut w = world();
    w.floor("AMMO", "US", 500).floor("SHELL", "US", 1000);
    db.apply_ok("world.jsonl", &w.text());
    let mut j = Jsonl::new();
    j.mv(
        "r1",
        "2025-05-01T00:00:00Z",
        "AMMO",
        1000,
        "FACTORY",
        "DEPOT-A",
    )
    .mv(
        "r2",
        "2025-05-02T00:00:00Z",
        "AMMO",
        100,
        "DEPOT-A",
        "DEPOT-B",
    )
    .mv("r3", "2025-05-03T00:00:00Z", "AMMO", 300, "DEPOT-A", "SHIP")
    .mv(
        "r4",
        "2025-05-10T00:00:00Z",
        "AMMO",
        100,
        "SHIP",
        "UA-DEPOT",
    )
    .mv_lot(
        "r5",
        "2025-05-01T00:00:00Z",
        "SHELL",
        "L1",
        400,
        "FACTORY",
        "DEPOT-B",
    );
    db.apply_ok("moves.jsonl", &j.text());

    let review = |args: &[&str]| -> Value {
        let mut full = vec!["review", "--json"];
        full.extend_from_slice(args);
        let v = db.qm(&full).ok().json();
        assert!(v["as_of"].is_string(), "as_of: {v}");
        assert!(v["items"].is_array(), "items: {v}");
        for it in v["items"].as_array().unwrap() {
            for k in ["item", "on_hand", "floor", "headroom", "in_transit"] {
                assert!(it.get(k).is_some(), "review item lacks {k:?}: {it}");
            }
            assert_eq!(
                it["headroom"].as_i64().unwrap(),
                it["on_hand"].as_i64().unwrap() - it["floor"].as_i64().unwrap(),
                "headroom = on_hand - floor: {it}"
            );
        }
        v
    };
    let item = |v: &Value, code: &str| -> Value {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["item"] == code)
            .unwrap_or_else(|| panic!("no {code} in review {v}"))
            .clone()
    };
    let fields = |i: &Value| {
        (
            i["on_hand"].as_i64().unwrap(),
            i["floor"].as_i64().unwrap(),
            i["headroom"].as_i64().unwrap(),
            i["in_transit"].as_i64().unwrap(),
        )
    };

    let us = review(&["--org", "US", "--as-of", "2025-06-01"]);
    assert_eq!(us["as_of"], "2025-06-01T00:00:00Z");
    assert_eq!(fields(&item(&us, "AMMO")), (700, 500, 200, 200));
    assert_eq!(fields(&item(&us, "SHELL")), (400, 1000, -600, 0));

    // Before the ship unloaded: 300 in transit.
    let us_early = review(&["--org", "US", "--as-of", "2025-05-05"]);
    assert_eq!(fields(&item(&us_early, "AMMO")), (700, 500, 200, 300));
    // Before anything arrived.
    let us_empty = review(&["--org", "US", "--as-of", "2025-04-01T12:30:00Z"]);
    assert_eq!(us_empty["as_of"], "2025-04-01T12:30:00Z");
    assert_eq!(fields(&item(&us_empty, "AMMO")), (0, 500, -500, 0));

    let ua = review(&["--org", "UA", "--as-of", "2025-06-01"]);
    assert_eq!(fields(&item(&ua, "AMMO")), (100, 0, 100, 0));

    // Without --org: every org's depots and floors; without --as-of: now.
    let all = review(&[]);
    assert_eq!(fields(&item(&all, "AMMO")), (800, 500, 300, 200));
}

#[test]
fn a_rejected_file_reports_every_bad_line_with_file_line_and_field_and_applies_nothing() {
    let db = seeded();
    let before = db.export();
    let mut j = Jsonl::new();
    j.mv("x1", &jan(20, 8), "AMMO", 10, "DEPOT-A", "UA-DEPOT") // 1: fine
        .mv("x2", &jan(20, 8), "AMMO", 10, "NOWHERE", "UA-DEPOT") // 2: unknown holder
        .mv("x3", &jan(20, 8), "AMMO", 10, "DEPOT-A", "FACTORY") // 3: a source receives
        .mv("x4", &jan(20, 8), "AMMO", 10, "EXPENDED", "UA-DEPOT") // 4: a sink sends
        .mv("x5", &jan(20, 8), "AMMO", 10, "DEPOT-A", "UA-DEPOT") // 5: fine
        .mv_serials("x6", &jan(20, 8), "RIFLE", &["R1"], "DEPOT-A", "UA-DEPOT") // 6: R1 is at UA-UNIT
        .mv_serials("x7", &jan(20, 8), "RIFLE", &["R1"], "FACTORY", "DEPOT-B") // 7: R1 left its source long ago
        .mv("x8", &jan(20, 8), "WIDGET", 10, "DEPOT-A", "UA-DEPOT") // 8: unknown item
        .mv_lot("x9", &jan(20, 8), "SHELL", "L2", 500, "DEPOT-A", "UA-DEPOT") // 9: only 50 of L2
        .mv("x10", &jan(20, 8), "AMMO", 10, "DEPOT-A", "DEPOT-A") // 10: to itself
        .mv("x11", &jan(20, 9), "AMMO", 5, "UA-DEPOT", "UA-UNIT"); // 11: fine (x1 arrives first)
    let f = db.file("bad.jsonl", &j.text());
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    let mut bad: Vec<u32> = reported_lines(&r.stderr, &f)
        .iter()
        .map(|(l, _)| *l)
        .collect();
    bad.sort_unstable();
    bad.dedup();
    assert_eq!(
        bad,
        vec![2, 3, 4, 6, 7, 8, 9, 10],
        "every bad line, and only those:\n{}",
        r.stderr
    );
    for (line, field) in reported_lines(&r.stderr, &f) {
        assert!(field.is_some(), "line {line} names no field:\n{}", r.stderr);
    }
    // The fields at fault.
    let fields: Vec<(u32, String)> = reported_lines(&r.stderr, &f)
        .into_iter()
        .map(|(l, f)| (l, f.unwrap_or_default()))
        .collect();
    for want in [(2, "from"), (3, "to"), (4, "from"), (8, "item")] {
        assert!(
            fields.iter().any(|(l, f)| *l == want.0 && f == want.1),
            "line {} should name field {:?}:\n{}",
            want.0,
            want.1,
            r.stderr
        );
    }
    assert!(!r.stdout.contains("applied"), "{}", r.stdout);
    assert_eq!(db.export(), before, "nothing of a rejected file is applied");
    assert_eq!(db.balances(None), expected_after_moves());
    db.qm(&["verify"]).ok();
}

#[test]
fn unparseable_lines_are_all_reported() {
    let db = seeded();
    let before = db.export();
    let mut j = Jsonl::new();
    j.mv("p1", &jan(20, 8), "AMMO", 10, "DEPOT-A", "UA-DEPOT") // 1: fine
        .raw("{this is not json") // 2
        .mv("p3", &jan(20, 8), "AMMO", 0, "DEPOT-A", "UA-DEPOT") // 3: qty 0
        .push(json!({"type": "movement", "id": "p4", "time": jan(20, 8), "item": "AMMO", "qty": 1, "from": "DEPOT-A"})) // 4: no "to"
        .mv("p5", "2025-13-01T00:00:00Z", "AMMO", 1, "DEPOT-A", "UA-DEPOT") // 5: month 13
        .mv("p6", &jan(20, 8), "AMMO", 1, "DEPOT-A", "UA-DEPOT") // 6: fine
        .push(json!({"type": "holder", "id": "H", "name": "H", "org": "US", "kind": "warehouse"})); // 7: bad kind
    let f = db.file("garbled.jsonl", &j.text());
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    let reported = reported_lines(&r.stderr, &f);
    let mut lines: Vec<u32> = reported.iter().map(|(l, _)| *l).collect();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(
        lines,
        vec![2, 3, 4, 5, 7],
        "every bad line, and only those:\n{}",
        r.stderr
    );
    for want in [(3, "qty"), (4, "to"), (5, "time"), (7, "kind")] {
        assert!(
            reported
                .iter()
                .any(|(l, f)| *l == want.0 && f.as_deref() == Some(want.1)),
            "line {} should name field {:?}:\n{}",
            want.0,
            want.1,
            r.stderr
        );
    }
    assert_eq!(db.export(), before);
}

#[test]
fn other_files_apply_independently_of_a_rejected_one() {
    let db = seeded();
    let mut g1 = Jsonl::new();
    g1.mv("g1", &jan(21, 8), "AMMO", 10, "DEPOT-A", "UA-DEPOT");
    let mut b = Jsonl::new();
    b.mv("b1", &jan(21, 8), "AMMO", 10, "DEPOT-A", "UA-DEPOT")
        .mv("b2", &jan(21, 8), "AMMO", 1_000_000, "DEPOT-A", "UA-DEPOT");
    let mut g2 = Jsonl::new();
    g2.mv("g2", &jan(22, 8), "AMMO", 5, "UA-DEPOT", "UA-UNIT");
    let (f1, fb, f2) = (
        db.file("g1.jsonl", &g1.text()),
        db.file("b.jsonl", &b.text()),
        db.file("g2.jsonl", &g2.text()),
    );
    let r = db.qm(&["apply", &f1, &fb, &f2]);
    r.expect_code(1);
    let out: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        out,
        vec![
            format!("{f1}: applied 1 records as batch 3"),
            format!("{f2}: applied 1 records as batch 4")
        ],
        "stderr: {}",
        r.stderr
    );
    assert_eq!(
        reported_lines(&r.stderr, &fb)
            .iter()
            .map(|(l, _)| *l)
            .collect::<Vec<_>>(),
        vec![2],
        "{}",
        r.stderr
    );
    let ids = crate::support::movement_ids(&db.export());
    assert!(ids.contains_key("g1") && ids.contains_key("g2"));
    assert!(!ids.contains_key("b1") && !ids.contains_key("b2"));
    assert_eq!(
        balance(&db, &["--holder", "UA-DEPOT", "--item", "AMMO"]),
        vec![bal("UA-DEPOT", "AMMO", None, 5)]
    );
    // A missing file is an error too, and does not stop the others.
    let mut g3 = Jsonl::new();
    g3.mv("g3", &jan(23, 8), "AMMO", 1, "DEPOT-A", "UA-DEPOT");
    let f3 = db.file("g3.jsonl", &g3.text());
    let missing = db.dir().join("missing.jsonl");
    let r = db.qm(&["apply", missing.to_str().unwrap(), &f3]);
    assert_ne!(r.code, Some(0), "a missing file is not a success");
    assert!(
        r.stdout
            .contains(&format!("{f3}: applied 1 records as batch 5")),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    db.qm(&["verify"]).ok();
}

#[test]
fn usage_errors_exit_2() {
    let db = seeded();
    for args in [
        vec!["balance", "--json", "--frobnicate"],
        vec!["--frobnicate", "balance", "--json"],
        vec!["frobnicate"],
        vec!["apply"],
        vec!["balance", "--json", "--as-of", "yesterday"],
        vec!["review", "--json", "--as-of", "2025-02-30"],
    ] {
        let r = db.qm(&args);
        r.expect_code(2);
        assert!(
            !r.stderr.trim().is_empty(),
            "qm {args:?} explains itself on stderr"
        );
    }
    let r = run_in(db.dir(), &[], None, &[]);
    r.expect_code(2);
    // Nothing was changed by the usage errors.
    assert_eq!(db.balances(None), expected_after_moves());
}

#[test]
fn db_option_before_or_after_the_subcommand_and_qm_db() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let a = cwd.join("a.db");
    let b = cwd.join("b.db");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let w = cwd.join("world.jsonl");
    std::fs::write(&w, world().text()).unwrap();
    let w = w.to_str().unwrap();
    let mut j1 = Jsonl::new();
    j1.mv("d1", &jan(10, 8), "AMMO", 1, "FACTORY", "DEPOT-A");
    let mut j2 = Jsonl::new();
    j2.mv("d2", &jan(10, 8), "AMMO", 2, "FACTORY", "DEPOT-A");
    let mut j3 = Jsonl::new();
    j3.mv("d3", &jan(10, 8), "AMMO", 4, "FACTORY", "DEPOT-A");
    let mut j4 = Jsonl::new();
    j4.mv("d4", &jan(10, 8), "AMMO", 8, "FACTORY", "DEPOT-A");
    let files: Vec<String> = [j1, j2, j3, j4]
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let p = cwd.join(format!("d{}.jsonl", i + 1));
            std::fs::write(&p, j.text()).unwrap();
            p.to_str().unwrap().to_owned()
        })
        .collect();

    run_in(cwd, &["--db", a, "apply", w], None, &[]).ok();
    run_in(cwd, &["--db", a, "apply", &files[0]], None, &[]).ok();
    run_in(cwd, &["apply", "--db", a, &files[1]], None, &[]).ok();
    run_in(cwd, &["apply", &files[2], "--db", a], None, &[]).ok();
    // QM_DB names the database; --db wins over it.
    run_in(cwd, &["apply", w], None, &[("QM_DB", b)]).ok();
    run_in(cwd, &["apply", &files[3], "--db", a], None, &[("QM_DB", b)]).ok();

    let depot_a = |args: &[&str], env: &[(&str, &str)]| -> Vec<Bal> {
        let mut full = args.to_vec();
        full.extend(["--holder", "DEPOT-A"]);
        parse_balances(&run_in(cwd, &full, None, env).ok().json())
    };
    assert_eq!(
        depot_a(&["--db", a, "balance", "--json"], &[]),
        vec![bal("DEPOT-A", "AMMO", None, 15)]
    );
    assert_eq!(
        depot_a(&["balance", "--db", a, "--json"], &[]),
        vec![bal("DEPOT-A", "AMMO", None, 15)]
    );
    assert_eq!(
        depot_a(&["balance", "--json", "--db", a], &[("QM_DB", b)]),
        vec![bal("DEPOT-A", "AMMO", None, 15)]
    );
    assert_eq!(depot_a(&["balance", "--json"], &[("QM_DB", b)]), vec![]);
    // b holds only the world.
    let exported = run_in(cwd, &["export"], None, &[("QM_DB", b)])
        .ok()
        .stdout
        .clone();
    assert_eq!(exported.lines().count(), world().len());

    // No --db and no QM_DB: ./quartermaster.db in the working directory.
    run_in(cwd, &["apply", w, &files[0]], None, &[]).ok();
    assert!(
        cwd.join("quartermaster.db").exists(),
        "the default database is ./quartermaster.db"
    );
    assert_eq!(
        depot_a(&["balance", "--json"], &[]),
        vec![bal("DEPOT-A", "AMMO", None, 1)]
    );
    run_in(cwd, &["verify"], None, &[]).ok();
    run_in(cwd, &["verify"], None, &[("QM_DB", b)]).ok();
    run_in(cwd, &["verify", "--db", a], None, &[]).ok();
}

#[test]
fn apply_dash_reads_standard_input() {
    let db = Db::new();
    let mut text = world().text();
    text.push_str(&moves().text());
    let n = world().len() + moves().len();
    let r = db.qm_stdin(&["apply", "-"], Some(&text));
    r.ok();
    assert_eq!(
        r.stdout.trim_end(),
        format!("-: applied {n} records as batch 1")
    );
    assert_eq!(db.balances(None), expected_after_moves());
    // A file and standard input in one command.
    let mut more = Jsonl::new();
    more.mv("s1", &jan(25, 8), "AMMO", 1, "DEPOT-A", "DEPOT-B");
    let f = db.file("more.jsonl", &more.text());
    let mut stdin = Jsonl::new();
    stdin.mv("s2", &jan(26, 8), "AMMO", 1, "DEPOT-B", "UA-DEPOT");
    let r = db.qm_stdin(&["apply", &f, "-"], Some(&stdin.text()));
    r.ok();
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        vec![
            format!("{f}: applied 1 records as batch 2"),
            "-: applied 1 records as batch 3".to_owned()
        ]
    );
    assert_eq!(
        balance(&db, &["--holder", "UA-DEPOT", "--item", "AMMO"]),
        vec![bal("UA-DEPOT", "AMMO", None, 1)]
    );
}

#[test]
fn applying_the_same_file_again_records_nothing_new() {
    let db = Db::new();
    let w = db.file("world.jsonl", &world().text());
    let m = db.file("moves.jsonl", &moves().text());
    db.qm(&["apply", &w, &m]).ok();
    let export = db.export();

    let r = db.qm(&["apply", &m]);
    r.ok();
    assert_eq!(
        r.stdout.trim_end(),
        format!("{m}: nothing new ({} already recorded)", moves().len())
    );
    let r = db.qm(&["apply", &w, &m]);
    r.ok();
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        vec![
            format!("{w}: nothing new ({} already recorded)", world().len()),
            format!("{m}: nothing new ({} already recorded)", moves().len())
        ]
    );
    assert_eq!(db.export(), export, "a re-applied file records nothing");
    assert_eq!(db.balances(None), expected_after_moves());

    // Half old, half new: only the new part becomes a batch.
    let mut mixed = moves();
    mixed.mv("n1", &jan(28, 8), "AMMO", 7, "DEPOT-A", "UA-DEPOT");
    let f = db.file("mixed.jsonl", &mixed.text());
    let r = db.qm(&["apply", &f]);
    r.ok();
    assert!(
        r.stdout
            .starts_with(&format!("{f}: applied 1 records as batch 3")),
        "{}",
        r.stdout
    );
    let ids = crate::support::movement_ids(&db.export());
    assert!(
        ids.values().all(|&n| n == 1),
        "each movement once in the export: {ids:?}"
    );
    assert_eq!(ids.len(), 10);
    // The same id twice in one file, identical: applied once.
    let mut twice = Jsonl::new();
    twice
        .mv("n2", &jan(28, 9), "AMMO", 1, "DEPOT-A", "UA-DEPOT")
        .mv("n2", &jan(28, 9), "AMMO", 1, "DEPOT-A", "UA-DEPOT");
    let f = db.file("twice.jsonl", &twice.text());
    let r = db.qm(&["apply", &f]);
    r.ok();
    assert!(
        r.stdout
            .starts_with(&format!("{f}: applied 1 records as batch 4")),
        "{}",
        r.stdout
    );
    assert_eq!(
        balance(&db, &["--holder", "UA-DEPOT", "--item", "AMMO"]),
        vec![bal("UA-DEPOT", "AMMO", None, 8)]
    );
    db.qm(&["verify"]).ok();
}

#[test]
fn a_different_record_under_a_used_id_is_rejected_naming_the_id() {
    let db = seeded();
    let before = db.export();
    let mut j = Jsonl::new();
    j.mv("fresh", &jan(29, 8), "AMMO", 1, "DEPOT-A", "UA-DEPOT") // 1: fine
        .mv("m1", &jan(10, 8), "AMMO", 999, "FACTORY", "DEPOT-A"); // 2: m1 had qty 1000
    let f = db.file("reuse.jsonl", &j.text());
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    let reported = reported_lines(&r.stderr, &f);
    assert_eq!(reported, vec![(2, Some("id".to_owned()))], "{}", r.stderr);
    assert_eq!(db.export(), before);

    // The same within one file: two different movements under one new id.
    let mut j = Jsonl::new();
    j.mv("dup", &jan(29, 8), "AMMO", 1, "DEPOT-A", "UA-DEPOT")
        .mv("dup", &jan(29, 8), "AMMO", 2, "DEPOT-A", "UA-DEPOT");
    let f = db.file("dup.jsonl", &j.text());
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    assert!(
        reported_lines(&r.stderr, &f)
            .iter()
            .any(|(_, fld)| fld.as_deref() == Some("id")),
        "{}",
        r.stderr
    );
    assert_eq!(db.export(), before);
    // A movement id differing in another field (the note) is a different record too.
    let mut m1 = crate::support::movement("m1", &jan(10, 8), "AMMO", 1000, "FACTORY", "DEPOT-A");
    m1["note"] = json!("changed");
    let mut j = Jsonl::new();
    j.push(m1);
    let f = db.file("note.jsonl", &j.text());
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    assert_eq!(
        reported_lines(&r.stderr, &f),
        vec![(1, Some("id".to_owned()))],
        "{}",
        r.stderr
    );
}

#[test]
fn order_within_a_file_does_not_matter() {
    // Movements before the holders and items they name, and a transfer out before the
    // transfer in that makes it possible: the batch is checked as a whole.
    let db = Db::new();
    let mut text = moves().text();
    let mut lines: Vec<String> = world().text().lines().map(String::from).collect();
    lines.reverse();
    text.push_str(&(lines.join("\n") + "\n"));
    db.apply_ok("all.jsonl", &text);
    assert_eq!(db.balances(None), expected_after_moves());
    db.qm(&["verify"]).ok();
}

#[test]
fn export_applied_to_an_empty_database_reproduces_it_exactly() {
    let db = seeded();
    let mut w = Jsonl::new();
    w.org("NL")
        .holder("NL-DEPOT", "NL", "depot")
        .push(json!({"type": "holder", "id": "NL-FIELD", "name": "Field \"east\" \u{e9}", "org": "NL", "kind": "unit", "country": "NL", "lat": 52.1, "lon": 5.25}))
        .push(json!({"type": "item", "code": "NVG", "name": "Night vision", "category": "optics", "tracking": "serial", "unit": "each", "sensitive": true, "unit_value": {"amount": "1234.50", "currency": "USD"}, "inventory_interval_days": 90}))
        .floor("AMMO", "NL", 10)
        .push(json!({"type": "floor", "item": "SHELL", "org": "NL", "min_qty": 5, "time": "2025-02-01T00:00:00Z"}));
    db.apply_ok("nl.jsonl", &w.text());
    let mut j = Jsonl::new();
    j.mv(
        "e1",
        "2025-02-10T00:00:00.5Z",
        "AMMO",
        100,
        "DEPOT-A",
        "NL-DEPOT",
    )
    .mv_serials(
        "e2",
        "2025-02-11T00:00:00+01:00",
        "NVG",
        &["N1", "N2"],
        "FACTORY",
        "NL-DEPOT",
    )
    .push({
        let mut m = crate::support::movement("e3", "2025-02-12", "NVG", 1, "NL-DEPOT", "NL-FIELD");
        m["serials"] = json!(["N2"]);
        m["kind"] = json!("issue");
        m["transfer"] = json!("T-1");
        m["note"] = json!("line one\nline two");
        m
    });
    db.apply_ok("nl-moves.jsonl", &j.text());
    let mut late = Jsonl::new();
    late.mv(
        "e0",
        "2025-01-05T00:00:00Z",
        "AMMO",
        5,
        "FACTORY",
        "NL-DEPOT",
    );
    db.apply_ok("late.jsonl", &late.text());
    db.qm(&["verify"]).ok();

    let export = db.export();
    let n_records = world().len() + moves().len() + w.len() + j.len() + late.len();
    assert_eq!(
        export.lines().count(),
        n_records,
        "every record ever applied:\n{export}"
    );
    let ids = crate::support::movement_ids(&export);
    assert_eq!(ids.len(), moves().len() + j.len() + late.len());

    let copy = Db::new();
    let r = copy.qm_stdin(&["apply", "-"], Some(&export));
    r.ok();
    assert_eq!(
        copy.export(),
        export,
        "export → apply → export is the identity"
    );
    // Also applied as a file.
    let copy2 = Db::new();
    copy2.apply_ok("export.jsonl", &export);
    assert_eq!(copy2.export(), export);

    for t in [
        None,
        Some("2025-01-01"),
        Some("2025-01-05"),
        Some("2025-01-12T08:30:00Z"),
        Some("2025-02-10T00:00:00Z"),
        Some("2025-02-10T00:00:00.5Z"),
        Some("2025-02-11"),
        Some("2025-02-12"),
        Some("2030-01-01"),
    ] {
        let original = db.balances(t);
        assert_eq!(copy.balances(t), original, "balances as of {t:?}");
        assert_eq!(copy2.balances(t), original, "balances as of {t:?}");
        if let Some(t) = t {
            let a = db.qm(&["review", "--json", "--as-of", t]).ok().json();
            let b = copy.qm(&["review", "--json", "--as-of", t]).ok().json();
            assert_eq!(a, b, "review as of {t}");
        }
    }
    // The serial that went on to the field unit is there, the other at the depot.
    assert_eq!(
        balance(&copy, &["--item", "NVG"]),
        vec![
            bal("FACTORY", "NVG", None, -2),
            bal("NL-DEPOT", "NVG", None, 1),
            bal("NL-FIELD", "NVG", None, 1)
        ]
    );
    copy.qm(&["verify"]).ok();
    copy2.qm(&["verify"]).ok();
    // Applying the export onto the database it came from adds nothing.
    let r = db.qm_stdin(&["apply", "-"], Some(&export));
    r.ok();
    assert!(r.stdout.starts_with("-: nothing new"), "{}", r.stdout);
    assert_eq!(db.export(), export);
}

#[test]
fn verify_passes_and_reports_json() {
    let db = seeded();
    let r = db.qm(&["verify"]);
    r.ok();
    let r = db.qm(&["verify", "--json"]);
    r.ok();
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    // An empty (new) database verifies too. Only a command that writes makes one (see
    // `open_modes`): applying an empty file makes an empty ledger.
    let empty = Db::new();
    empty.qm(&["apply", "/dev/null"]).ok();
    empty.qm(&["verify"]).ok();
    assert_eq!(empty.qm(&["export"]).ok().stdout, "");
    assert_eq!(empty.balances(None), vec![]);
}

// ---- Exit statuses and messages -------------------------------------------------------

#[test]
fn a_filter_naming_what_does_not_exist_exits_1_naming_it() {
    let db = seeded();
    for (args, message) in [
        (vec!["balance", "--item", "NOPE"], r#"unknown item "NOPE""#),
        (
            vec!["balance", "--json", "--item", "NOPE"],
            r#"unknown item "NOPE""#,
        ),
        (
            vec!["balance", "--json", "--holder", "NOPE"],
            r#"unknown holder "NOPE""#,
        ),
        (
            vec!["balance", "--json", "--lot", "NOPE"],
            r#"unknown lot "NOPE""#,
        ),
        // L1 is a lot of SHELL, not of AMMO.
        (
            vec!["balance", "--json", "--item", "AMMO", "--lot", "L1"],
            r#"unknown lot "L1" of item "AMMO""#,
        ),
        (vec!["review", "--org", "NOPE"], r#"unknown org "NOPE""#),
        (
            vec!["review", "--json", "--org", "NOPE"],
            r#"unknown org "NOPE""#,
        ),
    ] {
        let r = db.qm(&args);
        r.expect_code(1);
        assert_eq!(r.stderr, format!("qm: {message}\n"), "qm {args:?}");
        assert_eq!(
            r.stdout, "",
            "qm {args:?} prints nothing on standard output"
        );
    }
    // Known references with nothing to show are a success, and an empty answer.
    assert_eq!(
        balance(
            &db,
            &["--holder", "DEPOT-B", "--item", "SHELL", "--lot", "L2"]
        ),
        vec![]
    );
    db.qm(&["review", "--json", "--org", "UA"]).ok();
}

/// How often `needle` occurs in `hay`.
fn occurrences(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

#[test]
fn a_storage_error_prints_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no").join("such").join("dir").join("x.db");
    let missing = missing.to_str().unwrap();
    let w = dir.path().join("world.jsonl");
    std::fs::write(&w, world().text()).unwrap();
    // A command that writes tries to create the file, and the storage error says why not.
    let r = run_in(
        dir.path(),
        &["--db", missing, "apply", w.to_str().unwrap()],
        None,
        &[],
    );
    r.expect_code(1);
    assert!(
        r.stderr.starts_with("qm: storage (sqlite): "),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        !r.stderr.contains("(sqlite): sqlite"),
        "the backend once: {}",
        r.stderr
    );
    assert_eq!(
        occurrences(&r.stderr, "unable to open database file"),
        1,
        "each cause once: {}",
        r.stderr
    );
    // Commands that only read never create one: they say there is none, once.
    for args in [
        vec!["--db", missing, "balance", "--json"],
        vec!["--db", missing, "verify"],
    ] {
        let r = run_in(dir.path(), &args, None, &[]);
        r.expect_code(1);
        assert_eq!(
            r.stderr.trim_end(),
            format!("qm: no ledger at {missing} (qm apply creates one)"),
            "{args:?}"
        );
    }
    // A PostgreSQL server that is not there (nothing listens on port 1 of this machine).
    let r = run_in(
        dir.path(),
        &["--db", "postgres://nobody@127.0.0.1:1/qm", "balance"],
        None,
        &[],
    );
    r.expect_code(1);
    assert!(
        r.stderr.starts_with("qm: storage (postgres): "),
        "{}",
        r.stderr
    );
    assert_eq!(
        occurrences(&r.stderr, "onnection refused"),
        1,
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("(postgres): postgres"), "{}", r.stderr);
}

#[test]
fn a_write_command_with_nothing_to_write_creates_no_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let new = at("new.db");
    // A typo in the only file's name: nothing to apply, so nothing is created.
    let r = run_in(
        dir.path(),
        &["--db", &new, "apply", "nope.jsonl"],
        None,
        &[],
    );
    r.expect_code(1);
    assert!(r.stderr.contains("nope.jsonl"), "{}", r.stderr);
    assert!(r.stderr.contains("no ledger was created"), "{}", r.stderr);
    assert!(!std::path::Path::new(&new).exists());
    let r = run_in(dir.path(), &["--db", &new, "snapshot"], None, &[]);
    r.expect_code(1);
    assert!(r.stderr.contains("no ledger at"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing created"
    );
    // One readable file among missing ones is something to apply.
    let w = at("world.jsonl");
    std::fs::write(&w, world().text()).unwrap();
    let r = run_in(
        dir.path(),
        &["--db", &new, "apply", "nope.jsonl", &w],
        None,
        &[],
    );
    r.expect_code(1);
    assert!(std::path::Path::new(&new).exists());
    // A migration into a ledger that is not empty is refused (exit 1, not a usage error).
    let other = at("other.db");
    run_in(dir.path(), &["--db", &other, "apply", &w], None, &[]).expect_code(0);
    let r = run_in(
        dir.path(),
        &["migrate", "--from", &new, "--to", &other],
        None,
        &[],
    );
    r.expect_code(1);
    assert!(r.stderr.contains("is not empty"), "{}", r.stderr);
}

/// Runs `qm` with its standard output a pipe whose reading end is closed after `read`
/// bytes (0: before `qm` writes anything), as `qm ... | head -c N` does.
fn qm_into_closed_pipe(db: &Db, args: &[&str], read: usize) -> Run {
    use std::io::Read;
    let mut full = vec!["--db", db.db()];
    full.extend_from_slice(args);
    let mut child = crate::support::qm_command(db.dir())
        .args(&full)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut got = vec![0u8; read];
    stdout.read_exact(&mut got).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    Run::from_output(&full, out)
}

#[test]
fn a_closed_standard_output_ends_any_command_quietly_with_status_0() {
    let db = seeded();
    // Enough history that the export fills the pipe many times over.
    let mut big = Jsonl::new();
    for i in 0..3000 {
        big.mv(
            &format!("big{i}"),
            &jan(1 + (i % 28) as u32, 8),
            "AMMO",
            1,
            "FACTORY",
            "DEPOT-B",
        );
    }
    db.apply_ok("big.jsonl", &big.text());
    let more = db.file("more.jsonl", &{
        let mut j = Jsonl::new();
        j.mv("late1", &jan(29, 8), "AMMO", 1, "FACTORY", "DEPOT-B");
        j.text()
    });
    let commands: Vec<Vec<&str>> = vec![
        vec!["export"],
        vec!["export", "--follow"],
        vec!["balance"],
        vec!["balance", "--json"],
        vec!["review"],
        vec!["review", "--json"],
        vec!["verify"],
        vec!["verify", "--json"],
        vec!["snapshot"],
        vec!["apply", &more],
        vec!["--help"],
        vec!["balance", "--help"],
    ];
    for args in &commands {
        let r = qm_into_closed_pipe(&db, args, 0);
        r.expect_code(0);
        assert_eq!(r.stderr, "", "qm {args:?} ends quietly");
    }
    // The first line read, then the pipe closed mid-export: `qm export | head -1`.
    let r = qm_into_closed_pipe(&db, &["export"], 100);
    r.expect_code(0);
    assert_eq!(r.stderr, "");
    // The file whose acknowledgement could not be printed was applied all the same.
    assert!(crate::support::movement_ids(&db.export()).contains_key("late1"));
    db.qm(&["verify"]).ok();
}

#[test]
fn every_option_and_argument_in_help_has_a_description() {
    let db = Db::new();
    let mut commands = vec![vec![]];
    for c in [
        "apply", "balance", "review", "export", "verify", "snapshot", "migrate", "demo", "bench",
    ] {
        commands.push(vec![c]);
    }
    for mut args in commands {
        args.push("--help");
        let r = db.qm(&args);
        r.ok();
        let mut in_list = false;
        let mut checked = 0;
        for line in r.stdout.lines() {
            if line.ends_with(':') && !line.starts_with(' ') {
                in_list = matches!(line, "Options:" | "Arguments:");
                continue;
            }
            if !in_list || line.trim().is_empty() {
                continue;
            }
            // `  --holder <HOLDER>  Only this holder's balances.`: a name, two or more
            // spaces, then words.
            let entry = line.trim_start();
            let described = entry
                .split_once("  ")
                .is_some_and(|(_, help)| !help.trim().is_empty());
            assert!(described, "qm {args:?}: no description for {entry:?}");
            checked += 1;
        }
        assert!(checked >= 2, "qm {args:?}: options found:\n{}", r.stdout);
    }
    // The global options are described in every command's help.
    let r = db.qm(&["balance", "--help"]);
    assert!(r.stdout.contains("--by <NAME>"), "{}", r.stdout);
}

// ---- Who recorded a batch -------------------------------------------------------------

/// `recorded_by` of the movement `id`, from the analysts' `movements` view.
fn recorded_by(db: &Db, id: &str) -> String {
    let conn = rusqlite::Connection::open(&db.path).unwrap();
    conn.query_row(
        "SELECT recorded_by FROM movements WHERE id = ?1",
        [id],
        |row| row.get(0),
    )
    .unwrap()
}

#[test]
fn a_batch_is_recorded_by_by_else_qm_user_else_the_os_user() {
    let db = Db::new();
    db.apply_ok("world.jsonl", &world().text());
    let apply = |id: &str, by: &[&str], env: &[(&str, &str)], clear_env: bool| {
        let mut j = Jsonl::new();
        j.mv(id, &jan(10, 8), "AMMO", 1, "FACTORY", "DEPOT-A");
        let f = db.file(&format!("{id}.jsonl"), &j.text());
        let mut c = crate::support::qm_command(db.dir());
        if clear_env {
            c.env_remove("QM_USER")
                .env_remove("USER")
                .env_remove("LOGNAME");
        }
        c.args(["--db", db.db()]).args(by).args(["apply", &f]);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    apply("by-option", &["--by", "alice"], &[], false);
    apply("by-env", &[], &[("QM_USER", "bob")], false);
    apply("by-both", &["--by", "carol"], &[("QM_USER", "bob")], false);
    apply("by-nobody", &[], &[], true);
    apply("by-empty", &[], &[("QM_USER", "")], true);
    // `--by` after the command name is the same option.
    let mut j = Jsonl::new();
    j.mv("by-after", &jan(10, 8), "AMMO", 1, "FACTORY", "DEPOT-A");
    let f = db.file("after.jsonl", &j.text());
    db.qm(&["apply", &f, "--by", "dave"]).ok();

    assert_eq!(recorded_by(&db, "by-option"), "alice");
    assert_eq!(recorded_by(&db, "by-env"), "bob");
    assert_eq!(recorded_by(&db, "by-both"), "carol");
    assert_eq!(recorded_by(&db, "by-after"), "dave");
    // Neither given, and no USER in the environment: the OS user of the process, as the
    // system names its uid.
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    assert!(id.status.success(), "{id:?}");
    let os_user = String::from_utf8(id.stdout).unwrap().trim().to_owned();
    assert!(!os_user.is_empty());
    assert_eq!(recorded_by(&db, "by-nobody"), os_user);
    assert_eq!(recorded_by(&db, "by-empty"), os_user);
    db.qm(&["verify"]).ok();
}

// ---- Tables, the demo, the README ---------------------------------------------------

/// Display width of the first `n` characters of `line`.
fn width_through(line: &str, n: usize) -> usize {
    use unicode_width::UnicodeWidthStr;
    line.chars().take(n).collect::<String>().as_str().width()
}

/// The characters of `line` that lie wholly in display columns `from..to`.
fn columns(line: &str, from: usize, to: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut col = 0;
    let mut s = String::new();
    for c in line.chars() {
        let w = c.width().unwrap_or(0);
        if col >= from && col + w <= to {
            s.push(c);
        }
        col += w;
    }
    s
}

/// Checks every review table in `text`: on each item line the numbers end exactly where
/// their headers ON HAND and IN TRANSIT end, and each depot line's quantity ends under ON
/// HAND (columns counted as a terminal shows them). Returns how many tables and depot lines
/// it checked.
fn check_review_tables(text: &str) -> (usize, usize) {
    use unicode_width::UnicodeWidthStr;
    let (mut tables, mut depot_lines) = (0, 0);
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("Stockpile review: ") {
            continue;
        }
        tables += 1;
        let header = lines.next().expect("a header line");
        let end_of = |title: &str| {
            let at = header
                .find(title)
                .unwrap_or_else(|| panic!("{title} in {header:?}"));
            width_through(header, header[..at].chars().count() + title.chars().count())
        };
        let on_hand = end_of("ON HAND");
        let transit = end_of("IN TRANSIT");
        while let Some(row) = lines.next_if(|l| !l.trim().is_empty()) {
            if row.starts_with("      ") {
                depot_lines += 1;
                assert_eq!(
                    row.width(),
                    on_hand,
                    "a depot quantity ends under ON HAND:\n{header}\n{row}"
                );
                continue;
            }
            for end in [on_hand, transit] {
                assert!(
                    columns(row, 0, end).ends_with(|c: char| c.is_ascii_digit())
                        && columns(row, end, end + 1) == " ",
                    "a number ends at column {end}:\n{header}\n{row}"
                );
            }
        }
    }
    (tables, depot_lines)
}

/// The name an item line of a review table shows for `code`.
fn shown_name<'a>(table: &'a str, code: &str) -> &'a str {
    let row = table
        .lines()
        .find(|l| l.trim_start().split(' ').next() == Some(code))
        .unwrap_or_else(|| panic!("no line for {code} in\n{table}"));
    let rest = row.trim_start()[code.len()..].trim_start();
    rest.split("  ").next().unwrap().trim_end()
}

#[test]
fn the_review_table_stays_aligned_with_long_and_non_ascii_names() {
    let db = Db::new();
    let mut w = Jsonl::new();
    w.org("US")
        .holder("FACTORY", "US", "source")
        .holder("SHIP", "US", "transit")
        .push(json!({"type": "holder", "id": "D-FR", "name": "Dépôt de munitions de Mourmelon-le-Grand, Champagne-Ardenne", "org": "US", "kind": "depot"}))
        .push(json!({"type": "holder", "id": "D-UA", "name": "Склад боєприпасів №1", "org": "US", "kind": "depot"}))
        .push(json!({"type": "holder", "id": "D-JP", "name": "弾薬庫、北海道の千歳にある大きな補給処と整備工場と訓練場", "org": "US", "kind": "depot"}));
    let items = [
        (
            "BUK",
            "Зенітна керована ракета ЗРК «Бук-М1» 9М38М1, модернізована",
        ),
        (
            "OBUS",
            "Obus explosif de 155 mm à charge creuse, version améliorée",
        ),
        ("SAM-03", "03式中距離地対空誘導弾（改）の誘導弾と発射筒"),
        ("SHORT", "Crème brûlée"),
        ("A-VERY-LONG-ITEM-CODE-2025", "Plain"),
    ];
    for (code, name) in items {
        w.push(json!({"type": "item", "code": code, "name": name, "category": "test", "tracking": "bulk"}));
    }
    db.apply_ok("world.jsonl", &w.text());
    let mut j = Jsonl::new();
    for (n, (code, _)) in items.iter().enumerate() {
        for (d, depot) in ["D-FR", "D-UA", "D-JP"].iter().enumerate() {
            let qty = 1 + (n as u64 + 1) * 1_234_567 * (d as u64 + 1);
            j.mv(
                &format!("m{n}-{d}"),
                &jan(10, 8),
                code,
                qty,
                "FACTORY",
                depot,
            );
        }
        j.mv(&format!("t{n}"), &jan(11, 8), code, 5, "D-FR", "SHIP");
    }
    db.apply_ok("moves.jsonl", &j.text());
    let r = db.qm(&["review", "--org", "US", "--depots"]);
    r.ok();
    let (tables, depot_lines) = check_review_tables(&r.stdout);
    assert_eq!((tables, depot_lines), (1, 15), "{}", r.stdout);
    // Long names are cut on a character boundary and end with an ellipsis; names that fit
    // are whole; codes are never cut.
    for (code, name) in items {
        let shown = shown_name(&r.stdout, code);
        if name.chars().count() <= 20 {
            assert_eq!(shown, name);
        } else {
            let kept = shown
                .strip_suffix('…')
                .unwrap_or_else(|| panic!("{shown:?} ends with an ellipsis"));
            assert!(
                name.starts_with(kept) && kept.len() >= 10,
                "{shown:?} of {name:?}"
            );
        }
    }
    assert!(!r.stdout.contains('\u{fffd}'), "no character was split");
}

/// Runs `script` with `sh -e` in `dir`, with the `qm` under test first on PATH.
fn sh(dir: &std::path::Path, script: &str) -> Run {
    let bin = std::path::Path::new(crate::support::QM).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-ec", script])
        .current_dir(dir)
        .env_remove("QM_DB")
        .env("QM_USER", "tester")
        .env("PATH", path)
        .output()
        .unwrap();
    Run::from_output(&["sh", "-ec", script], out)
}

#[test]
fn the_demo_prints_aligned_tables_grouped_counts_and_commands_that_work_as_pasted() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &["--db", "my demo.db", "demo", "--movements", "20k"],
        None,
        &[],
    );
    r.ok();
    let first = r.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("Recorded 20,000 movements in "),
        "counts are grouped: {first}"
    );
    let (tables, depot_lines) = check_review_tables(&r.stdout);
    assert!(tables >= 5 && depot_lines >= tables, "{}", r.stdout);
    assert!(
        r.stdout.contains("…"),
        "long names are cut with an ellipsis"
    );
    // One command per line after "Try:", each working when pasted into a shell here (the
    // database name has a space in it: it must come out quoted).
    let tries: Vec<&str> = r
        .stdout
        .lines()
        .skip_while(|l| *l != "Try:")
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(tries.len(), 7, "{}", r.stdout);
    for line in &tries {
        assert!(!line.contains('|'), "one command per line: {line}");
        let ran = sh(dir.path(), line);
        ran.ok();
        assert!(!ran.stdout.trim().is_empty(), "{line} printed nothing");
    }
    let balance_line = tries.iter().find(|l| l.contains(" balance ")).unwrap();
    let rows = sh(dir.path(), balance_line).json();
    assert!(
        !rows.as_array().unwrap().is_empty(),
        "{balance_line} names an item that exists"
    );
    assert!(tries[0].contains("'my demo.db'"), "{}", tries[0]);
}

/// The shell lines of the README's "Using `qm`" example block.
fn readme_examples() -> Vec<String> {
    let readme = include_str!("../../../../README.md");
    let section = readme
        .split("## Using `qm`")
        .nth(1)
        .expect("a \"Using `qm`\" section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("an sh block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn the_readme_opens_with_the_demo_and_the_test_command() {
    let readme = include_str!("../../../../README.md");
    let first_block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let commands: Vec<&str> = first_block
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .collect();
    assert_eq!(
        commands,
        vec![
            "cargo run --release -p qm-cli -- --db demo.db demo --force",
            "scripts/test"
        ]
    );
    assert!(readme.starts_with("# Quartermaster\n\n```sh\n"));
}

#[test]
fn the_readme_examples_do_what_they_say_after_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    // The README's demo command, on a smaller scenario (the commands do not depend on size).
    run_in(
        dir.path(),
        &["--db", "demo.db", "demo", "--force", "--movements", "20k"],
        None,
        &[],
    )
    .ok();
    let lines = readme_examples();
    // What a test cannot run: building and installing (that is what this test binary is),
    // and the long runs (a 100M scenario, the benchmarks), which use only options the tests
    // above cover.
    let skipped = [
        "cargo install --path crates/qm-cli",
        "qm --db big.db demo --movements 100M",
        "qm bench",
    ];
    let runnable: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| !skipped.iter().any(|s| l.starts_with(s)))
        .collect();
    assert_eq!(
        lines.len() - runnable.len(),
        skipped.len(),
        "every skipped example is still in the README: {lines:#?}"
    );
    assert!(runnable.len() >= 8, "{runnable:#?}");
    assert!(
        runnable.iter().all(|l| !l.contains("postgres://")),
        "examples that need a server are prose, not runnable lines"
    );
    let r = sh(dir.path(), &runnable.join("\n"));
    r.ok();
    // What they say they do.
    let copy = Db {
        dir: tempfile::tempdir().unwrap(),
        path: dir.path().join("copy.db"),
        pg: None,
    };
    assert_eq!(
        std::fs::read_to_string(dir.path().join("history.jsonl")).unwrap(),
        copy.export(),
        "the export applied into an empty database reproduces it"
    );
    let pac3 = run_in(
        dir.path(),
        &[
            "--db",
            "demo.db",
            "balance",
            "--item",
            "MSL-PAC3-MSE",
            "--json",
        ],
        None,
        &[],
    );
    assert!(!pac3.ok().json().as_array().unwrap().is_empty());
    let demo = Db {
        dir: tempfile::tempdir().unwrap(),
        path: dir.path().join("demo.db"),
        pg: None,
    };
    assert_eq!(recorded_by(&demo, "readme-1"), "alice");
    assert!(dir.path().join("moved.db").exists());
    demo.qm(&["verify"]).ok();
}

// ---- The benchmark's memory figures ----------------------------------------------------

#[test]
fn bench_memory_figures_come_from_the_bench_alloc_build_and_say_so_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &["bench", "--ingest", "0", "--history", "5k", "--json"],
        None,
        &[],
    );
    let figures = r.ok().json();
    assert!(figures["core_apply"]["movements_per_s"].as_f64().unwrap() > 0.0);
    for key in ["memory", "memory_restarted"] {
        let per = &figures[key]["bytes_per_movement"];
        if cfg!(feature = "bench-alloc") {
            assert!(per.as_f64().unwrap() > 0.0, "{key}: {figures}");
        } else {
            assert!(per.is_null(), "{key}: {figures}");
        }
    }
    if !cfg!(feature = "bench-alloc") {
        let said = r
            .stderr
            .lines()
            .filter(|l| l.contains("heap memory") && l.contains("unavailable"))
            .filter(|l| l.contains("cargo run --release -p qm-cli --features bench-alloc -- bench"))
            .count();
        assert_eq!(
            said, 2,
            "both memory figures say how to get them:\n{}",
            r.stderr
        );
    }
}
