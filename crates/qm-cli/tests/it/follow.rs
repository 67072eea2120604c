//! `qm export --follow`: a process that follows the ledger sees what another process commits,
//! promptly (PostgreSQL wakes it with NOTIFY; the embedded file is polled cheaply).

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{Db, Jsonl, QM};

fn follow(db: Db) {
    let mut setup = Jsonl::new();
    setup
        .org("US")
        .holder("SRC", "US", "source")
        .holder("D", "US", "depot")
        .item("SHELL", "bulk");
    db.apply_ok("setup.jsonl", &setup.text());
    let mut child = std::process::Command::new(QM)
        .current_dir(db.dir())
        .env_remove("QM_DB")
        .args(["--db", db.db(), "export", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning qm export --follow");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The history first.
    for _ in 0..setup.len() {
        lines.next().unwrap().unwrap();
    }
    for round in 0..3 {
        let mut b = Jsonl::new();
        b.mv(
            &format!("m{round}"),
            "2025-01-01T00:00:00Z",
            "SHELL",
            1,
            "SRC",
            "D",
        );
        db.apply_ok(&format!("b{round}.jsonl"), &b.text());
        let applied = Instant::now();
        let line = lines.next().unwrap().unwrap();
        assert!(line.contains(&format!("\"id\":\"m{round}\"")), "{line}");
        assert!(applied.elapsed() < Duration::from_secs(5), "seen promptly");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_follower_sees_new_batches_on_the_embedded_file() {
    follow(Db::new());
}

#[test]
fn a_follower_sees_new_batches_on_postgres() {
    follow(Db::postgres());
}
