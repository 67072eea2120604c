//! Helpers shared by the `qm` integration tests: running the real `qm` binary against a
//! database in a temporary directory, and building interchange (JSON Lines) text.
//!
//! Every run clears `QM_DB` from the environment (unless a test sets it on purpose), so a
//! developer's own setting never leaks into a test, and runs in the temporary directory, so
//! the default `./quartermaster.db` never lands in the source tree.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

/// The `qm` binary built by Cargo for these tests.
pub const QM: &str = env!("CARGO_BIN_EXE_qm");

/// A `qm` command, ready to be configured and run.
pub fn qm_command(cwd: &Path) -> Command {
    let mut c = Command::new(QM);
    c.current_dir(cwd)
        .env_remove("QM_DB")
        .env("QM_USER", "tester");
    c
}

/// What one run of `qm` did.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(args: &[&str], out: Output) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics, showing everything, unless the exit status is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "qm {:?}: expected exit status {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.expect_code(0)
    }

    /// Stdout parsed as one JSON value.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "qm {:?}: stdout is not JSON ({e}):\n{}",
                self.args, self.stdout
            )
        })
    }
}

/// Runs `qm` with exactly `args` in `cwd`, feeding `stdin` (empty when `None`), with extra
/// environment variables.
pub fn run_in(cwd: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
    let mut c = qm_command(cwd);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn qm");
    let input = stdin.unwrap_or("").to_owned();
    let mut pipe = child.stdin.take().expect("stdin pipe");
    // Write from a thread so a child that does not read its input cannot deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for qm");
    let _ = writer.join();
    Run::from_output(args, out)
}

/// Runs `qm` with exactly `args` in `cwd` (standard input empty), killing it if it runs
/// longer than `timeout`; a killed run has `code == None`.
pub fn run_timeout(cwd: &Path, args: &[&str], timeout: std::time::Duration) -> Run {
    use std::io::Read;
    let mut c = qm_command(cwd);
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn qm");
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out_pipe.read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err_pipe.read_to_end(&mut b);
        b
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for qm") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            break child.wait().expect("wait for qm");
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    Run::from_output(
        args,
        Output {
            status,
            stdout,
            stderr,
        },
    )
}

/// A scratch directory with one database in it.
pub struct Db {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    /// When set, the database is this PostgreSQL database instead of the file at `path`.
    pub pg: Option<qm_testkit::TestDb>,
}

impl Db {
    pub fn new() -> Db {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.db");
        Db {
            dir,
            path,
            pg: None,
        }
    }

    /// A fresh PostgreSQL database (the scratch directory still holds input files).
    pub fn postgres() -> Db {
        Db {
            pg: Some(qm_testkit::TestDb::new()),
            ..Db::new()
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn db(&self) -> &str {
        match &self.pg {
            Some(pg) => &pg.url,
            None => self.path.to_str().expect("utf-8 path"),
        }
    }

    /// `qm --db DB ARGS...`
    pub fn qm(&self, args: &[&str]) -> Run {
        self.qm_stdin(args, None)
    }

    /// `qm --db DB ARGS...` with standard input.
    pub fn qm_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut full = vec!["--db", self.db()];
        full.extend_from_slice(args);
        run_in(self.dir(), &full, stdin, &[])
    }

    /// Writes `text` to `name` in the scratch directory and returns its path.
    pub fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir().join(name);
        std::fs::write(&p, text).expect("write input file");
        p.to_str().expect("utf-8 path").to_owned()
    }

    /// Writes `text` to a file and applies it; panics unless it applies.
    #[track_caller]
    pub fn apply_ok(&self, name: &str, text: &str) -> Run {
        let f = self.file(name, text);
        let r = self.qm(&["apply", &f]);
        r.ok();
        r
    }

    /// `qm balance --json [--as-of T]` parsed.
    #[track_caller]
    pub fn balances(&self, as_of: Option<&str>) -> Vec<Bal> {
        let mut args = vec!["balance", "--json"];
        if let Some(t) = as_of {
            args.extend(["--as-of", t]);
        }
        parse_balances(&self.qm(&args).ok().json())
    }

    /// `qm export`, checked to succeed.
    #[track_caller]
    pub fn export(&self) -> String {
        self.qm(&["export"]).ok().stdout.clone()
    }
}

/// One row of `qm balance --json`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bal {
    pub holder: String,
    pub item: String,
    pub lot: Option<String>,
    pub qty: i64,
}

pub fn bal(holder: &str, item: &str, lot: Option<&str>, qty: i64) -> Bal {
    Bal {
        holder: holder.into(),
        item: item.into(),
        lot: lot.map(String::from),
        qty,
    }
}

/// Parses the JSON array of `qm balance --json`, checking the shape of each row strictly.
#[track_caller]
pub fn parse_balances(v: &Value) -> Vec<Bal> {
    let rows = v
        .as_array()
        .unwrap_or_else(|| panic!("balance output is not an array: {v}"));
    rows.iter()
        .map(|r| {
            let o = r
                .as_object()
                .unwrap_or_else(|| panic!("balance row is not an object: {r}"));
            for k in ["holder", "item", "lot", "qty"] {
                assert!(o.contains_key(k), "balance row lacks {k:?}: {r}");
            }
            Bal {
                holder: o["holder"].as_str().expect("holder is a string").into(),
                item: o["item"].as_str().expect("item is a string").into(),
                lot: match &o["lot"] {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => panic!("lot is neither null nor a string: {other}"),
                },
                qty: o["qty"].as_i64().expect("qty is an integer"),
            }
        })
        .collect()
}

/// Builds JSON Lines text, one record per line.
#[derive(Default, Clone)]
pub struct Jsonl {
    lines: Vec<String>,
}

impl Jsonl {
    pub fn new() -> Jsonl {
        Jsonl::default()
    }

    pub fn push(&mut self, v: Value) -> &mut Jsonl {
        self.lines.push(v.to_string());
        self
    }

    /// A raw line, for malformed input.
    pub fn raw(&mut self, line: &str) -> &mut Jsonl {
        self.lines.push(line.to_owned());
        self
    }

    pub fn org(&mut self, id: &str) -> &mut Jsonl {
        self.push(json!({"type": "org", "id": id, "name": format!("Org {id}")}))
    }

    pub fn holder(&mut self, id: &str, org: &str, kind: &str) -> &mut Jsonl {
        self.push(json!({"type": "holder", "id": id, "name": format!("Holder {id}"), "org": org, "kind": kind}))
    }

    pub fn item(&mut self, code: &str, tracking: &str) -> &mut Jsonl {
        self.push(json!({"type": "item", "code": code, "name": format!("Item {code}"), "category": "ammunition", "tracking": tracking}))
    }

    pub fn floor(&mut self, item: &str, org: &str, min_qty: u64) -> &mut Jsonl {
        self.push(json!({"type": "floor", "item": item, "org": org, "min_qty": min_qty}))
    }

    /// A bulk movement.
    pub fn mv(
        &mut self,
        id: &str,
        time: &str,
        item: &str,
        qty: u64,
        from: &str,
        to: &str,
    ) -> &mut Jsonl {
        self.push(movement(id, time, item, qty, from, to))
    }

    /// A lot movement.
    #[allow(clippy::too_many_arguments)]
    pub fn mv_lot(
        &mut self,
        id: &str,
        time: &str,
        item: &str,
        lot: &str,
        qty: u64,
        from: &str,
        to: &str,
    ) -> &mut Jsonl {
        let mut m = movement(id, time, item, qty, from, to);
        m["lot"] = json!(lot);
        self.push(m)
    }

    /// A serial movement (`qty` = number of serials).
    pub fn mv_serials(
        &mut self,
        id: &str,
        time: &str,
        item: &str,
        serials: &[&str],
        from: &str,
        to: &str,
    ) -> &mut Jsonl {
        let mut m = movement(id, time, item, serials.len() as u64, from, to);
        m["serials"] = json!(serials);
        self.push(m)
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn text(&self) -> String {
        let mut s = self.lines.join("\n");
        s.push('\n');
        s
    }
}

pub fn movement(id: &str, time: &str, item: &str, qty: u64, from: &str, to: &str) -> Value {
    json!({"type": "movement", "id": id, "time": time, "item": item, "qty": qty, "from": from, "to": to})
}

/// The records of an export (or any JSON Lines text), parsed.
#[track_caller]
pub fn parse_jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// Movement ids in JSON Lines text, with how often each occurs.
pub fn movement_ids(text: &str) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for v in parse_jsonl(text) {
        if v["type"] == "movement" {
            *ids.entry(v["id"].as_str().expect("movement id").to_owned())
                .or_insert(0) += 1;
        }
    }
    ids
}

/// The standard small world used by the CLI tests: two orgs, a source, depots, a transit
/// holder, a unit and a sink, and one item of each tracking.
pub fn world() -> Jsonl {
    let mut j = Jsonl::new();
    j.org("US")
        .org("UA")
        .holder("FACTORY", "US", "source")
        .holder("DEPOT-A", "US", "depot")
        .holder("DEPOT-B", "US", "depot")
        .holder("SHIP", "US", "transit")
        .holder("UA-DEPOT", "UA", "depot")
        .holder("UA-UNIT", "UA", "unit")
        .holder("EXPENDED", "UA", "sink")
        .item("AMMO", "bulk")
        .item("SHELL", "lot")
        .item("RIFLE", "serial");
    j
}
