//! The facade's own policy, as any edge (the CLI, the server) gets it: queries that name
//! what does not exist, the JSON of every output (exact bytes), a run of files (a rejected
//! file does not stop the others, a storage error stops the run and leaves the state as the
//! journal is), who records a batch, and following the journal.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use expect_test::expect;
use qm_app::{output, App, AppError, Applied, BoxStore};
use qm_core::BalanceQuery;
use qm_store::{BalanceRow, Head, Snapshot, Store, StoreError, StoredBatch};

use crate::support::*;

fn at(t: &str) -> qm_core::Time {
    qm_interchange::parse_time(t).unwrap()
}

fn seeded(db: &Db) -> App {
    let mut app = db.open();
    app.apply_text("setup.jsonl", SETUP).unwrap();
    app.apply_text(
        "a.jsonl",
        &(mv(
            "m1",
            "2025-01-10",
            "SHELL",
            100,
            "PROD",
            "DEPOT",
            r#","lot":"L1""#,
        ) + &mv(
            "m2",
            "2025-01-11",
            "SHELL",
            30,
            "DEPOT",
            "HUB",
            r#","lot":"L1""#,
        ) + &mv(
            "m3",
            "2025-01-10",
            "PAC3",
            1,
            "PROD",
            "DEPOT",
            r#","serials":["P1"]"#,
        )),
    )
    .unwrap();
    app
}

fn query<'a>(
    holder: Option<&'a str>,
    item: Option<&'a str>,
    lot: Option<&'a str>,
) -> BalanceQuery<'a> {
    BalanceQuery {
        holder,
        item,
        lot,
        as_of: None,
    }
}

#[test]
fn a_query_naming_what_does_not_exist_is_an_error_naming_it() {
    let db = sqlite();
    let app = seeded(&db);
    let state = app.read().unwrap();
    let err = |q: BalanceQuery| state.balances(&q).unwrap_err().to_string();
    assert_eq!(
        err(query(Some("NOPE"), None, None)),
        r#"unknown holder "NOPE""#
    );
    assert_eq!(
        err(query(None, Some("NOPE"), None)),
        r#"unknown item "NOPE""#
    );
    assert_eq!(err(query(None, None, Some("L9"))), r#"unknown lot "L9""#);
    // L1 is a lot of SHELL, not of PAC3.
    assert_eq!(
        err(query(None, Some("PAC3"), Some("L1"))),
        r#"unknown lot "L1" of item "PAC3""#
    );
    assert!(matches!(
        state.balances(&query(None, Some("NOPE"), None)),
        Err(AppError::Unknown { kind: "item", .. })
    ));
    assert_eq!(
        state
            .review(Some("NOPE"), at("2025-02-01"))
            .unwrap_err()
            .to_string(),
        r#"unknown org "NOPE""#
    );
    // Known references answer, even when the answer is empty.
    assert_eq!(
        state
            .balances(&query(Some("BDE"), Some("SHELL"), Some("L1")))
            .unwrap(),
        vec![]
    );
    assert_eq!(
        state
            .balances(&query(Some("HUB"), None, Some("L1")))
            .unwrap(),
        vec![output::Balance {
            holder: "HUB",
            item: "SHELL",
            lot: Some("L1"),
            qty: 30
        }]
    );
    assert!(state.review(Some("US"), at("2025-02-01")).is_ok());
}

#[test]
fn every_json_output_keeps_its_field_names_and_order() {
    let db = sqlite();
    let app = seeded(&db);
    let state = app.read().unwrap();
    let json = |v: &dyn erased::Json| v.to_json();
    let rows = state
        .balances(&query(None, None, None))
        .unwrap()
        .into_iter()
        .filter(|b| b.holder == "DEPOT")
        .collect::<Vec<_>>();
    expect![[r#"[{"holder":"DEPOT","item":"PAC3","lot":null,"qty":1},{"holder":"DEPOT","item":"SHELL","lot":"L1","qty":70}]"#]]
        .assert_eq(&json(&rows));
    let review = state.review(Some("US"), at("2025-02-01")).unwrap();
    expect![[r#"{"as_of":"2025-02-01T00:00:00Z","horizon":24,"items":[{"available":70,"category":"ammunition","consumption":0,"depots":[{"holder":"DEPOT","qty":70}],"earmarked":0,"first_breach":null,"floor":50,"flows":[],"headroom":20,"in_transit":30,"item":"SHELL","months_of_cover":null,"name":"155 mm","on_hand":70,"production":0,"sent":[],"sunk":[]},{"available":1,"category":"missile","consumption":0,"depots":[{"holder":"DEPOT","qty":1}],"earmarked":0,"first_breach":null,"floor":0,"flows":[],"headroom":1,"in_transit":0,"item":"PAC3","months_of_cover":null,"name":"PAC-3 MSE","on_hand":1,"production":0,"sent":[],"sunk":[]}],"org":"US"}"#]]
        .assert_eq(&json(&review));
    let all = state.review(None, at("2025-02-01")).unwrap();
    assert!(json(&all).ends_with(r#""org":null}"#), "{}", json(&all));
    drop(state);

    let report = app.verify().unwrap();
    expect![[r#"{"batches":2,"movements":3,"ok":true,"records":13,"snapshot_batch":null,"snapshot_outdated":false}"#]]
        .assert_eq(&json(&output::Verified::from(&report)));
    let failure = qm_app::VerifyFailure {
        batch: Some(2),
        message: "content does not match its hash: the batch was altered".into(),
    };
    expect![[
        r#"{"batch":2,"error":"content does not match its hash: the batch was altered","ok":false}"#
    ]]
    .assert_eq(&json(&output::VerifyFailed::from(&failure)));

    let applied: Result<Applied, AppError> = Ok(Applied {
        batch: Some(3),
        new_records: 2,
        duplicates: 1,
    });
    let nothing: Result<Applied, AppError> = Ok(Applied {
        batch: None,
        new_records: 0,
        duplicates: 4,
    });
    let rejected: Result<Applied, AppError> = Err(AppError::Input {
        file: "gone.jsonl".into(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "No such file"),
    });
    let summary = vec![
        output::ApplyFile::new("a.jsonl", &applied),
        output::ApplyFile::new("b.jsonl", &nothing),
        output::ApplyFile::new("gone.jsonl", &rejected),
    ];
    expect![[r#"[{"batch":3,"duplicates":1,"file":"a.jsonl","new_records":2},{"batch":null,"duplicates":4,"file":"b.jsonl","new_records":0},{"file":"gone.jsonl","rejected":"reading gone.jsonl: No such file"}]"#]]
        .assert_eq(&json(&summary));
}

/// `serde_json::to_string` behind a trait object, so one closure serialises every type.
mod erased {
    pub trait Json {
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap()
        }
    }
}

/// A store that fails the commit of its `fail_at`-th append (counting from 1), after
/// releasing the lock as a real failed commit does.
struct FailingCommit {
    inner: BoxStore,
    commits: Arc<AtomicUsize>,
    fail_at: usize,
    /// The failing commit lands all the same (a connection lost after the server committed:
    /// the caller cannot tell).
    lands: bool,
}

impl Store for FailingCommit {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn head(&mut self) -> qm_store::Result<Head> {
        self.inner.head()
    }
    fn read_batches(
        &mut self,
        after: u64,
        f: &mut dyn FnMut(StoredBatch) -> qm_store::Result<()>,
    ) -> qm_store::Result<()> {
        self.inner.read_batches(after, f)
    }
    fn read_batch(&mut self, seq: u64) -> qm_store::Result<Option<StoredBatch>> {
        self.inner.read_batch(seq)
    }
    fn begin_append(&mut self) -> qm_store::Result<Head> {
        self.inner.begin_append()
    }
    fn commit_append(
        &mut self,
        batch: &StoredBatch,
        derived: Option<&qm_store::Derived>,
    ) -> qm_store::Result<()> {
        if self.commits.fetch_add(1, Ordering::SeqCst) + 1 == self.fail_at {
            if self.lands {
                self.inner.commit_append(batch, derived)?;
                return Err(StoreError::Backend("connection lost (injected)".into()));
            }
            self.inner.abort_append()?;
            return Err(StoreError::Backend("disk full (injected)".into()));
        }
        self.inner.commit_append(batch, derived)
    }
    fn commit_derived(&mut self, derived: &qm_store::Derived) -> qm_store::Result<()> {
        self.inner.commit_derived(derived)
    }
    fn abort_append(&mut self) -> qm_store::Result<()> {
        self.inner.abort_append()
    }
    fn load_snapshot(&mut self) -> qm_store::Result<Option<Snapshot>> {
        self.inner.load_snapshot()
    }
    fn save_snapshot(
        &mut self,
        snapshot: &Snapshot,
        balances: &[BalanceRow],
    ) -> qm_store::Result<()> {
        self.inner.save_snapshot(snapshot, balances)
    }
    fn anchor(&mut self) -> qm_store::Result<Head> {
        self.inner.anchor()
    }
    fn read_balances(&mut self) -> qm_store::Result<Vec<BalanceRow>> {
        self.inner.read_balances()
    }
    fn mode(&self) -> qm_store::OpenMode {
        self.inner.mode()
    }
    fn derived_state(&mut self) -> qm_store::Result<qm_store::DerivedState> {
        self.inner.derived_state()
    }
    fn read_transfer_lines(&mut self) -> qm_store::Result<Vec<qm_store::TransferLineRow>> {
        self.inner.read_transfer_lines()
    }
}

#[test]
fn a_run_of_files_goes_on_past_a_rejected_file_and_stops_at_a_storage_error() {
    let db = sqlite();
    seeded(&db).close();
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let take = |id: &str, qty: u64| {
        mv(
            id,
            "2025-02-01",
            "SHELL",
            qty,
            "DEPOT",
            "BDE",
            r#","lot":"L1""#,
        )
    };
    let files = vec![
        file("g1.jsonl", &take("g1", 5)),
        file("short.jsonl", &take("short", 500)),
        dir.path()
            .join("missing.jsonl")
            .to_str()
            .unwrap()
            .to_owned(),
        file("garbled.jsonl", "{\"type\":\n"),
        file("g2.jsonl", &take("g2", 5)),
        file("g3.jsonl", &take("g3", 5)),
        file("g4.jsonl", &take("g4", 5)),
    ];
    let commits = Arc::new(AtomicUsize::new(0));
    let store = FailingCommit {
        inner: qm_app::open_store(db.url(), qm_app::OpenMode::Create).unwrap(),
        commits: commits.clone(),
        fail_at: 3,
        lands: false,
    };
    let mut app = App::with_store(Box::new(store)).unwrap();
    let mut reported = Vec::new();
    let result = app.apply_files(&files, &mut |f, outcome| {
        let name = std::path::Path::new(f)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        reported.push(match outcome {
            Ok(a) => format!("{name}: {a}"),
            // (The parser's own wording is its business: only where it points is checked.)
            Err(e @ AppError::Parse(_)) => {
                format!("{name}: {}", e.message().split(": ").next().unwrap())
            }
            Err(e) => format!("{name}: {}", e.message().lines().next().unwrap()),
        });
        Ok(())
    });
    expect![[r#"
        [
            "g1.jsonl: applied 1 records as batch 3",
            "short.jsonl: short.jsonl:1: field \"qty\": balance of \"SHELL\" lot \"L1\" at \"DEPOT\" would go negative at 2025-02-01T00:00:00Z: short by 435",
            "missing.jsonl: reading MISSING: No such file or directory (os error 2)",
            "garbled.jsonl: garbled.jsonl:1",
            "g2.jsonl: applied 1 records as batch 4",
        ]
    "#]]
    .assert_debug_eq(
        &reported
            .iter()
            .map(|r| {
                r.replace(&files[2], "MISSING")
                    .replace(&files[1], "short.jsonl")
                    .replace(&files[3], "garbled.jsonl")
            })
            .collect::<Vec<_>>(),
    );
    match result {
        Err(e @ AppError::Stopped { .. }) => {
            assert_eq!(
                e.message(),
                format!(
                    "{}: not applied: storage (sqlite): disk full (injected)",
                    files[5]
                )
            );
        }
        other => panic!("expected the run to stop, got {other:?}"),
    }
    assert_eq!(commits.load(Ordering::SeqCst), 3, "g4 was not tried");
    // The state is the journal's: g3 is not in it, and the next batch follows batch 4.
    assert_eq!(app.head().seq, 4);
    assert_eq!(
        app.read()
            .unwrap()
            .ledger()
            .balance("BDE", "SHELL", Some("L1"), None),
        10
    );
    let a = app.apply_text("g3.jsonl", &take("g3", 5)).unwrap();
    assert_eq!(a.batch, Some(5));
    app.verify().unwrap();
}

#[test]
fn a_commit_that_lands_but_reports_failure_is_read_back_from_the_journal() {
    let db = sqlite();
    seeded(&db).close();
    let store = FailingCommit {
        inner: qm_app::open_store(db.url(), qm_app::OpenMode::Create).unwrap(),
        commits: Arc::new(AtomicUsize::new(0)),
        fail_at: 1,
        lands: true,
    };
    let mut app = App::with_store(Box::new(store)).unwrap();
    let take = |id: &str| {
        mv(
            id,
            "2025-02-01",
            "SHELL",
            5,
            "DEPOT",
            "BDE",
            r#","lot":"L1""#,
        )
    };
    let bde = |app: &App| {
        app.read()
            .unwrap()
            .ledger()
            .balance("BDE", "SHELL", Some("L1"), None)
    };
    let e = app.apply_text("lost.jsonl", &take("lost")).unwrap_err();
    assert!(e.message().contains("connection lost"), "{e}");
    // Not acknowledged, so not shown: the state is undone to the head it knows.
    assert_eq!((app.head().seq, bde(&app)), (2, 0));
    // The next write catches up on the journal, which did keep the batch.
    let a = app.apply_text("next.jsonl", &take("next")).unwrap();
    assert_eq!(a.batch, Some(4));
    assert_eq!(bde(&app), 10);
    // And the same record again is a duplicate, not a second withdrawal.
    let again = app.apply_text("lost.jsonl", &take("lost")).unwrap();
    assert_eq!((again.batch, again.duplicates), (None, 1));
    app.verify().unwrap();
}

#[test]
fn batches_are_recorded_by_whom_the_app_is_told_else_the_os_user() {
    let db = sqlite();
    let mut app = db.open();
    let os = qm_app::os_user().unwrap_or_else(|| qm_app::RECORDED_BY_UNKNOWN.to_owned());
    assert_eq!(app.recorded_by(), os);
    app.apply_text("setup.jsonl", SETUP).unwrap();
    app.set_recorded_by("alice");
    app.apply_text(
        "a.jsonl",
        &mv(
            "m1",
            "2025-01-10",
            "SHELL",
            1,
            "PROD",
            "DEPOT",
            r#","lot":"L1""#,
        ),
    )
    .unwrap();
    let by = |app: &mut App, seq| app.store().read_batch(seq).unwrap().unwrap().recorded_by;
    assert_eq!(by(&mut app, 1), os);
    assert_eq!(by(&mut app, 2), "alice");
    // Compared with what the system says of this process's uid.
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    if id.status.success() {
        assert_eq!(os, String::from_utf8(id.stdout).unwrap().trim());
    }
}

#[test]
fn a_follower_sees_every_batch_another_app_commits_and_stops_when_asked() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut writer = db.open();
        writer.apply_text("setup.jsonl", SETUP).unwrap();
        let follower = db.open();
        let mut exported = Vec::new();
        let last = follower.export(&mut exported).unwrap();
        assert_eq!(last, 1);
        assert_eq!(String::from_utf8(exported).unwrap(), SETUP);
        let seen = std::sync::Mutex::new(Vec::new());
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let f = s.spawn(|| {
                follower.follow(last, &|| !stop.load(Ordering::SeqCst), &mut |b| {
                    seen.lock().unwrap().push((b.seq, b.body.clone()));
                    Ok(())
                })
            });
            for n in 0..3 {
                writer
                    .apply_text(
                        "b.jsonl",
                        &mv(
                            &format!("f{n}"),
                            "2025-01-10",
                            "SHELL",
                            1,
                            "PROD",
                            "DEPOT",
                            r#","lot":"L1""#,
                        ),
                    )
                    .unwrap();
            }
            let t = std::time::Instant::now();
            while seen.lock().unwrap().len() < 3 && t.elapsed() < std::time::Duration::from_secs(10)
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            stop.store(true, Ordering::SeqCst);
            assert_eq!(f.join().unwrap().unwrap(), 4);
        });
        let seen = seen.into_inner().unwrap();
        assert_eq!(
            seen.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        let followed: String = seen.iter().map(|(_, b)| b.as_str()).collect();
        assert_eq!(SETUP.to_owned() + &followed, export(&writer));
    });
}
