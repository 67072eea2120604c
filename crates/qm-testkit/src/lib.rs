//! Test support shared by the crates' integration tests: a real PostgreSQL server, a fresh
//! database per test, and a look at what a command left in a directory.
//!
//! The server is `QM_TEST_PG_URL` when set (a `postgres://` URL whose user may create
//! databases). Otherwise the first test to need one starts a throwaway cluster with
//! `scripts/pg-cluster.sh start <tempdir>` (once per test binary, in a `OnceLock`), and a
//! small reaper process, in a process group of its own, waits for this test process to end
//! (however it ends: success, failed assertion, abort, Ctrl-C) and then runs
//! `scripts/pg-cluster.sh stop <tempdir>`. Nothing is ever skipped: without a server the
//! tests fail, saying why.
//!
//! Each test makes its own database `qm_test_<random>`, so tests run in parallel, and drops
//! it (`WITH (FORCE)`) when done, even after a failed assertion.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use postgres::{Client, NoTls};
use rand::Rng;

/// The server's URL (its maintenance database), started on first use.
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("QM_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => start_throwaway_cluster(),
    })
}

// The reaper must outlive this process, so it is never waited for.
#[allow(clippy::zombie_processes)]
fn start_throwaway_cluster() -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-cluster.sh");
    let dir = tempfile::Builder::new()
        .prefix("qm-pg-")
        .tempdir()
        .expect("creating a temporary directory for the test cluster")
        .keep();
    // The reaper, started first so that no exit of ours can leak a running cluster: it polls
    // this process and stops the cluster once it has exited. Its own process group keeps it
    // out of a Ctrl-C aimed at the test run.
    let reaper = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; exec bash \"$0\" stop \"$1\"",
        pid = std::process::id()
    );
    std::os::unix::process::CommandExt::process_group(
        Command::new("sh")
            .arg("-c")
            .arg(reaper)
            .arg(&script)
            .arg(&dir),
        0,
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("starting the reaper of the test cluster");

    let out = Command::new("bash")
        .arg(&script)
        .arg("start")
        .arg(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    if !out.status.success() {
        // Leave nothing behind, then fail loudly: these tests need a server.
        let _ = Command::new("bash")
            .arg(&script)
            .arg("stop")
            .arg(&dir)
            .status();
        panic!(
            "no PostgreSQL for the tests: set QM_TEST_PG_URL, or fix `{} start`:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let url = String::from_utf8(out.stdout).expect("the cluster URL is UTF-8");
    let url = url.trim().to_string();
    assert!(
        url.starts_with("postgres://"),
        "pg-cluster.sh printed no URL: {url:?}"
    );
    url
}

/// `url` with its database name replaced by `dbname`.
pub fn url_with_dbname(url: &str, dbname: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_at = base
        .find("://")
        .unwrap_or_else(|| panic!("QM_TEST_PG_URL must be a postgres:// URL: {url}"))
        + 3;
    let path_at = base[authority_at..]
        .find('/')
        .map_or(base.len(), |i| authority_at + i);
    let mut out = format!("{}/{dbname}", &base[..path_at]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A database of its own for one test, dropped when this is dropped.
pub struct TestDb {
    /// Its name, `qm_test_<random>`.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl TestDb {
    #[allow(clippy::new_without_default)]
    pub fn new() -> TestDb {
        let name = format!("qm_test_{:016x}", rand::thread_rng().gen::<u64>());
        admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {}", why(&e)));
        TestDb {
            url: url_with_dbname(server_url(), &name),
            name,
        }
    }

    /// A plain SQL session on this database, for looking under the store.
    pub fn sql(&self) -> Client {
        Client::connect(&self.url, NoTls)
            .unwrap_or_else(|e| panic!("connecting to {}: {}", self.url, why(&e)))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // FORCE ends sessions a failed test left open.
        let dropped = admin().batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
        if let Err(e) = dropped {
            if !std::thread::panicking() {
                panic!("DROP DATABASE {}: {}", self.name, why(&e));
            }
        }
    }
}

/// A session on the server's maintenance database, for CREATE and DROP DATABASE.
fn admin() -> Client {
    Client::connect(server_url(), NoTls)
        .unwrap_or_else(|e| panic!("connecting to {}: {}", server_url(), why(&e)))
}

/// The error and its causes: the `postgres` crate's own message alone says only
/// "db error" or "error connecting to server".
pub fn why(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The names of the entries of `dir`, sorted: what a command left there (a database file,
/// its `-wal` and `-shm`, or nothing).
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
