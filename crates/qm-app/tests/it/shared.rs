//! Many readers, one writer: reader threads query the state through `Shared` while a writer
//! thread applies batches, and never see a batch half-applied (nor one the core refused and
//! undid), yet see the batches as they commit, not only at the end: at a few checkpoints the
//! writer waits until every reader has seen its head, so that "during" does not rest on how
//! the threads happen to be scheduled.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use qm_app::AppError;

use crate::support::*;

const READERS: usize = 3;
const BATCHES: u64 = 40;
/// What each accepted batch moves from DEPOT, through HUB, to BDE.
const STEP: i64 = 3;
const STOCK: i64 = 1000;

/// One accepted batch: STEP from DEPOT to HUB, then the same from HUB to BDE. Half-applied,
/// DEPOT + BDE would be short by STEP.
fn step(n: u64) -> String {
    let t = format!("2025-03-01T00:{:02}:{:02}Z", n / 60, n % 60);
    mv(
        &format!("out{n}"),
        &t,
        "SHELL",
        STEP as u64,
        "DEPOT",
        "HUB",
        r#","lot":"L1""#,
    ) + &mv(
        &format!("in{n}"),
        &t,
        "SHELL",
        STEP as u64,
        "HUB",
        "BDE",
        r#","lot":"L1""#,
    )
}

#[test]
fn readers_see_only_whole_batches_while_a_writer_applies() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        app.apply_text(
            "in.jsonl",
            &mv(
                "stock",
                "2025-01-01",
                "SHELL",
                STOCK as u64,
                "PROD",
                "DEPOT",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        let base = app.head().seq;
        let shared = app.shared();
        let done = AtomicBool::new(false);
        let start = Barrier::new(READERS + 1);
        // The last head each reader saw.
        let seen_by: Vec<AtomicU64> = (0..READERS).map(|_| AtomicU64::new(0)).collect();

        let seen: Vec<(BTreeSet<u64>, u64)> = std::thread::scope(|s| {
            let readers: Vec<_> = (0..READERS)
                .map(|i| {
                    let (shared, done, start) = (shared.clone(), &done, &start);
                    let seen_by = &seen_by[i];
                    s.spawn(move || {
                        let mut heads = BTreeSet::new();
                        let mut reads = 0u64;
                        start.wait();
                        while !done.load(Ordering::Acquire) {
                            {
                                let state = shared.read().unwrap();
                                let l = state.ledger();
                                let depot = l.balance("DEPOT", "SHELL", Some("L1"), None);
                                let bde = l.balance("BDE", "SHELL", Some("L1"), None);
                                let hub = l.balance("HUB", "SHELL", Some("L1"), None);
                                let seq = state.head().seq;
                                assert_eq!(depot + bde, STOCK, "a batch seen half-applied");
                                assert_eq!(hub, 0, "a batch seen half-applied");
                                // The state is the one its head names.
                                assert_eq!(bde, STEP * (seq - base) as i64, "at batch {seq}");
                                heads.insert(seq);
                                seen_by.store(seq, Ordering::Release);
                                reads += 1;
                            }
                            std::thread::yield_now();
                        }
                        (heads, reads)
                    })
                })
                .collect();
            let writer = s.spawn(|| {
                start.wait();
                let mut app = app;
                for n in 0..BATCHES {
                    app.apply_text("step.jsonl", &step(n)).unwrap();
                    if n % 10 == 9 && n + 1 < BATCHES {
                        // A checkpoint: every reader sees this head before the writer goes on.
                        let head = app.head().seq;
                        let deadline = Instant::now() + Duration::from_secs(30);
                        while seen_by.iter().any(|s| s.load(Ordering::Acquire) < head) {
                            assert!(
                                Instant::now() < deadline,
                                "a reader stalled at batch {head}"
                            );
                            std::thread::yield_now();
                        }
                    }
                    if n % 5 == 0 {
                        // Applied by the core, then refused and undone: never visible.
                        let refused = step(1000 + n)
                            + &mv(
                                &format!("over{n}"),
                                "2025-03-02",
                                "SHELL",
                                10 * STOCK as u64,
                                "DEPOT",
                                "USED",
                                r#","lot":"L1""#,
                            );
                        match app.apply_text("refused.jsonl", &refused) {
                            Err(AppError::Rejected { .. }) => {}
                            other => panic!("expected a rejection, got {other:?}"),
                        }
                    }
                }
                done.store(true, Ordering::Release);
                app
            });
            let app = writer.join().unwrap();
            assert_eq!(app.head().seq, base + BATCHES);
            readers.into_iter().map(|r| r.join().unwrap()).collect()
        });

        let last = base + BATCHES;
        for (heads, reads) in &seen {
            let during: Vec<_> = heads.iter().filter(|&&s| s > base && s < last).collect();
            assert!(
                during.len() >= 3,
                "a reader made progress during the applies ({reads} reads, heads {heads:?})"
            );
        }
        let state = shared.read().unwrap();
        assert_eq!(
            state.ledger().balance("BDE", "SHELL", Some("L1"), None),
            STEP * BATCHES as i64
        );
    });
}
