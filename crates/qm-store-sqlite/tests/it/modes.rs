//! Open modes: only [`OpenMode::Create`] makes a ledger; the other modes refuse a path with
//! nothing there, and every mode refuses a path that cannot hold one before SQLite touches it;
//! a read-only open writes nothing to the file, and reads a ledger on read-only media, checked
//! for real: in a read-only bind mount (root with mount namespaces), as an unprivileged user
//! before a 0444 file in a 0555 directory (root with `setpriv`), or as the user running the
//! tests when that is not root. At least one of them must run: the test fails otherwise.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use qm_store::conformance::{all_batches, append, balance, movement, org, snapshot_at};
use qm_store::{OpenMode, Store, StoreError};
use qm_store_sqlite::SqliteStore;

use qm_testkit::file_names;

use crate::open;

fn no_ledger(path: &Path, mode: OpenMode) -> (String, Option<String>) {
    match SqliteStore::open(path, mode) {
        Err(StoreError::NoLedger { place, reason }) => (place, reason),
        Err(e) => panic!(
            "{mode:?} on {}: expected NoLedger, got {e:?}",
            path.display()
        ),
        Ok(_) => panic!(
            "{mode:?} on {}: expected NoLedger, it opened",
            path.display()
        ),
    }
}

#[test]
fn reads_refuse_a_missing_file_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.qm");
    for mode in [OpenMode::ReadOnly, OpenMode::ReadWrite] {
        assert_eq!(no_ledger(&path, mode), (path.display().to_string(), None));
        assert!(
            file_names(dir.path()).is_empty(),
            "{mode:?} created nothing"
        );
    }
    let message = SqliteStore::open(&path, OpenMode::ReadOnly)
        .unwrap_err()
        .to_string();
    assert_eq!(message, format!("no ledger at {}", path.display()));

    // A writer creates it; then every mode opens it.
    let written = append(&mut open(&path), "tester", &org("a"));
    for mode in [OpenMode::ReadOnly, OpenMode::ReadWrite, OpenMode::Create] {
        let mut s = SqliteStore::open(&path, mode).unwrap();
        assert_eq!(s.mode(), mode);
        assert_eq!(all_batches(&mut s), vec![written.clone()], "{mode:?}");
    }
}

#[test]
fn an_empty_file_is_no_ledger_to_readers_and_a_new_one_to_writers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.qm");
    std::fs::write(&path, b"").unwrap();
    for mode in [OpenMode::ReadOnly, OpenMode::ReadWrite] {
        assert_eq!(no_ledger(&path, mode), (path.display().to_string(), None));
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            0,
            "{mode:?} wrote nothing"
        );
    }
    // `mktemp` then `qm apply`: the writer makes a ledger of the empty file.
    let mut s = open(&path);
    append(&mut s, "tester", &org("a"));
    assert_eq!(s.head().unwrap().seq, 1);
}

#[test]
fn paths_that_are_not_regular_files_are_refused_before_sqlite_touches_them() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("socket");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let sub = dir.path().join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    let dev_null = Path::new("/dev/null");
    let beside = |p: &Path| -> Vec<PathBuf> {
        ["-journal", "-wal", "-shm"]
            .iter()
            .map(|s| PathBuf::from(format!("{}{s}", p.display())))
            .collect()
    };
    let already: Vec<bool> = beside(dev_null).iter().map(|p| p.exists()).collect();
    for (path, kind) in [
        (dev_null, "a character device"),
        (sub.as_path(), "a directory"),
        (socket.as_path(), "a socket"),
    ] {
        for mode in [OpenMode::Create, OpenMode::ReadWrite, OpenMode::ReadOnly] {
            assert_eq!(
                no_ledger(path, mode),
                (
                    path.display().to_string(),
                    Some(format!("{kind}, not a regular file"))
                ),
                "{mode:?}"
            );
        }
    }
    assert_eq!(
        SqliteStore::open(dev_null, OpenMode::Create)
            .unwrap_err()
            .to_string(),
        "no ledger at /dev/null: a character device, not a regular file"
    );
    for (p, was_there) in beside(dev_null).iter().zip(already) {
        assert!(was_there || !p.exists(), "{} was left behind", p.display());
    }
    assert_eq!(file_names(dir.path()), ["a-directory", "socket"]);
    assert!(file_names(&sub).is_empty());
}

#[test]
fn a_read_only_open_changes_nothing_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let written = {
        let mut s = open(&path);
        append(&mut s, "tester", &org("a"));
        append(
            &mut s,
            "tester",
            &movement("m1", "i", 5, "src", "h", Some("L1")),
        )
    };
    // A copy in rollback-journal mode, as another tool may leave it: a read-only open must
    // not switch it back to WAL (a persistent setting), nor write anything else.
    rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode = DELETE", [], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    {
        let mut s = SqliteStore::open(&path, OpenMode::ReadOnly).unwrap();
        assert!(!s.is_immutable(), "writable media: a plain read-only open");
        assert_eq!(s.head().unwrap().seq, written.seq);
        assert_eq!(
            s.read_balances().unwrap(),
            vec![balance("h", "i", "L1", 5), balance("src", "i", "L1", -5)]
        );
        for refused in [
            s.begin_append().map(|_| ()),
            s.save_snapshot(&snapshot_at(&written, b"x"), &[]),
        ] {
            match refused {
                Err(StoreError::Backend(m)) => assert!(m.contains("open read-only"), "{m}"),
                other => panic!("a read-only store must refuse to write, got {other:?}"),
            }
        }
        // Not even by SQL under the store.
        assert!(s
            .connection()
            .execute("DELETE FROM balances_base", [])
            .is_err());
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "not one byte changed"
    );
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    // A writer puts it back in WAL mode.
    let s = open(&path);
    let mode: String = s
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_read_only_open_of_a_closed_ledger_leaves_only_the_empty_wal_and_its_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    append(&mut open(&path), "tester", &org("a"));
    assert_eq!(file_names(dir.path()), ["ledger.qm"], "at rest, one file");
    let before = std::fs::read(&path).unwrap();
    {
        let mut s = SqliteStore::open(&path, OpenMode::ReadOnly).unwrap();
        assert_eq!(s.head().unwrap().seq, 1);
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is untouched"
    );
    // SQLite made the WAL and its index to read, and a read-only connection cannot remove
    // them; the WAL is empty, so the file alone is still the whole ledger.
    assert_eq!(
        file_names(dir.path()),
        ["ledger.qm", "ledger.qm-shm", "ledger.qm-wal"]
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("ledger.qm-wal"))
            .unwrap()
            .len(),
        0
    );
    // The next writer to close removes them.
    drop(open(&path));
    assert_eq!(file_names(dir.path()), ["ledger.qm"]);
}

#[test]
fn a_read_only_store_sees_what_writers_commit_later() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let mut writer = open(&path);
    append(&mut writer, "tester", &org("a"));
    let mut reader = SqliteStore::open(&path, OpenMode::ReadOnly).unwrap();
    assert_eq!(reader.head().unwrap().seq, 1);
    let second = append(&mut writer, "tester", &org("b"));
    let head = reader
        .wait_for_batches(1, std::time::Duration::from_secs(10))
        .unwrap();
    assert_eq!(head.seq, 2);
    assert_eq!(reader.read_batch(2).unwrap(), Some(second));
}

// ---- Read-only media ----

/// The child's environment variable: the directory to read, on read-only media.
const CHILD_DIR: &str = "QM_SQLITE_READ_ONLY_MEDIA";
const REPORT_BEGIN: &str = "--- report ---";
const REPORT_END: &str = "--- end ---";

/// The three ledgers put on read-only media: closed cleanly (one file), and left with
/// committed frames in the WAL, with and without its `-shm` index beside it.
const CASES: [&str; 3] = ["clean", "wal", "wal-and-shm"];

/// Builds the cases under `dir` and returns the report a reader on read-only media must give.
fn prepare(dir: &Path) -> String {
    let path = dir.join("origin.qm");
    let mut s = open(&path);
    append(&mut s, "tester", &org("US"));
    let b2 = append(
        &mut s,
        "tester",
        &movement("m1", "SHELL", 10, "PROD", "DEPOT", Some("L1")),
    );
    let base = s.read_balances().unwrap();
    s.save_snapshot(&snapshot_at(&b2, b"state"), &base).unwrap();
    drop(s);
    assert!(!dir.join("origin.qm-wal").exists(), "closed cleanly");
    let clean = facts(&mut open(&path));
    std::fs::create_dir(dir.join("clean")).unwrap();
    std::fs::copy(&path, dir.join("clean/ledger.qm")).unwrap();

    // A writer still open: its last commits are only in the WAL.
    let mut s = open(&path);
    append(
        &mut s,
        "tester",
        &movement("m2", "SHELL", 4, "DEPOT", "HUB", Some("L1")),
    );
    let wal = facts(&mut s);
    for (case, suffixes) in [
        ("wal", &["", "-wal"][..]),
        ("wal-and-shm", &["", "-wal", "-shm"][..]),
    ] {
        std::fs::create_dir(dir.join(case)).unwrap();
        for suffix in suffixes {
            std::fs::copy(
                format!("{}{suffix}", path.display()),
                dir.join(case).join(format!("ledger.qm{suffix}")),
            )
            .unwrap();
        }
    }
    drop(s);
    std::fs::remove_file(&path).unwrap();
    assert!(
        std::fs::metadata(dir.join("wal/ledger.qm-wal"))
            .unwrap()
            .len()
            > 0,
        "the WAL copy holds the last commit"
    );
    let mut want = String::from("probe: refused\n");
    for (case, result) in [
        ("clean", format!("immutable=true {clean}")),
        (
            "wal",
            "refused: its WAL holds commits and cannot be read here".to_string(),
        ),
        ("wal-and-shm", format!("immutable=false {wal}")),
    ] {
        writeln!(want, "{case}: {result}").unwrap();
        writeln!(want, "{case} writer: refused").unwrap();
    }
    want
}

/// What a reader can tell of a ledger: head, snapshot, balances, the views.
fn facts(s: &mut SqliteStore) -> String {
    let head = s.head().unwrap();
    let batches = all_batches(s);
    let snapshot = s.load_snapshot().unwrap().map(|x| x.seq);
    let balances = s.read_balances().unwrap();
    let movements = s
        .query_view("SELECT id, time FROM movements ORDER BY batch")
        .unwrap()
        .rows;
    format!(
        "head={}:{} batches={} snapshot={snapshot:?} balances={balances:?} movements={movements:?}",
        head.seq,
        head.hash.to_hex(),
        batches.len()
    )
}

/// The report of a reader of `dir` (on read-only media): one line per fact.
fn report(dir: &Path) -> String {
    let mut out = String::new();
    // The media really are read-only to this process.
    let probe = std::fs::File::create(dir.join("probe"));
    writeln!(
        out,
        "probe: {}",
        if probe.is_ok() { "written" } else { "refused" }
    )
    .unwrap();
    for case in CASES {
        let path = dir.join(case).join("ledger.qm");
        let result = match SqliteStore::open(&path, OpenMode::ReadOnly) {
            Ok(mut s) => {
                let refused = s.begin_append().is_err();
                format!(
                    "immutable={} {}{}",
                    s.is_immutable(),
                    facts(&mut s),
                    if refused { "" } else { " (and it appended!)" }
                )
            }
            Err(e) if e.to_string().contains("holds commits not yet in the file") => {
                "refused: its WAL holds commits and cannot be read here".to_string()
            }
            Err(e) => format!("error: {e}"),
        };
        writeln!(out, "{case}: {result}").unwrap();
        let writer = match SqliteStore::open(&path, OpenMode::Create) {
            Ok(_) => "opened".to_string(),
            Err(_) => "refused".to_string(),
        };
        writeln!(out, "{case} writer: {writer}").unwrap();
    }
    out
}

#[test]
fn read_only_media_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return; // A normal test run: not a child.
    };
    println!("{REPORT_BEGIN}\n{}{REPORT_END}", report(Path::new(&dir)));
}

/// The arguments that make this test binary run only [`read_only_media_child`].
const CHILD_ARGS: [&str; 5] = [
    "--exact",
    "modes::read_only_media_child",
    "--nocapture",
    "--test-threads=1",
    "-q",
];

/// Runs the child and returns its report, or `None` when `unavailable_code` says the
/// mechanism could not be set up.
fn run_child(mut command: Command, dir: &Path, unavailable_code: Option<i32>) -> Option<String> {
    let out = command
        .env(CHILD_DIR, dir)
        .current_dir("/")
        .output()
        .expect("spawning the reader");
    if unavailable_code.is_some() && out.status.code() == unavailable_code {
        eprintln!(
            "read-only media: not available this way: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the reader failed ({:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report = stdout
        .split_once(REPORT_BEGIN)
        .and_then(|(_, rest)| rest.split_once(REPORT_END))
        .map(|(report, _)| report.trim_start_matches('\n').to_string())
        .unwrap_or_else(|| panic!("no report in the reader's output:\n{stdout}"));
    Some(report)
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Sets the mode of `dir`, every directory under it and every file in them.
fn chmod_tree(dir: &Path, dirs: u32, files: u32) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            chmod_tree(&p, dirs, files);
        } else {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(files)).unwrap();
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(dirs)).unwrap();
}

#[test]
fn a_ledger_on_read_only_media_is_readable() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("media");
    std::fs::create_dir(&cases).unwrap();
    let want = prepare(&cases);
    let exe = std::env::current_exe().unwrap();
    // /proc/self belongs to this process's effective user.
    let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let mut ran = Vec::new();

    // 1. A read-only bind mount in a mount namespace of the reader's own: even root cannot
    //    write there (EROFS), and the mount goes away with the process.
    if root && succeeds("unshare", &["--mount", "--propagation", "private", "true"]) {
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(
                "d=$1; shift; mount --bind \"$d\" \"$d\" || exit 97; \
                 mount -o remount,bind,ro \"$d\" || exit 97; exec \"$@\"",
            )
            .arg("sh")
            .arg(&cases)
            .arg(&exe)
            .args(CHILD_ARGS);
        if let Some(got) = run_child(c, &cases, Some(97)) {
            assert_eq!(got, want, "a reader in a read-only bind mount");
            ran.push("a read-only bind mount");
        }
    }

    // 2. Root without mounts, or besides them: an unprivileged user (nobody) before a 0444
    //    file in a 0555 directory, which it cannot write.
    chmod_tree(&cases, 0o555, 0o444);
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    if root && succeeds("setpriv", &["--version"]) {
        let nobody = ["--reuid=65534", "--regid=65534", "--clear-groups", "--"];
        let mut exe_for_nobody = exe.clone();
        let reachable = {
            let mut args = nobody.to_vec();
            args.extend(["test", "-x"]);
            let exe_arg = exe.to_str().expect("a UTF-8 test binary path");
            args.push(exe_arg);
            succeeds("setpriv", &args)
        };
        let copy_dir = tempfile::tempdir().unwrap();
        if !reachable {
            // The build directory is closed to other users: run a copy.
            exe_for_nobody = copy_dir.path().join("it");
            std::fs::copy(&exe, &exe_for_nobody).unwrap();
            std::fs::set_permissions(
                copy_dir.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .unwrap();
        }
        let mut c = Command::new("setpriv");
        c.args(nobody).arg(&exe_for_nobody).args(CHILD_ARGS);
        let got = run_child(c, &cases, None).expect("setpriv ran the reader");
        assert_eq!(got, want, "a reader without write permission (nobody)");
        ran.push("user nobody before a 0444 file in a 0555 directory");
    }

    // 3. Not root: permissions hold for this user itself.
    if !root {
        let mut c = Command::new(&exe);
        c.args(CHILD_ARGS);
        let got = run_child(c, &cases, None).expect("the reader ran");
        assert_eq!(got, want, "a reader without write permission");
        ran.push("this user before a 0444 file in a 0555 directory");
    }
    chmod_tree(&cases, 0o755, 0o644);

    assert!(
        !ran.is_empty(),
        "no way to put a ledger on read-only media here: the test needs root with mount \
         namespaces (unshare) or setpriv, or to run as a user other than root"
    );
    eprintln!("read-only media checked with: {}", ran.join("; "));
    // Nothing was left beside the ledgers.
    for (case, files) in [
        ("clean", &["ledger.qm"][..]),
        ("wal", &["ledger.qm", "ledger.qm-wal"][..]),
        (
            "wal-and-shm",
            &["ledger.qm", "ledger.qm-shm", "ledger.qm-wal"][..],
        ),
    ] {
        assert_eq!(file_names(&cases.join(case)), files, "{case}");
    }
}
