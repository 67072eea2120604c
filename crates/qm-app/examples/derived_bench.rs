//! What the analysts' transfer lines cost a commit, through the facade (core check, derived
//! rows, durable commit), on the embedded file or PostgreSQL.
//!
//! ```text
//! cargo run --release -p qm-app --example derived_bench -- [--dir DIR] [--movements N] [--rounds R] [--pg]
//! ```
//!
//! 1. Durable ingest of plain movements (nothing derived to write): the uniform workload of
//!    `qm bench` (2,000 bulk items, 500 holders), `--movements` (1,000,000) in batches of 10k,
//!    applied as parsed records (no file reading or parsing in the timing); movements/s.
//! 2. Batches touching 100 transfers: 1,000 transfers of two lines are declared, then
//!    `--rounds` (50) batches each allocate one of each line of 100 transfers (200 records,
//!    200 lines rewritten), alternating with batches of 200 plain movements between depots
//!    (nothing derived); per-batch times of each (median and mean, durable commits).
//!
//! `--pg` runs both against a fresh PostgreSQL database (`QM_TEST_PG_URL`, or a throwaway
//! cluster of `qm-testkit`) instead of a file in `--dir` (default: the system temp dir; use a
//! real disk, not tmpfs, or the fsyncs cost nothing). The workload and its timing use only
//! the facade's public API, so the same file measures a build without the derived tables.

use std::time::{Duration, Instant};

use qm_app::App;
use qm_core::Record;

struct Config {
    dir: std::path::PathBuf,
    movements: u64,
    rounds: usize,
    pg: bool,
}

fn parse_args() -> Config {
    let mut c = Config {
        dir: std::env::temp_dir(),
        movements: 1_000_000,
        rounds: 50,
        pg: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--pg" {
            c.pg = true;
            continue;
        }
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--dir" => c.dir = value.into(),
            "--movements" => c.movements = value.parse().expect("--movements N"),
            "--rounds" => c.rounds = value.parse().expect("--rounds N"),
            other => panic!("unknown option {other}"),
        }
    }
    c
}

/// A fresh database: a file in `dir`, or a PostgreSQL database; kept alive by the guard.
enum Fresh {
    File {
        _dir: tempfile::TempDir,
        path: String,
    },
    Pg(qm_testkit::TestDb),
}

impl Fresh {
    fn new(c: &Config) -> Fresh {
        if c.pg {
            Fresh::Pg(qm_testkit::TestDb::new())
        } else {
            let dir = tempfile::tempdir_in(&c.dir).expect("scratch dir");
            let path = dir.path().join("ledger.qm").to_str().unwrap().to_owned();
            Fresh::File { _dir: dir, path }
        }
    }

    fn url(&self) -> &str {
        match self {
            Fresh::File { path, .. } => path,
            Fresh::Pg(db) => &db.url,
        }
    }
}

fn apply(app: &mut App, records: &[Record]) -> Duration {
    let lines: Vec<u32> = (1..=records.len() as u32).collect();
    let t = Instant::now();
    app.apply_records("bench", records, &lines)
        .unwrap_or_else(|e| panic!("{}", e.message()));
    t.elapsed()
}

fn parse(text: &str) -> Vec<Record> {
    qm_interchange::parse_text("bench", text, 1)
        .unwrap()
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

fn ingest(c: &Config) {
    let db = Fresh::new(c);
    let mut app = App::open(db.url()).unwrap();
    let cfg = qm_sim::WorkloadConfig {
        movements: c.movements,
        ..Default::default()
    };
    apply(&mut app, &qm_sim::uniform_master_data(&cfg));
    let mut spent = Duration::ZERO;
    for batch in qm_sim::uniform_workload(cfg) {
        spent += apply(&mut app, &batch);
    }
    println!(
        "plain movements, {} in batches of 10k: {:.0} movements/s ({:.2} s)",
        c.movements,
        c.movements as f64 / spent.as_secs_f64(),
        spent.as_secs_f64()
    );
    app.close();
}

const TRANSFERS: usize = 1_000;
const PER_BATCH: usize = 100;

fn transfers(c: &Config) {
    let db = Fresh::new(c);
    let mut app = App::open(db.url()).unwrap();
    let mut setup = String::from(
        r#"{"type":"org","id":"US","name":"United States","kind":"donor"}
{"type":"org","id":"UA","name":"Ukraine","kind":"recipient"}
{"type":"holder","id":"S","name":"Production","org":"US","kind":"source"}
{"type":"holder","id":"D1","name":"Depot 1","org":"US","kind":"depot"}
{"type":"holder","id":"D2","name":"Depot 2","org":"US","kind":"depot"}
{"type":"holder","id":"U","name":"Brigade","org":"UA","kind":"unit"}
{"type":"item","code":"A","name":"A","category":"ammunition","tracking":"bulk"}
{"type":"item","code":"B","name":"B","category":"ammunition","tracking":"bulk"}
{"type":"movement","id":"s1","time":"2025-01-01","item":"A","qty":100000000,"from":"S","to":"D1"}
{"type":"movement","id":"s2","time":"2025-01-01","item":"B","qty":100000000,"from":"S","to":"D1"}
{"type":"movement","id":"s3","time":"2025-01-01","item":"A","qty":100000000,"from":"S","to":"D2"}
"#,
    );
    for t in 0..TRANSFERS {
        setup += &format!(
            r#"{{"type":"transfer","id":"T{t:04}","time":"2025-01-02","donor":"US","recipient":"UA","lines":[{{"item":"A","qty":100000}},{{"item":"B","qty":100000}}]}}"#
        );
        setup.push('\n');
    }
    apply(&mut app, &parse(&setup));
    let (mut touching, mut plain) = (Vec::new(), Vec::new());
    for round in 0..c.rounds {
        let first = (round * PER_BATCH) % TRANSFERS;
        let mut text = String::new();
        for t in first..first + PER_BATCH {
            for item in ["A", "B"] {
                text += &format!(
                    r#"{{"type":"allocate","id":"a{round}-{t}-{item}","time":"2025-01-03","transfer":"T{t:04}","item":"{item}","qty":1,"from":"D1"}}"#
                );
                text.push('\n');
            }
        }
        touching.push(apply(&mut app, &parse(&text)));
        let mut text = String::new();
        for m in 0..2 * PER_BATCH {
            text += &format!(
                r#"{{"type":"movement","id":"m{round}-{m}","time":"2025-01-03","item":"A","qty":1,"from":"D2","to":"D1"}}"#
            );
            text.push('\n');
        }
        plain.push(apply(&mut app, &parse(&text)));
    }
    let stats = |mut v: Vec<Duration>| {
        v.sort();
        let mean = v.iter().sum::<Duration>() / v.len() as u32;
        (v[v.len() / 2], mean)
    };
    let (tm, ta) = stats(touching);
    let (pm, pa) = stats(plain);
    println!(
        "per batch, {} rounds: 200 allocations touching {PER_BATCH} transfers (200 lines) median {:.2} ms, mean {:.2} ms; 200 plain movements median {:.2} ms, mean {:.2} ms",
        c.rounds,
        tm.as_secs_f64() * 1e3,
        ta.as_secs_f64() * 1e3,
        pm.as_secs_f64() * 1e3,
        pa.as_secs_f64() * 1e3,
    );
    app.close();
}

fn main() {
    let c = parse_args();
    println!("backend: {}", if c.pg { "postgres" } else { "sqlite" });
    ingest(&c);
    transfers(&c);
}
