//! Notifications: other processes learn of new batches without polling the history.

use std::thread;
use std::time::{Duration, Instant};

use qm_store::conformance::org;
use qm_store::{Head, OpenMode, Store, StoredBatch};
use qm_store_postgres::PgStore;

use crate::support::{OpenPg, TestDb};

fn append(store: &mut PgStore, id: &str) -> StoredBatch {
    qm_store::conformance::append(store, "tester", &org(id))
}

#[test]
fn a_listener_learns_of_commits_by_others() {
    let db = TestDb::new();
    let mut listener = db.open();
    listener.listen().unwrap();
    let mut writer = db.open();
    append(&mut writer, "a");
    append(&mut writer, "b");

    // Notifications travel asynchronously: collect until batch 2 is announced.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut newest = 0;
    while newest < 2 {
        assert!(
            Instant::now() < deadline,
            "no notification of batch 2 within 10 s"
        );
        if let Some(seq) = listener.wait_for_append(Duration::from_secs(10)).unwrap() {
            assert!(seq > newest && seq <= 2, "notified {seq} after {newest}");
            newest = seq;
        }
    }
    // The listener reads only what is new.
    let mut seqs = Vec::new();
    listener
        .read_batches(1, &mut |b| {
            seqs.push(b.seq);
            Ok(())
        })
        .unwrap();
    assert_eq!(seqs, vec![2]);

    // Nothing more: a short wait times out.
    let started = Instant::now();
    assert_eq!(
        listener
            .wait_for_append(Duration::from_millis(200))
            .unwrap(),
        None
    );
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "waited the timeout"
    );
}

#[test]
fn a_waiting_listener_wakes_promptly() {
    let db = TestDb::new();
    let mut listener = db.open();
    listener.listen().unwrap();
    let url = db.url.clone();
    let writer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        let mut writer = PgStore::connect(&url, OpenMode::Create).unwrap();
        let written = Instant::now();
        append(&mut writer, "a");
        written
    });
    let got = listener.wait_for_append(Duration::from_secs(30)).unwrap();
    let woke = Instant::now();
    let written = writer.join().unwrap();
    assert_eq!(got, Some(1));
    assert!(
        woke.duration_since(written) < Duration::from_secs(5),
        "woke {:?} after the commit",
        woke - written
    );
    assert_eq!(listener.head().unwrap().seq, 1);
    assert_ne!(listener.head().unwrap(), Head::default());
}
