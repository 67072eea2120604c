//! Several writers on one file: threads with their own handles, separate processes, and a
//! writer killed with SIGKILL in the middle of appending.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};

use qm_store::conformance::{all_batches, assert_chain, balance};
use qm_store::{BalanceRow, Store};
use qm_store_sqlite::SqliteStore;

use crate::child::{self, Mode};
use crate::open;

/// Checks that the journal holds batches 1..=`per_writer` of every writer exactly once, in an
/// intact chain, and that the `balances` view shows each writer holding its batch count.
fn assert_every_batch_once(store: &mut SqliteStore, writers: &[String], per_writer: u64) {
    let batches = all_batches(store);
    assert_chain(&batches);
    assert_eq!(batches.len() as u64, writers.len() as u64 * per_writer);
    let got: BTreeSet<(String, String)> = batches
        .iter()
        .map(|b| (b.recorded_by.clone(), b.body.clone()))
        .collect();
    let want: BTreeSet<(String, String)> = writers
        .iter()
        .flat_map(|w| (1..=per_writer).map(move |i| (w.clone(), child::body(w, i))))
        .collect();
    assert_eq!(got, want, "every batch of every writer exactly once");
    let balances = store.read_balances().unwrap();
    let row = |holder: &str, qty| balance(holder, "batches", "", qty);
    let mut want_balances: Vec<BalanceRow> =
        writers.iter().map(|w| row(w, per_writer as i64)).collect();
    want_balances.push(row("source", -((writers.len() as u64 * per_writer) as i64)));
    want_balances.sort_by(|a, b| a.holder.cmp(&b.holder));
    assert_eq!(balances, want_balances);
    store.integrity_check().unwrap();
}

#[test]
fn threads_with_their_own_handles_append_concurrently() {
    const THREADS: usize = 4;
    const BATCHES: u64 = 50;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let writers: Vec<String> = (0..THREADS).map(|t| format!("thread{t}")).collect();
    std::thread::scope(|scope| {
        for name in &writers {
            let path = &path;
            scope.spawn(move || {
                // Every thread opens the (possibly not yet created) file itself.
                let mut store = open(path);
                let mut seen = 0;
                for i in 1..=BATCHES {
                    child::append_one(&mut store, name, i, &mut seen);
                }
            });
        }
    });
    let mut store = open(&path);
    assert_every_batch_once(&mut store, &writers, BATCHES);
}

#[test]
fn processes_append_concurrently() {
    const PROCESSES: usize = 4;
    const BATCHES: u64 = 25;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let writers: Vec<String> = (0..PROCESSES).map(|p| format!("process{p}")).collect();
    let children: Vec<_> = writers
        .iter()
        .map(|name| child::spawn(&path, name, Mode::Append(BATCHES)))
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "child appender failed");
    }
    let mut store = open(&path);
    assert_every_batch_once(&mut store, &writers, BATCHES);
}

#[test]
fn kill_9_loses_no_committed_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let mut c = child::spawn(&path, "victim", Mode::Forever);
    let mut lines = BufReader::new(c.stdout.take().unwrap()).lines();
    let mut announced = 0;
    while announced < 30 {
        let line = lines.next().expect("child output").unwrap();
        if let Some(seq) = line.strip_prefix("committed ") {
            announced = seq.parse().unwrap();
        }
    }
    c.kill().unwrap(); // SIGKILL: no destructor, no rollback, no checkpoint.
    c.wait().unwrap();
    let mut store = open(&path);
    let batches = all_batches(&mut store);
    assert!(
        batches.len() as u64 >= announced,
        "batch {announced} was reported committed, but only {} survived",
        batches.len()
    );
    assert_chain(&batches);
    store.integrity_check().unwrap();
    // The file is still writable after the crash.
    let mut seen = batches.len() as u64;
    child::append_one(&mut store, "survivor", 1, &mut seen);
}

#[test]
fn wal_is_merged_into_the_file_when_the_last_handle_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let wal = dir.path().join("ledger.qm-wal");
    let shm = dir.path().join("ledger.qm-shm");
    let mut first = open(&path);
    let mut second = open(&path);
    let mut seen = 0;
    child::append_one(&mut first, "first", 1, &mut seen);
    assert!(wal.exists(), "WAL mode: commits go to the write-ahead log");
    drop(first);
    assert!(wal.exists(), "another handle is still open");
    child::append_one(&mut second, "second", 1, &mut seen);
    drop(second);
    assert!(
        !wal.exists(),
        "the last close checkpoints and deletes the WAL"
    );
    assert!(
        !shm.exists(),
        "the last close deletes the shared-memory index"
    );
    let mut store = open(&path);
    assert_eq!(all_batches(&mut store).len(), 2);
}
