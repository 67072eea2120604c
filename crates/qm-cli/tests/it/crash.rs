//! Crash safety of `qm apply`: the process is killed with SIGKILL at a random moment while it
//! applies a sequence of files, again and again, each time on a fresh copy of a database.
//!
//! Every file is a valid batch whatever subset of the others has committed (each only moves
//! stock from a source to depots), so any prefix of the sequence may have committed when the
//! process dies. After each kill:
//! - every file whose acknowledgement line was printed is in the database, whole;
//! - no file is there in part (a batch is atomic), the committed files are a prefix of the
//!   sequence, and at most one of them (the one in flight) is unacknowledged;
//! - balances are exactly those of the committed files, and `qm verify` passes;
//! - `qm apply` on all the files again completes: committed files are no-ops, the rest apply,
//!   and the export then holds every movement exactly once.
//!
//! The kill comes after a random delay of 0 to 300 ms, capped at the time one uninterrupted
//! run takes (measured first, and lowered whenever a run finishes before its kill), so that
//! kills land while `qm apply` is working in a debug build and in a release build alike. Bounded: at most [`MAX_ITERATIONS`] kills
//! and about [`BUDGET`] of wall time.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::support::{movement, movement_ids, parse_balances, qm_command, run_in, Bal, Jsonl};

const FILES: usize = 12;
const PER_FILE: usize = 2_000;
const DEPOTS: usize = 8;
const MAX_ITERATIONS: usize = 30;
const MIN_ITERATIONS: usize = 4;
const BUDGET: Duration = Duration::from_secs(40);
const MAX_KILL_DELAY_MS: u64 = 300;

type Key = (String, String, Option<String>);

struct Scenario {
    dir: tempfile::TempDir,
    files: Vec<String>,
    /// Per file, what it adds to each balance.
    deltas: Vec<BTreeMap<Key, i64>>,
    /// A database holding only the master data, closed (one file).
    template: PathBuf,
}

fn scenario(rng: &mut StdRng) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    let mut master = Jsonl::new();
    master
        .org("US")
        .holder("SRC", "US", "source")
        .item("AMMO", "bulk")
        .item("SHELL", "lot");
    for d in 0..DEPOTS {
        master.holder(&format!("D{d}"), "US", "depot");
    }
    let master_path = dir.path().join("master.jsonl");
    std::fs::write(&master_path, master.text()).unwrap();

    let mut files = Vec::new();
    let mut deltas = Vec::new();
    for f in 0..FILES {
        let mut j = Jsonl::new();
        let mut delta: BTreeMap<Key, i64> = BTreeMap::new();
        for i in 0..PER_FILE {
            let time = format!(
                "2025-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                rng.gen_range(1..=12),
                rng.gen_range(1..=28),
                rng.gen_range(0..24),
                rng.gen_range(0..60),
                rng.gen_range(0..60)
            );
            let to = format!("D{}", rng.gen_range(0..DEPOTS));
            let qty: u64 = rng.gen_range(1..=50);
            let id = format!("c{f:02}-{i:05}");
            let (item, lot) = if rng.gen_bool(0.5) {
                ("AMMO", None)
            } else {
                ("SHELL", Some(format!("L{}", rng.gen_range(1..=3))))
            };
            let mut m = movement(&id, &time, item, qty, "SRC", &to);
            if let Some(l) = &lot {
                m["lot"] = serde_json::json!(l);
            }
            j.push(m);
            *delta.entry((to, item.to_owned(), lot.clone())).or_default() += qty as i64;
            *delta
                .entry(("SRC".to_owned(), item.to_owned(), lot))
                .or_default() -= qty as i64;
        }
        let p = dir.path().join(format!("f{f:02}.jsonl"));
        std::fs::write(&p, j.text()).unwrap();
        files.push(p.to_str().unwrap().to_owned());
        deltas.push(delta);
    }

    let template = dir.path().join("template.db");
    run_in(
        dir.path(),
        &[
            "--db",
            template.to_str().unwrap(),
            "apply",
            master_path.to_str().unwrap(),
        ],
        None,
        &[],
    )
    .ok();
    Scenario {
        dir,
        files,
        deltas,
        template,
    }
}

/// Copies a closed database (and its WAL, should one have been left behind).
fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    for suffix in ["-wal", "-journal"] {
        let side = PathBuf::from(format!("{}{suffix}", from.display()));
        if side.exists() {
            std::fs::copy(&side, format!("{}{suffix}", to.display())).unwrap();
        }
    }
}

/// The balances `qm balance --json` must print when the first `n` files have committed.
fn expected_balances(s: &Scenario, n: usize) -> Vec<Bal> {
    let mut sum: BTreeMap<Key, i64> = BTreeMap::new();
    for d in &s.deltas[..n] {
        for (k, v) in d {
            *sum.entry(k.clone()).or_default() += v;
        }
    }
    let mut rows: Vec<Bal> = sum
        .into_iter()
        .filter(|(_, q)| *q != 0)
        .map(|((holder, item, lot), qty)| Bal {
            holder,
            item,
            lot,
            qty,
        })
        .collect();
    rows.sort();
    rows
}

/// What one killed run printed and did.
struct KilledRun {
    /// Files acknowledged, in the order printed.
    acked: Vec<usize>,
    /// Whether the run finished before the kill.
    finished: bool,
    stderr: String,
}

/// Starts `qm apply` on every file and kills it with SIGKILL after `delay`.
fn apply_and_kill(s: &Scenario, db: &Path, delay: Duration) -> KilledRun {
    let mut c = qm_command(s.dir.path());
    c.arg("--db").arg(db).arg("apply").args(&s.files);
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn qm apply");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let collected = Arc::clone(&lines);
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match stdout.read_until(b'\n', &mut buf) {
                // Only a complete line is an acknowledgement.
                Ok(n) if n > 0 && buf.ends_with(b"\n") => {
                    collected
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n - 1]).into_owned());
                }
                _ => break,
            }
        }
    });
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    std::thread::sleep(delay);
    let finished = matches!(child.try_wait(), Ok(Some(_)));
    // SIGKILL; harmless if it already exited.
    let _ = child.kill();
    let status = child.wait().expect("wait for qm apply");
    reader.join().unwrap();
    let stderr = stderr_reader.join().unwrap();
    if finished {
        assert!(
            status.success(),
            "qm apply finished on its own but failed: {status:?}\n{stderr}"
        );
    }

    let lines = lines.lock().unwrap().clone();
    let mut acked = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let f = n; // files are applied in order
        assert!(f < FILES, "more acknowledgements than files: {lines:?}");
        let want = format!(
            "{}: applied {PER_FILE} records as batch {}",
            s.files[f],
            f + 2
        );
        assert_eq!(
            line, &want,
            "acknowledgement {n}; all lines: {lines:?}\nstderr: {stderr}"
        );
        acked.push(f);
    }
    KilledRun {
        acked,
        finished,
        stderr,
    }
}

#[test]
fn apply_killed_at_random_moments_loses_no_acknowledged_batch() {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(0x5EED_C4A5);
    let s = scenario(&mut rng);
    let all_ids: usize = FILES * PER_FILE;

    // One uninterrupted run first: it must complete with the balances of every file, and
    // its duration bounds the kill delays (at most MAX_KILL_DELAY_MS), so that kills land
    // while `qm apply` works whatever the build profile and the machine; a run that still
    // finishes before its kill lowers the bound.
    let db = s.dir.path().join("complete.db");
    copy_db(&s.template, &db);
    let db_str = db.to_str().unwrap();
    let mut args = vec!["--db", db_str, "apply"];
    args.extend(s.files.iter().map(String::as_str));
    let timed = Instant::now();
    run_in(s.dir.path(), &args, None, &[]).ok();
    let full_run = timed.elapsed();
    let balances = run_in(
        s.dir.path(),
        &["--db", db_str, "balance", "--json"],
        None,
        &[],
    );
    assert_eq!(
        parse_balances(&balances.ok().json()),
        expected_balances(&s, FILES)
    );
    run_in(s.dir.path(), &["--db", db_str, "verify"], None, &[]).ok();
    let mut max_delay_ms = (full_run.as_millis() as u64).clamp(5, MAX_KILL_DELAY_MS);

    let mut iterations = 0;
    let mut mid_run_kills = 0;
    let mut unacked_commits = 0;
    let mut histogram = vec![0usize; FILES + 1];
    while iterations < MAX_ITERATIONS && (iterations < MIN_ITERATIONS || started.elapsed() < BUDGET)
    {
        let it_dir = s.dir.path().join(format!("run{iterations:02}"));
        std::fs::create_dir(&it_dir).unwrap();
        let db = it_dir.join("ledger.db");
        copy_db(&s.template, &db);
        let db_str = db.to_str().unwrap();
        let delay = Duration::from_millis(rng.gen_range(0..=max_delay_ms));
        let run = apply_and_kill(&s, &db, delay);
        let context = format!(
            "iteration {iterations}, killed after {delay:?}, acknowledged {:?}, stderr: {}",
            run.acked, run.stderr
        );

        // What is in the database now: whole files only, a prefix of the sequence.
        let export = run_in(&it_dir, &["--db", db_str, "export"], None, &[]);
        export.ok();
        let ids = movement_ids(&export.stdout);
        assert!(
            ids.values().all(|&n| n == 1),
            "{context}: a movement exported twice"
        );
        let mut per_file = vec![0usize; FILES];
        for id in ids.keys() {
            let f: usize = id[1..3].parse().unwrap();
            per_file[f] += 1;
        }
        for (f, &n) in per_file.iter().enumerate() {
            assert!(
                n == 0 || n == PER_FILE,
                "{context}: file {f} is in the database in part ({n} of {PER_FILE})"
            );
        }
        let committed = per_file.iter().take_while(|&&n| n == PER_FILE).count();
        assert!(
            per_file[committed..].iter().all(|&n| n == 0),
            "{context}: committed files are not a prefix: {per_file:?}"
        );
        let acked = run.acked.len();
        assert!(
            committed >= acked,
            "{context}: an acknowledged batch is missing ({committed} committed)"
        );
        assert!(
            committed <= acked + 1,
            "{context}: {committed} committed but only {acked} acknowledged"
        );
        if run.finished {
            assert_eq!(committed, FILES, "{context}");
            // Warm runs are faster than the first: aim the kills earlier.
            max_delay_ms = (delay.as_millis() as u64 * 9 / 10).max(5);
        } else if committed < FILES {
            mid_run_kills += 1;
        }
        unacked_commits += committed - acked;
        histogram[committed] += 1;

        let balances = run_in(
            &it_dir,
            &["--db", db_str, "balance", "--json", "--as-of", "2030-01-01"],
            None,
            &[],
        );
        assert_eq!(
            parse_balances(&balances.ok().json()),
            expected_balances(&s, committed),
            "{context}"
        );
        run_in(&it_dir, &["--db", db_str, "verify"], None, &[]).ok();

        // Apply everything again: the rest applies, what committed is a no-op.
        let mut args = vec!["--db", db_str, "apply"];
        args.extend(s.files.iter().map(String::as_str));
        let again = run_in(&it_dir, &args, None, &[]);
        again.ok();
        let lines: Vec<&str> = again.stdout.lines().collect();
        assert_eq!(lines.len(), FILES, "{context}: re-apply printed {lines:?}");
        for (f, line) in lines.iter().enumerate() {
            let want = if f < committed {
                format!("{}: nothing new ({PER_FILE} already recorded)", s.files[f])
            } else {
                format!(
                    "{}: applied {PER_FILE} records as batch {}",
                    s.files[f],
                    f + 2
                )
            };
            assert_eq!(*line, want, "{context}: re-apply of file {f}");
        }
        let export = run_in(&it_dir, &["--db", db_str, "export"], None, &[]);
        let ids = movement_ids(&export.ok().stdout);
        assert_eq!(ids.len(), all_ids, "{context}: after re-apply");
        assert!(
            ids.values().all(|&n| n == 1),
            "{context}: a movement exported twice after re-apply"
        );
        std::fs::remove_dir_all(&it_dir).unwrap();
        iterations += 1;
    }

    eprintln!(
        "crash test: uninterrupted run {full_run:?}, kill delays at most {max_delay_ms} ms at the end; {iterations} kills in {:?}; {mid_run_kills} mid-run; {unacked_commits} committed-but-unacknowledged; committed files per kill: {histogram:?}",
        started.elapsed()
    );
    assert!(
        mid_run_kills > 0,
        "no kill landed while qm apply was still working: the test proved nothing"
    );
}
