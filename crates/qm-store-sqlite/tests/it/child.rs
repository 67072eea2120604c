//! A helper process: this test binary, re-run with `QM_SQLITE_CHILD_*` variables set, appends
//! to a ledger the way a separate `qm` process would. Tests in [`crate::concurrency`] spawn it
//! to check locking across processes and durability across `kill -9`.
//!
//! Run without those variables (as in every normal test run) [`child_process`] returns at once.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use qm_store::conformance::{movement, sealed};
use qm_store::Store;
use qm_store_sqlite::SqliteStore;

/// What a child does, passed in `QM_SQLITE_CHILD_MODE`.
pub enum Mode {
    /// Appends this many batches, then exits.
    Append(u64),
    /// Appends until killed, printing `committed <seq>` after each commit returns.
    Forever,
}

/// Starts a child appending to `db` as writer `name`, with its stdout piped.
pub fn spawn(db: &Path, name: &str, mode: Mode) -> Child {
    let mode = match mode {
        Mode::Append(n) => format!("append:{n}"),
        Mode::Forever => "forever".to_string(),
    };
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child::child_process",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env("QM_SQLITE_CHILD_MODE", mode)
        .env("QM_SQLITE_CHILD_DB", db)
        .env("QM_SQLITE_CHILD_NAME", name)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the test binary as a child process")
}

/// The body of batch `i` of writer `name`: one unit moved from `source` to the writer's own
/// holder, so after `n` batches the writer holds `n`.
pub fn body(name: &str, i: u64) -> String {
    movement(&format!("{name}-{i}"), "batches", 1, "source", name, None)
}

/// Appends batch `i` of writer `name` at the head, first catching up on (and checking) what
/// others wrote since `seen`, inside the write transaction. Returns the new head's seq.
pub fn append_one(store: &mut SqliteStore, name: &str, i: u64, seen: &mut u64) -> u64 {
    let head = store.begin_append().expect("begin_append");
    store
        .read_batches(*seen, &mut |b| {
            assert_eq!(b.seq, *seen + 1, "catching up reads every batch in order");
            *seen = b.seq;
            Ok(())
        })
        .expect("read_batches inside the write transaction");
    assert_eq!(
        *seen, head.seq,
        "catching up inside the transaction reaches the head it returned"
    );
    let batch = sealed(head, name, &body(name, i));
    store
        .commit_append(&batch, Some(&qm_store::Derived::EMPTY))
        .expect("commit_append");
    *seen = batch.seq;
    batch.seq
}

#[test]
fn child_process() {
    let (Ok(mode), Ok(db), Ok(name)) = (
        std::env::var("QM_SQLITE_CHILD_MODE"),
        std::env::var("QM_SQLITE_CHILD_DB"),
        std::env::var("QM_SQLITE_CHILD_NAME"),
    ) else {
        return; // A normal test run: not a child.
    };
    let mut store = crate::open(Path::new(&db));
    let mut seen = 0;
    let mut out = std::io::stdout().lock();
    if let Some(n) = mode.strip_prefix("append:") {
        for i in 1..=n.parse::<u64>().unwrap() {
            append_one(&mut store, &name, i, &mut seen);
        }
    } else {
        for i in 1.. {
            let seq = append_one(&mut store, &name, i, &mut seen);
            writeln!(out, "committed {seq}").unwrap();
            out.flush().unwrap();
        }
    }
}
