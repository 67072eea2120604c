//! One conformance suite, every backend: rules, idempotency, late records, export round
//! trips, snapshots and restart, catching up on other writers, racing writers, migration.

use std::collections::BTreeSet;

use qm_app::AppError;

use crate::support::*;

#[test]
fn rules_hold_and_rejections_name_file_line_field() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        let good = mv(
            "m1",
            "2025-01-10",
            "SHELL",
            100,
            "PROD",
            "DEPOT",
            r#","lot":"L1""#,
        ) + &mv(
            "m2",
            "2025-02-01",
            "SHELL",
            60,
            "DEPOT",
            "HUB",
            r#","lot":"L1""#,
        ) + &mv(
            "m3",
            "2025-01-10",
            "PAC3",
            2,
            "PROD",
            "DEPOT",
            r#","serials":["P1","P2"]"#,
        );
        let a = app.apply_text("good.jsonl", &good).unwrap();
        assert_eq!((a.batch, a.new_records), (Some(2), 3));
        // A late withdrawal that would leave the depot short after the February dispatch.
        let late = mv(
            "m4",
            "2025-01-20",
            "SHELL",
            50,
            "DEPOT",
            "BDE",
            r#","lot":"L1""#,
        ) + &mv(
            "m5",
            "2025-01-20",
            "PAC3",
            1,
            "HUB",
            "BDE",
            r#","serials":["P1"]"#,
        );
        match app.apply_text("late.jsonl", &late) {
            Err(e @ AppError::Rejected { .. }) => {
                let text = e.to_string();
                assert!(text.contains("late.jsonl:1: field \"qty\": balance of \"SHELL\" lot \"L1\" at \"DEPOT\" would go negative at 2025-02-01T00:00:00Z: short by 10"), "{text}");
                assert!(text.contains("late.jsonl:2: field \"serials\": serial \"P1\" of \"PAC3\" is not at \"HUB\""), "{text}");
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        let fine = mv(
            "m4",
            "2025-01-20",
            "SHELL",
            40,
            "DEPOT",
            "BDE",
            r#","lot":"L1""#,
        );
        app.apply_text("late.jsonl", &fine).unwrap();
        assert_eq!(
            balances(&app, None),
            "BDE/SHELL/L1=40 DEPOT/PAC3/-=2 HUB/SHELL/L1=60 PROD/PAC3/-=-2 PROD/SHELL/L1=-100"
        );
        assert_eq!(
            balances(&app, Some("2025-01-15")),
            "DEPOT/PAC3/-=2 DEPOT/SHELL/L1=100 PROD/PAC3/-=-2 PROD/SHELL/L1=-100"
        );
        // Idempotency: the same file again is a no-op; a changed record under a used id is not.
        let again = app.apply_text("good.jsonl", &good).unwrap();
        assert_eq!((again.batch, again.duplicates), (None, 3));
        let changed = mv(
            "m1",
            "2025-01-10",
            "SHELL",
            101,
            "PROD",
            "DEPOT",
            r#","lot":"L1""#,
        );
        let e = app
            .apply_text("changed.jsonl", &changed)
            .unwrap_err()
            .to_string();
        assert!(e.contains("changed.jsonl:1: field \"id\": movement id \"m1\" is already used by a different movement (field \"qty\" differs)"), "{e}");
        app.verify().unwrap();
    });
}

#[test]
fn export_round_trips_into_an_empty_database_of_either_backend() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        for i in 0..5 {
            let text: String = (0..40)
                .map(|j| {
                    mv(
                        &format!("m{i}-{j}"),
                        &format!("2025-0{}-{:02}", 1 + i, 1 + j % 28),
                        "SHELL",
                        3,
                        "PROD",
                        "DEPOT",
                        r#","lot":"L1""#,
                    )
                })
                .collect();
            app.apply_text("b.jsonl", &text).unwrap();
        }
        let exported = export(&app);
        for target in [sqlite(), postgres()] {
            let mut copy = target.open();
            copy.apply_text("export.jsonl", &exported).unwrap();
            assert_eq!(export(&copy), exported);
            for at in [None, Some("2025-02-15"), Some("2025-04-01")] {
                assert_eq!(balances(&copy, at), balances(&app, at));
            }
            copy.verify().unwrap();
        }
    });
}

#[test]
fn a_restart_reads_the_snapshot_and_the_tail() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        app.apply_text(
            "a.jsonl",
            &mv(
                "m1",
                "2025-01-10",
                "SHELL",
                100,
                "PROD",
                "DEPOT",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        app.snapshot().unwrap();
        app.apply_text(
            "b.jsonl",
            &mv(
                "m2",
                "2025-01-11",
                "SHELL",
                30,
                "DEPOT",
                "HUB",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        let before = balances(&app, None);
        drop(app);
        let mut again = db.open();
        assert_eq!(balances(&again, None), before);
        assert_eq!(again.head().seq, 3);
        // The idempotency index came back with the snapshot.
        let dup = again
            .apply_text(
                "a.jsonl",
                &mv(
                    "m1",
                    "2025-01-10",
                    "SHELL",
                    100,
                    "PROD",
                    "DEPOT",
                    r#","lot":"L1""#,
                ),
            )
            .unwrap();
        assert_eq!(dup.duplicates, 1);
        let report = again.verify().unwrap();
        assert_eq!((report.batches, report.snapshot_seq), (3, Some(2)));
    });
}

#[test]
fn a_snapshot_in_another_format_is_replayed_and_verify_says_it_is_outdated() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        app.apply_text(
            "a.jsonl",
            &mv(
                "m1",
                "2025-01-10",
                "SHELL",
                100,
                "PROD",
                "DEPOT",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        app.snapshot().unwrap();
        let before = balances(&app, None);
        assert!(!app.verify().unwrap().snapshot_outdated);
        drop(app);
        // What an older program would have left: a section in an encoding this one does
        // not know, under a valid checksum.
        {
            let mut store = qm_app::open_store(db.url(), qm_store::OpenMode::ReadWrite).unwrap();
            let mut snap = store.load_snapshot().unwrap().expect("a snapshot");
            let at = snap
                .bytes
                .windows(4)
                .position(|w| w == b"trf2")
                .expect("the transfers section");
            snap.bytes[at + 3] = b'0';
            snap.checksum = qm_store::snapshot_checksum(snap.seq, snap.head_hash, &snap.bytes);
            let rows = store.read_balances().unwrap();
            store.save_snapshot(&snap, &rows).unwrap();
        }
        let app = db.open();
        assert_eq!(balances(&app, None), before, "the journal was replayed");
        let report = app.verify().unwrap();
        assert!(report.snapshot_outdated, "{report:?}");
        assert_eq!(report.snapshot_seq, Some(2));
    });
}

#[test]
fn a_writer_catches_up_on_what_others_wrote_before_checking() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut a = db.open();
        a.apply_text("setup.jsonl", SETUP).unwrap();
        a.apply_text(
            "in.jsonl",
            &mv(
                "m1",
                "2025-01-10",
                "SHELL",
                10,
                "PROD",
                "DEPOT",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        let mut b = db.open();
        // A takes 8; B, which has not seen it, then asks for 5: B must catch up and be refused.
        a.apply_text(
            "a.jsonl",
            &mv(
                "m2",
                "2025-01-11",
                "SHELL",
                8,
                "DEPOT",
                "HUB",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        let e = b
            .apply_text(
                "b.jsonl",
                &mv(
                    "m3",
                    "2025-01-12",
                    "SHELL",
                    5,
                    "DEPOT",
                    "BDE",
                    r#","lot":"L1""#,
                ),
            )
            .unwrap_err();
        assert!(e.to_string().contains("short by 3"), "{e}");
        assert_eq!(b.head().seq, 3, "B caught up on A's batch");
        b.apply_text(
            "b.jsonl",
            &mv(
                "m3",
                "2025-01-12",
                "SHELL",
                2,
                "DEPOT",
                "BDE",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        assert_eq!(
            balances(&b, None),
            "BDE/SHELL/L1=2 HUB/SHELL/L1=8 PROD/SHELL/L1=-10"
        );
        b.verify().unwrap();
    });
}

#[test]
fn racing_writers_never_oversell_and_lose_nothing() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        {
            let mut app = db.open();
            app.apply_text("setup.jsonl", SETUP).unwrap();
            app.apply_text(
                "in.jsonl",
                &mv(
                    "m0",
                    "2025-01-01",
                    "SHELL",
                    100,
                    "PROD",
                    "DEPOT",
                    r#","lot":"L1""#,
                ),
            )
            .unwrap();
        }
        const WRITERS: usize = 4;
        const TRIES: usize = 10;
        // Each writer tries to take 4 at a time: 160 asked for, 100 there.
        let accepted: Vec<Vec<String>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..WRITERS)
                .map(|w| {
                    let db = &db;
                    s.spawn(move || {
                        let mut app = db.open();
                        let mut ok = Vec::new();
                        for t in 0..TRIES {
                            let id = format!("w{w}-{t}");
                            let line = mv(
                                &id,
                                &format!("2025-01-{:02}", 2 + t),
                                "SHELL",
                                4,
                                "DEPOT",
                                "BDE",
                                r#","lot":"L1""#,
                            );
                            match app.apply_text("take.jsonl", &line) {
                                Ok(a) if a.batch.is_some() => ok.push(id),
                                Ok(a) => panic!("{id}: nothing new? {a:?}"),
                                Err(AppError::Rejected { .. }) => {}
                                Err(e) => panic!("{id}: {e}"),
                            }
                        }
                        ok
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let ok: BTreeSet<String> = accepted.into_iter().flatten().collect();
        assert_eq!(ok.len(), 25, "exactly 100 / 4 withdrawals fit");
        let app = db.open();
        assert_eq!(
            app.read()
                .unwrap()
                .ledger()
                .balance("DEPOT", "SHELL", Some("L1"), None),
            0
        );
        assert_eq!(
            app.read()
                .unwrap()
                .ledger()
                .balance("BDE", "SHELL", Some("L1"), None),
            100
        );
        let exported = export(&app);
        for id in &ok {
            assert_eq!(
                exported.matches(&format!("\"id\":\"{id}\"")).count(),
                1,
                "{id} is recorded exactly once"
            );
        }
        app.verify().unwrap();
    });
}

#[test]
fn migrate_moves_a_ledger_between_backends_verbatim() {
    let from = sqlite();
    let mut app = from.open();
    app.apply_text("setup.jsonl", SETUP).unwrap();
    app.apply_text(
        "a.jsonl",
        &mv(
            "m1",
            "2025-01-10",
            "SHELL",
            100,
            "PROD",
            "DEPOT",
            r#","lot":"L1""#,
        ),
    )
    .unwrap();
    app.apply_text(
        "b.jsonl",
        &mv(
            "m2",
            "2025-01-10",
            "PAC3",
            1,
            "PROD",
            "DEPOT",
            r#","serials":["P9"]"#,
        ),
    )
    .unwrap();
    let to = postgres();
    let m = qm_app::migrate(from.url(), to.url(), &mut |_| {}).unwrap();
    assert_eq!((m.batches, m.records), (3, 12));
    let there = to.open();
    assert_eq!(export(&there), export(&app));
    assert_eq!(there.head(), app.head(), "same sequence numbers and hashes");
    there.verify().unwrap();
    // And back into a fresh file; a non-empty target is refused.
    let back = sqlite();
    qm_app::migrate(to.url(), back.url(), &mut |_| {}).unwrap();
    assert_eq!(export(&back.open()), export(&app));
    let e = qm_app::migrate(from.url(), back.url(), &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("is not empty"), "{e}");
}
