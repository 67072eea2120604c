//! Eight `qm apply` processes at once on one database, racing for the same stock.
//!
//! A depot holds 300 rounds and 12 serial-tracked missiles. Each process applies six files,
//! each one batch asking for 10 rounds and one missile (the missile wanted by several
//! processes at once). Afterwards: the depot never went negative, exactly the acknowledged
//! batches are in the journal (each once), every missile is at one place, balances match the
//! acknowledged batches, and `qm verify` passes.

use std::collections::BTreeSet;
use std::process::Stdio;

use crate::support::{Db, Jsonl, QM};

const PROCESSES: usize = 8;
const FILES: usize = 6;

fn race(db: Db) {
    let mut setup = Jsonl::new();
    setup
        .org("US")
        .org("UA")
        .holder("SRC", "US", "source")
        .holder("DEPOT", "US", "depot");
    for p in 0..PROCESSES {
        setup.holder(&format!("UNIT{p}"), "UA", "unit");
    }
    setup.item("SHELL", "bulk").item("PAC3", "serial");
    setup.mv("in", "2025-01-01T00:00:00Z", "SHELL", 300, "SRC", "DEPOT");
    let serials: Vec<String> = (0..12).map(|i| format!("P{i:02}")).collect();
    let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
    setup.mv_serials(
        "in-pac3",
        "2025-01-01T00:00:00Z",
        "PAC3",
        &refs,
        "SRC",
        "DEPOT",
    );
    db.apply_ok("setup.jsonl", &setup.text());

    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            let files: Vec<String> = (0..FILES)
                .map(|f| {
                    let mut b = Jsonl::new();
                    let t = format!("2025-02-{:02}T00:00:00Z", 1 + f);
                    b.mv(
                        &format!("p{p}-f{f}"),
                        &t,
                        "SHELL",
                        10,
                        "DEPOT",
                        &format!("UNIT{p}"),
                    );
                    // Processes p and p+4 want the same missile in the same round.
                    let s = &serials[(p % 4 + 4 * f) % 12];
                    b.mv_serials(
                        &format!("p{p}-f{f}-m"),
                        &t,
                        "PAC3",
                        &[s],
                        "DEPOT",
                        &format!("UNIT{p}"),
                    );
                    db.file(&format!("p{p}-f{f}.jsonl"), &b.text())
                })
                .collect();
            std::process::Command::new(QM)
                .current_dir(db.dir())
                .env_remove("QM_DB")
                .arg("--db")
                .arg(db.db())
                .arg("apply")
                .args(&files)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawning qm apply")
        })
        .collect();

    let mut acknowledged: BTreeSet<String> = BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().expect("qm apply");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        for line in stdout.lines().filter(|l| l.contains(": applied ")) {
            let file = line.split(": applied").next().unwrap();
            let name = std::path::Path::new(file)
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            acknowledged.insert(name);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in stderr.lines().filter(|l| l.contains(": field ")) {
            assert!(
                line.contains("would go negative")
                    || line.contains("is not at \"DEPOT\"")
                    || line.contains("already moves at"),
                "a batch may lose the race only for lack of stock or of its missile: {line}"
            );
        }
    }

    // Each acknowledged file moved 10 rounds and one missile; nothing else moved.
    let export = db.qm(&["export"]).ok().stdout.clone();
    let moved: BTreeSet<String> = export
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let id = v["id"].as_str()?.to_owned();
            (v["type"] == "movement" && id.starts_with('p') && !id.ends_with("-m")).then_some(id)
        })
        .collect();
    assert_eq!(
        moved, acknowledged,
        "the journal holds exactly the acknowledged batches"
    );
    assert!(!acknowledged.is_empty());
    let shells_out = 10 * acknowledged.len() as i64;
    assert!(shells_out <= 300, "never more than the depot held");
    let bal = db
        .qm(&["balance", "--holder", "DEPOT", "--item", "SHELL", "--json"])
        .ok()
        .json();
    let left = bal
        .as_array()
        .unwrap()
        .first()
        .map_or(0, |b| b["qty"].as_i64().unwrap());
    assert_eq!(left, 300 - shells_out);
    // Every missile is at exactly one holder, and the depot's count agrees.
    let pac3 = db.qm(&["balance", "--item", "PAC3", "--json"]).ok().json();
    let total_at_holders: i64 = pac3
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["holder"] != "SRC")
        .map(|b| b["qty"].as_i64().unwrap())
        .sum();
    assert_eq!(total_at_holders, 12);
    assert_eq!(export.matches("\"id\":\"p").count(), 2 * acknowledged.len());
    db.qm(&["verify"]).ok();
}

#[test]
fn eight_processes_race_on_the_embedded_file() {
    race(Db::new());
}

#[test]
fn eight_processes_race_on_postgres() {
    race(Db::postgres());
}
