//! Which commands may create a database: only those that write (`apply`, `snapshot`, `demo`,
//! `migrate --to`). The others (`balance`, `review`, `export`, `verify`, `migrate --from`)
//! fail with exit status 1 and a message naming the path, and leave nothing behind; no
//! command makes a `-journal`, `-wal` or `-shm` file beside a path that is not a regular file.

use std::path::Path;

use qm_testkit::file_names;

use crate::support::{run_in, Db, Jsonl};

#[test]
fn commands_that_only_read_do_not_create_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let reads: [&[&str]; 6] = [
        &["balance", "--json"],
        &["review", "--json"],
        &["export"],
        &["verify"],
        &["verify", "--json"],
        &["balance"],
    ];
    for args in reads {
        let mut full = vec!["--db", "typo.db"];
        full.extend_from_slice(args);
        let r = run_in(cwd, &full, None, &[]);
        r.expect_code(1);
        assert_eq!(
            r.stderr.trim_end(),
            "qm: no ledger at typo.db (qm apply creates one)",
            "{args:?}"
        );
        assert_eq!(
            r.stdout, "",
            "{args:?}: nothing answered for an empty ledger"
        );
        assert!(
            file_names(cwd).is_empty(),
            "{args:?} left {:?}",
            file_names(cwd)
        );
    }
    // The default database too, and through QM_DB.
    let r = run_in(cwd, &["balance", "--json"], None, &[]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("no ledger at quartermaster.db"),
        "{}",
        r.stderr
    );
    let r = run_in(cwd, &["export"], None, &[("QM_DB", "elsewhere.db")]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("no ledger at elsewhere.db"),
        "{}",
        r.stderr
    );
    // A migration from nothing fails the same way and creates neither end.
    let r = run_in(
        cwd,
        &["migrate", "--from", "typo.db", "--to", "copy.db"],
        None,
        &[],
    );
    r.expect_code(1);
    assert!(r.stderr.contains("no ledger at typo.db"), "{}", r.stderr);
    assert!(file_names(cwd).is_empty(), "left {:?}", file_names(cwd));
}

#[test]
fn commands_that_write_create_the_database() {
    let db = Db::new();
    db.qm(&["apply", "/dev/null"]).ok();
    assert!(
        db.path.exists(),
        "applying an empty file makes an empty ledger"
    );
    assert_eq!(db.balances(None), vec![]);
    // A snapshot writes, but only of a ledger that exists.
    db.qm(&["snapshot"]).ok();

    let db = Db::new();
    let mut w = Jsonl::new();
    w.org("US")
        .holder("SRC", "US", "source")
        .holder("D", "US", "depot")
        .item("AMMO", "bulk");
    w.mv("m1", "2025-01-01T00:00:00Z", "AMMO", 5, "SRC", "D");
    db.apply_ok("w.jsonl", &w.text());
    let copy = db.dir().join("copy.db");
    let copy = copy.to_str().unwrap();
    db.qm(&["migrate", "--from", db.db(), "--to", copy]).ok();
    let exported = run_in(db.dir(), &["--db", copy, "export"], None, &[]);
    exported.ok();
    assert_eq!(exported.stdout, db.export());
}

#[test]
fn paths_that_are_not_regular_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let input = cwd.join("org.jsonl");
    std::fs::write(&input, "{\"type\":\"org\",\"id\":\"US\",\"name\":\"US\"}\n").unwrap();
    let input = input.to_str().unwrap();
    let sub = cwd.join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    let sub = sub.to_str().unwrap();
    let beside_dev_null: Vec<bool> = ["-journal", "-wal", "-shm"]
        .iter()
        .map(|s| Path::new(&format!("/dev/null{s}")).exists())
        .collect();
    for (db, what) in [("/dev/null", "a character device"), (sub, "a directory")] {
        for args in [
            &["apply", input][..],
            &["snapshot"][..],
            &["balance", "--json"][..],
            &["export"][..],
            &["verify"][..],
        ] {
            let mut full = vec!["--db", db];
            full.extend_from_slice(args);
            let r = run_in(cwd, &full, None, &[]);
            r.expect_code(1);
            assert!(
                r.stderr.contains(&format!(
                    "qm: no ledger at {db}: {what}, not a regular file"
                )),
                "{full:?}: {}",
                r.stderr
            );
        }
    }
    for (suffix, was_there) in ["-journal", "-wal", "-shm"].iter().zip(beside_dev_null) {
        let p = format!("/dev/null{suffix}");
        assert!(was_there || !Path::new(&p).exists(), "{p} was left behind");
    }
    assert_eq!(file_names(cwd), ["a-directory", "org.jsonl"]);
}
