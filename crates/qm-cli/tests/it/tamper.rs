//! Tampering behind `qm`'s back is caught by `qm verify`.
//!
//! A database is built with `qm` (several batches), then changed with SQLite directly, as
//! someone with an SQL tool and the will to drop the guard triggers could:
//! - a batch's body (one quantity) or its recorder changed: verify fails naming that batch;
//! - journal rows deleted (the last one, a middle one): verify fails;
//! - the analysts' balances table (or the names it is keyed by) changed: verify fails;
//! - the snapshot's bytes changed: verify fails, and balances still come out right;
//! - single bytes flipped anywhere in the file (a deterministic sample of offsets, plus
//!   offsets inside the stored records): whenever `qm export` or `qm balance --json` then
//!   prints something other than before, or fails, `qm verify` fails too; no command may
//!   crash or hang on a damaged file.
//!
//! The test knows only what it must of the file: the `journal`, `balances_by_id`, `names` and
//! `snapshot` tables of the documented schema.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;

use crate::support::{run_timeout, Db, Jsonl, Run};

/// `2025-MM-DDT..` from a counter, so each movement has its own time.
fn time(year: u32, n: usize) -> String {
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:00Z",
        1 + (n / 28) % 12,
        1 + n % 28,
        (n * 7) % 24,
        (n * 13) % 60
    )
}

/// A database with six batches:
/// 1. orgs, holders and items;
/// 2. AMMO from the source to depots, and 20 serial-tracked rifles to D1;
/// 3. SHELL lots to depots, and one movement of exactly 777 AMMO (the only `"qty":777`);
/// 4. more AMMO, and 5 rifles on to the unit;
/// 5. AMMO issued from D0 to the unit in 2026, some of it expended;
/// 6. more SHELL.
fn build() -> Db {
    let db = Db::new();
    let mut w = Jsonl::new();
    w.org("US").org("UA").holder("SRC", "US", "source");
    for d in 0..4 {
        w.holder(&format!("D{d}"), "US", "depot");
    }
    w.holder("U", "UA", "unit").holder("SINK", "UA", "sink");
    w.item("AMMO", "bulk")
        .item("SHELL", "lot")
        .item("RIFLE", "serial");
    db.apply_ok("b1.jsonl", &w.text());

    let mut b2 = Jsonl::new();
    for i in 0..150 {
        b2.mv(
            &format!("a{i}"),
            &time(2025, i),
            "AMMO",
            (i % 40 + 1) as u64,
            "SRC",
            &format!("D{}", i % 4),
        );
    }
    let serials: Vec<String> = (1..=20).map(|n| format!("S{n:02}")).collect();
    let serial_refs: Vec<&str> = serials.iter().map(String::as_str).collect();
    b2.mv_serials(
        "rifles",
        "2025-01-01T00:00:00Z",
        "RIFLE",
        &serial_refs,
        "SRC",
        "D1",
    );
    db.apply_ok("b2.jsonl", &b2.text());

    let mut b3 = Jsonl::new();
    for i in 0..150 {
        let lot = if i % 3 == 0 { "L1" } else { "L2" };
        b3.mv_lot(
            &format!("s{i}"),
            &time(2025, i),
            "SHELL",
            lot,
            (i % 40 + 1) as u64,
            "SRC",
            &format!("D{}", i % 4),
        );
    }
    b3.mv("t777", "2025-03-03T03:03:03Z", "AMMO", 777, "SRC", "D2");
    db.apply_ok("b3.jsonl", &b3.text());

    let mut b4 = Jsonl::new();
    for i in 0..100 {
        b4.mv(
            &format!("c{i}"),
            &time(2025, i + 7),
            "AMMO",
            (i % 30 + 1) as u64,
            "SRC",
            "D3",
        );
    }
    b4.mv_serials(
        "issue",
        "2025-06-01T00:00:00Z",
        "RIFLE",
        &serial_refs[..5],
        "D1",
        "U",
    );
    db.apply_ok("b4.jsonl", &b4.text());

    let mut b5 = Jsonl::new();
    for i in 0..100 {
        b5.mv(&format!("u{i}"), &time(2026, i), "AMMO", 1, "D0", "U");
    }
    for i in 0..10 {
        b5.mv(&format!("x{i}"), &time(2027, i), "AMMO", 1, "U", "SINK");
    }
    db.apply_ok("b5.jsonl", &b5.text());

    let mut b6 = Jsonl::new();
    for i in 0..100 {
        b6.mv_lot(
            &format!("v{i}"),
            &time(2025, i + 3),
            "SHELL",
            "L3",
            (i % 20 + 1) as u64,
            "SRC",
            &format!("D{}", i % 4),
        );
    }
    db.apply_ok("b6.jsonl", &b6.text());
    db.qm(&["verify"]).ok();
    db
}

/// Opens the database file with SQLite directly.
fn open(db: &Db) -> Connection {
    Connection::open(&db.path).expect("open the database with rusqlite")
}

/// Drops every trigger guarding the journal.
fn drop_guards(c: &Connection) {
    let names: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'journal'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!names.is_empty(), "the journal is guarded by triggers");
    for n in names {
        c.execute_batch(&format!("DROP TRIGGER \"{n}\"")).unwrap();
    }
}

/// `qm verify`, which must fail with exit status 1; returns its stderr.
#[track_caller]
fn verify_fails(db: &Db) -> String {
    let r = db.qm(&["verify"]);
    r.expect_code(1);
    assert!(!r.stderr.trim().is_empty(), "verify says what failed");
    r.stderr
}

#[test]
fn the_journal_cannot_be_edited_while_its_guards_stand() {
    let db = build();
    let c = open(&db);
    assert!(c
        .execute("UPDATE journal SET body = body || ' ' WHERE seq = 3", [])
        .is_err());
    assert!(c.execute("DELETE FROM journal WHERE seq = 6", []).is_err());
    drop(c);
    db.qm(&["verify"]).ok();
}

#[test]
fn a_changed_quantity_in_a_batch_is_caught_naming_the_batch() {
    let db = build();
    let before = db.export();
    let c = open(&db);
    drop_guards(&c);
    let n = c
        .execute(
            "UPDATE journal SET body = replace(body, '\"qty\":777,', '\"qty\":778,') WHERE seq = 3",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(c);
    assert_ne!(db.export(), before, "the tampering took effect");
    let err = verify_fails(&db);
    assert!(err.contains("batch 3"), "verify names batch 3: {err}");
    assert!(
        !err.contains("batch 1:") && !err.contains("batch 2:"),
        "{err}"
    );
}

#[test]
fn a_changed_recorder_is_caught_naming_the_batch() {
    let db = build();
    let c = open(&db);
    drop_guards(&c);
    assert_eq!(
        c.execute(
            "UPDATE journal SET recorded_by = 'someone-else' WHERE seq = 4",
            []
        )
        .unwrap(),
        1
    );
    drop(c);
    let err = verify_fails(&db);
    assert!(err.contains("batch 4"), "verify names batch 4: {err}");

    let db = build();
    let c = open(&db);
    drop_guards(&c);
    assert_eq!(
        c.execute(
            "UPDATE journal SET recorded_at = recorded_at + 1 WHERE seq = 2",
            []
        )
        .unwrap(),
        1
    );
    drop(c);
    let err = verify_fails(&db);
    assert!(err.contains("batch 2"), "verify names batch 2: {err}");
}

#[test]
fn a_deleted_last_batch_is_caught() {
    let db = build();
    let c = open(&db);
    drop_guards(&c);
    assert_eq!(
        c.execute(
            "DELETE FROM journal WHERE seq = (SELECT max(seq) FROM journal)",
            []
        )
        .unwrap(),
        1
    );
    drop(c);
    verify_fails(&db);
}

#[test]
fn a_deleted_last_batch_that_moved_nothing_is_caught() {
    // The last batch only declares an org: no balance depends on it, so only a record of
    // where the journal ends, kept apart from the journal rows, can show it was removed.
    let db = build();
    let mut nl = Jsonl::new();
    nl.org("NL");
    db.apply_ok("b7.jsonl", &nl.text());
    db.qm(&["verify"]).ok();
    let c = open(&db);
    drop_guards(&c);
    assert_eq!(
        c.execute("DELETE FROM journal WHERE seq = 7", []).unwrap(),
        1
    );
    drop(c);
    verify_fails(&db);
}

#[test]
fn a_deleted_middle_batch_is_caught_naming_it() {
    let db = build();
    let c = open(&db);
    drop_guards(&c);
    assert_eq!(
        c.execute("DELETE FROM journal WHERE seq = 2", []).unwrap(),
        1
    );
    drop(c);
    let err = verify_fails(&db);
    assert!(err.contains("batch 2"), "verify names batch 2: {err}");
}

#[test]
fn changes_to_the_balances_table_are_caught() {
    // The analysts' balances: a base table written with each snapshot, and a view adding
    // the journal after it. Tamper with the base, then with the batch it is at.
    let cases: [(&str, &str); 4] = [
        (
            "a quantity changed",
            "UPDATE balances_base SET qty = qty + 1 WHERE (holder, item, lot) = \
             (SELECT holder, item, lot FROM balances_base LIMIT 1 OFFSET 3)",
        ),
        (
            "a row deleted",
            "DELETE FROM balances_base WHERE (holder, item, lot) = \
             (SELECT holder, item, lot FROM balances_base LIMIT 1 OFFSET 2)",
        ),
        (
            "a row added",
            "INSERT INTO balances_base (holder, item, lot, qty) VALUES ('U', 'SHELL', '', 5)",
        ),
        (
            "a name changed",
            "UPDATE balances_base SET holder = 'D9' WHERE holder = 'D3' AND item = 'AMMO'",
        ),
    ];
    for (what, sql) in cases {
        let db = build();
        db.qm(&["snapshot"]).ok();
        let before = db.balances(None);
        let c = open(&db);
        let n = c.execute(sql, []).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(n, 1, "{what}: one row changed");
        drop(c);
        // What `qm balance` reports comes from the history, not the table.
        assert_eq!(db.balances(None), before, "{what}");
        let err = verify_fails(&db);
        assert!(
            err.contains("balance"),
            "{what}: verify says the balances differ: {err}"
        );
    }
}

#[test]
fn a_damaged_snapshot_is_caught_and_not_used() {
    let db = build();
    let before = db.balances(Some("2030-01-01"));
    let export = db.export();
    db.qm(&["snapshot"]).ok();
    db.qm(&["verify"]).ok();
    let c = open(&db);
    let mut bytes: Vec<u8> = c
        .query_row("SELECT bytes FROM snapshot_part WHERE no = 0", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(bytes.len() > 16, "a snapshot was written");
    // Flip one byte in the middle of the snapshot.
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    assert_eq!(
        c.execute("UPDATE snapshot_part SET bytes = ?1 WHERE no = 0", [&bytes])
            .unwrap(),
        1
    );
    drop(c);
    verify_fails(&db);
    assert_eq!(
        db.balances(Some("2030-01-01")),
        before,
        "a bad snapshot is not trusted"
    );
    assert_eq!(db.export(), export);
}

/// One flipped byte: where, and with what XOR mask.
#[derive(Debug, Clone, Copy)]
struct Flip {
    /// 0: the database file; 1: its WAL.
    file: usize,
    offset: usize,
    mask: u8,
}

#[test]
fn flipped_bytes_that_change_what_qm_reports_fail_verify() {
    let started = Instant::now();
    let db = build();
    db.qm(&["snapshot"]).ok();
    db.qm(&["verify"]).ok();
    let wal_path = PathBuf::from(format!("{}-wal", db.path.display()));
    let original = std::fs::read(&db.path).unwrap();
    // After the last `qm` closes the file, its WAL has been checkpointed into it and removed;
    // if one is left, it is part of the database and is copied and damaged too.
    let wal = std::fs::read(&wal_path).ok().filter(|w| !w.is_empty());
    let images: Vec<Vec<u8>> = std::iter::once(original.clone())
        .chain(wal.clone())
        .collect();

    let as_of = "2030-01-01";
    let want_export = db.export();
    let want_balance = db
        .qm(&["balance", "--json", "--as-of", as_of])
        .ok()
        .stdout
        .clone();

    // The sample: 300 offsets spread over the whole file, half flipping the lowest bit (a
    // digit stays a digit: a quantity changes silently), half all bits.
    let mut rng = StdRng::seed_from_u64(0xF11F_0000 + original.len() as u64);
    let mut flips = Vec::new();
    const SPREAD: usize = 300;
    for i in 0..SPREAD {
        let lo = i * original.len() / SPREAD;
        let hi = ((i + 1) * original.len() / SPREAD).max(lo + 1);
        flips.push(Flip {
            file: 0,
            offset: rng.gen_range(lo..hi),
            mask: if i % 2 == 0 { 0x01 } else { 0xFF },
        });
    }
    // Plus offsets inside the stored records: quantities, ids, times.
    for (pattern, skip) in [
        (&b"\"qty\":"[..], 6),
        (b"\"id\":\"", 7),
        (b"\"time\":\"20", 12),
    ] {
        let hits: Vec<usize> = original
            .windows(pattern.len())
            .enumerate()
            .filter(|(_, w)| *w == pattern)
            .map(|(i, _)| i)
            .collect();
        assert!(
            !hits.is_empty(),
            "the records are stored as text in the file"
        );
        for k in 0..12 {
            let at = hits[k * hits.len() / 12] + skip;
            flips.push(Flip {
                file: 0,
                offset: at,
                mask: 0x01,
            });
        }
    }
    if let Some(w) = &wal {
        for i in 0..100 {
            let lo = i * w.len() / 100;
            let hi = ((i + 1) * w.len() / 100).max(lo + 1);
            flips.push(Flip {
                file: 1,
                offset: rng.gen_range(lo..hi),
                mask: if i % 2 == 0 { 0x01 } else { 0xFF },
            });
        }
    }

    struct Tally {
        cases: usize,
        changed: usize,
        verify_failed: usize,
        problems: Vec<String>,
    }
    let tally = Mutex::new(Tally {
        cases: 0,
        changed: 0,
        verify_failed: 0,
        problems: Vec::new(),
    });
    let next = AtomicUsize::new(0);
    let deadline = Duration::from_secs(100);
    let timeout = Duration::from_secs(30);

    std::thread::scope(|scope| {
        for worker in 0..2 {
            let (tally, next, flips, images, want_export, want_balance) =
                (&tally, &next, &flips, &images, &want_export, &want_balance);
            scope.spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let verify_db = dir.path().join(format!("v{worker}.db"));
                let read_db = dir.path().join(format!("r{worker}.db"));
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= flips.len() || started.elapsed() > deadline {
                        break;
                    }
                    let flip = flips[i];
                    for path in [&verify_db, &read_db] {
                        write_damaged(path, images, flip);
                    }
                    let v = verify_db.to_str().unwrap();
                    let r = read_db.to_str().unwrap();
                    let verify = run_timeout(dir.path(), &["--db", v, "verify"], timeout);
                    let export = run_timeout(dir.path(), &["--db", r, "export"], timeout);
                    let balance = run_timeout(
                        dir.path(),
                        &["--db", r, "balance", "--json", "--as-of", as_of],
                        timeout,
                    );

                    let mut problems = Vec::new();
                    for run in [&verify, &export, &balance] {
                        if !matches!(run.code, Some(0 | 1)) {
                            problems.push(format!(
                                "{flip:?}: `qm {}` exited with {:?} (crash or hang), stderr: {}",
                                run.args[2..].join(" "),
                                run.code,
                                last_lines(&run.stderr)
                            ));
                        }
                    }
                    let export_same = export.code == Some(0) && export.stdout == *want_export;
                    let balance_same = balance.code == Some(0) && balance.stdout == *want_balance;
                    let changed = !(export_same && balance_same);
                    if changed && verify.code == Some(0) {
                        problems.push(format!(
                            "{flip:?}: verify passed, but {}",
                            describe(&export, want_export, &balance, want_balance)
                        ));
                    }
                    let mut t = tally.lock().unwrap();
                    t.cases += 1;
                    t.changed += usize::from(changed);
                    t.verify_failed += usize::from(verify.code != Some(0));
                    t.problems.extend(problems);
                }
            });
        }
    });

    let t = tally.into_inner().unwrap();
    eprintln!(
        "tamper test: {} flips of {} ({} bytes{}) in {:?}: {} changed what qm reports, verify failed on {}",
        t.cases,
        flips.len(),
        original.len(),
        if wal.is_some() { " + WAL" } else { "" },
        started.elapsed(),
        t.changed,
        t.verify_failed
    );
    assert!(
        t.problems.is_empty(),
        "{} problems with damaged files:\n{}",
        t.problems.len(),
        t.problems
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        t.cases >= flips.len() / 2,
        "too few cases ran in the time allowed: {}",
        t.cases
    );
    assert!(
        t.changed > 0,
        "no flip changed anything: the sample proved nothing"
    );
}

/// Writes the database (and WAL, if any) with one byte flipped, removing whatever the last
/// case left beside the file.
fn write_damaged(path: &Path, images: &[Vec<u8>], flip: Flip) {
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    for (n, image) in images.iter().enumerate() {
        let mut bytes = image.clone();
        if n == flip.file {
            bytes[flip.offset] ^= flip.mask;
        }
        let target = if n == 0 {
            path.to_path_buf()
        } else {
            PathBuf::from(format!("{}-wal", path.display()))
        };
        std::fs::write(target, bytes).unwrap();
    }
}

fn last_lines(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

fn describe(export: &Run, want_export: &str, balance: &Run, want_balance: &str) -> String {
    let mut parts = Vec::new();
    if export.code != Some(0) {
        parts.push(format!(
            "export failed ({:?}: {})",
            export.code,
            last_lines(&export.stderr)
        ));
    } else if export.stdout != want_export {
        let first = export
            .stdout
            .lines()
            .zip(want_export.lines())
            .position(|(a, b)| a != b)
            .map(|n| {
                format!(
                    "line {}: {:?}",
                    n + 1,
                    export.stdout.lines().nth(n).unwrap_or("")
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "{} lines instead of {}",
                    export.stdout.lines().count(),
                    want_export.lines().count()
                )
            });
        parts.push(format!("export differs ({first})"));
    }
    if balance.code != Some(0) {
        parts.push(format!(
            "balance failed ({:?}: {})",
            balance.code,
            last_lines(&balance.stderr)
        ));
    } else if balance.stdout != want_balance {
        parts.push("balance differs".to_owned());
    }
    parts.join("; ")
}
