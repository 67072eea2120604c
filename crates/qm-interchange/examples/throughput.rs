//! Throughput of reading and writing typical movement lines, in lines per second.
//!
//! `cargo run --release -p qm-interchange --example throughput [LINES] [ONLY]` (default
//! 1,000,000 lines, every measurement; `ONLY` names one, for a profiler).
//! Measures, each as the best of three runs in CPU time of this thread (other processes on the
//! machine do not count): `parse_text` over a whole file (records kept; freeing them is not
//! timed), `parse_text_with` (each record dropped as it comes), `parse_bytes_with` (the same
//! from bytes, as `qm apply` reads a file: UTF-8 checked first), `parse_record` line by line,
//! `parse_time` alone, and `write_record` of every record into one `String`.

use std::hint::black_box;
use std::time::Instant;

use qm_interchange::{
    parse_bytes_with, parse_record, parse_text, parse_text_with, parse_time, write_record, Record,
};

fn main() {
    let lines: usize = std::env::args()
        .nth(1)
        .map_or(1_000_000, |s| s.parse().expect("LINES"));
    let only = std::env::args().nth(2);
    let run = |name: &str| only.as_deref().is_none_or(|o| name.starts_with(o));
    let text = typical_movements(lines);
    println!(
        "{lines} movement lines, {:.1} MB, {:.0} bytes a line on average",
        text.len() as f64 / 1e6,
        text.len() as f64 / lines as f64
    );

    let records = parse_text("bench.jsonl", &text, 10).expect("valid lines");
    if run("parse_text") {
        let (secs, ()) =
            best_of_3(|| parse_text("bench.jsonl", black_box(&text), 10).expect("valid lines"));
        report("parse_text (whole file)", lines, text.len(), secs);
    }
    if run("parse_text_with") {
        let (secs, ()) = best_of_3(|| {
            parse_text_with("bench.jsonl", black_box(&text), 10, |_, rec| {
                drop(black_box(rec))
            })
            .expect("valid lines")
        });
        report("parse_text_with (streaming)", lines, text.len(), secs);
    }
    if run("parse_bytes_with") {
        let (secs, ()) = best_of_3(|| {
            parse_bytes_with("bench.jsonl", black_box(text.as_bytes()), 10, |_, rec| {
                drop(black_box(rec))
            })
            .expect("valid lines")
        });
        report("parse_bytes_with (streaming)", lines, text.len(), secs);
    }
    if run("parse_record") {
        let (secs, ()) = best_of_3(|| {
            for line in text.lines() {
                black_box(parse_record(black_box(line)).expect("valid line"));
            }
        });
        report("parse_record (line by line)", lines, text.len(), secs);
    }
    if run("parse_time") {
        let times: Vec<&str> = text
            .lines()
            .map(|l| &l[l.find("\"time\":\"").unwrap() + 8..][..20])
            .collect();
        let (secs, ()) = best_of_3(|| {
            for t in &times {
                black_box(parse_time(black_box(t)));
            }
        });
        report("parse_time (canonical form)", lines, 0, secs);
    }
    if run("write_record") {
        let records: Vec<Record> = records.into_iter().map(|(_, r)| r).collect();
        let mut out = String::with_capacity(text.len() + lines);
        let (secs, ()) = best_of_3(|| {
            out.clear();
            for r in &records {
                write_record(r, &mut out);
                out.push('\n');
            }
            black_box(&out);
        });
        assert_eq!(out, text, "canonical input writes back byte for byte");
        report("write_record", lines, text.len(), secs);
    }
}

/// Lines as an export writes them: a mix of bulk, lot and (short) serial movements.
fn typical_movements(n: usize) -> String {
    let mut text = String::with_capacity(n * 160);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let day = 1 + (i / 40_000) % 28;
        let secs = i % 86_400;
        let time = format!(
            "2025-{:02}-{day:02}T{:02}:{:02}:{:02}Z",
            1 + (i / 1_000_000) % 12,
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        let from = format!("depot-{}", x % 50);
        let to = format!("unit-{}", (x >> 8) % 400);
        let line = match x % 10 {
            0 => format!(
                r#"{{"type":"movement","id":"mv-{i:08}","time":"{time}","item":"rifle-ak74","qty":2,"from":"{from}","to":"{to}","serials":["SN{:06}","SN{:06}"],"kind":"issue"}}"#,
                2 * i,
                2 * i + 1
            ),
            1..=4 => format!(
                r#"{{"type":"movement","id":"mv-{i:08}","time":"{time}","item":"155mm-he","qty":{},"from":"{from}","to":"{to}","lot":"LOT-2025-{:03}","kind":"issue"}}"#,
                1 + (x >> 16) % 500,
                (x >> 24) % 200
            ),
            _ => format!(
                r#"{{"type":"movement","id":"mv-{i:08}","time":"{time}","item":"ration-mre-{}","qty":{},"from":"{from}","to":"{to}"}}"#,
                (x >> 32) % 20,
                1 + (x >> 16) % 10_000
            ),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// Runs `f` three times; the best CPU time of this thread (`/proc/thread-self/schedstat`, so
/// that other processes competing for the cores do not count), or the best wall time where
/// that file is missing.
/// What `f` returns is dropped after the clock stops.
fn best_of_3<T>(mut f: impl FnMut() -> T) -> (f64, ()) {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let cpu_start = cpu_secs();
        let result = black_box(f());
        let secs = match (cpu_start, cpu_secs()) {
            (Some(a), Some(b)) => b - a,
            _ => start.elapsed().as_secs_f64(),
        };
        drop(result);
        best = best.min(secs);
    }
    (best, ())
}

/// Time this thread has run on a CPU, in seconds.
fn cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

fn report(what: &str, lines: usize, bytes: usize, secs: f64) {
    let mb = if bytes > 0 {
        format!(", {:.0} MB/s", bytes as f64 / secs / 1e6)
    } else {
        String::new()
    };
    println!(
        "{what:<30} {:>7.3} s  {:>10.0} lines/s{mb}",
        secs,
        lines as f64 / secs
    );
}
