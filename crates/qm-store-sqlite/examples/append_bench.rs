//! Micro benchmark of durable appends to the SQLite store, and of the analysts' balances.
//!
//! ```text
//! cargo run --release -p qm-store-sqlite --example append_bench [-- OPTIONS]
//! ```
//!
//! Appends `--batches` (100) batches, each a body of `--movements` (10,000) realistic movement
//! lines (~150 bytes each), and reports durable movements/s and, separately, the journal
//! insert and the COMMIT (fsync and checkpoints), and the bytes written to storage. Then it
//! times a full `read_batches` catch-up, the `balances` view over the whole journal (no base
//! yet: the worst case), a snapshot save with `--snapshot-mb` (256) of bytes and a base of
//! `--keys` (1,000,000) balance rows, the snapshot load, and the `balances` view again (the
//! big base plus a short journal tail), whole and for one key.
//!
//! `--layouts` instead measures the design the base-plus-journal view replaced: a balances
//! table written with every batch, `--balance-rows` (15,000) rows per batch drawn from the
//! `--keys` pool (uniformly, or with `--holders-per-batch N` from the keys of N random
//! holders), with plain rusqlite and the store's pragmas. It compares text keys or integer
//! name ids, WITHOUT ROWID or a rowid table with a unique index, rows sorted or not, upsert,
//! UPDATE-then-INSERT or INSERT OR REPLACE, and reports CPU time beside wall time (the
//! machine may be shared) and the bytes written per batch.
//!
//! `--page-size`, `--autocheckpoint` (pages), `--cache-kib` and `--mmap-mb` vary the store's
//! options; `--dir` says where the scratch files go (default: the system temp dir; use a real
//! disk, not tmpfs, or the fsyncs cost nothing); `--keep` keeps the store's file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qm_store::{snapshot_checksum, BalanceRow, Hash, OpenMode, Snapshot, Store, StoredBatch};
use qm_store_sqlite::{SqliteOptions, SqliteStore};

/// The benchmark's parameters, from the command line.
struct Config {
    /// Number of timed batches.
    batches: u64,
    /// Movement lines per batch body.
    movements: u64,
    /// Balance rows written per batch (`--layouts`).
    balance_rows: u64,
    /// Distinct (holder, item, lot) keys: the size of the snapshot's balances base, and the
    /// pool `--layouts` draws its rows from.
    keys: u64,
    /// Size of the snapshot saved and loaded, in MiB (0 skips it).
    snapshot_mb: u64,
    /// Run the per-batch balances table comparison instead of the store benchmark.
    layouts: bool,
    /// 0: each batch's balance rows are drawn uniformly from the whole pool (the worst case
    /// for the B-tree: nearly every leaf page is dirtied). N: drawn from the 200 keys of each
    /// of N random holders only, as when a batch is a few depots' shipments to a few units.
    holders_per_batch: u64,
    /// Folder for the scratch database files.
    dir: PathBuf,
    /// Keep the store benchmark's database file, to query it afterwards.
    keep: bool,
    /// The store's tuning.
    options: SqliteOptions,
}

fn parse_args() -> Config {
    let mut c = Config {
        batches: 100,
        movements: 10_000,
        balance_rows: 15_000,
        keys: 1_000_000,
        snapshot_mb: 256,
        layouts: false,
        holders_per_batch: 0,
        dir: std::env::temp_dir(),
        keep: false,
        options: SqliteOptions::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--layouts" {
            c.layouts = true;
            continue;
        }
        if flag == "--keep" {
            c.keep = true;
            continue;
        }
        let value = args
            .next()
            .unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{flag}: not a number: {value}"))
        };
        match flag.as_str() {
            "--batches" => c.batches = number(),
            "--movements" => c.movements = number(),
            "--balance-rows" => c.balance_rows = number(),
            "--keys" => c.keys = number(),
            "--snapshot-mb" => c.snapshot_mb = number(),
            "--holders-per-batch" => c.holders_per_batch = number(),
            "--page-size" => c.options.page_size = number() as u32,
            "--autocheckpoint" => c.options.wal_autocheckpoint_pages = number() as u32,
            "--cache-kib" => c.options.cache_size_kib = number() as u32,
            "--mmap-mb" => c.options.mmap_size_bytes = number() << 20,
            "--dir" => c.dir = PathBuf::from(&value),
            _ => panic!("unknown option {flag}"),
        }
    }
    c
}

/// xorshift64*: a fast, seeded, dependency-free generator, so runs are repeatable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Keys per holder in the pool.
const KEYS_PER_HOLDER: u64 = 200;

/// Key `k` of the pool: holder `k / 200` with 200 distinct (item, lot), so the keys of one
/// holder are neighbours in the balances B-tree.
fn key(k: u64) -> (String, String, String) {
    let h = k / KEYS_PER_HOLDER;
    let prefix = ["UA-UNIT", "PL-HUB", "US-DEPOT", "DE-DEPOT"][(h % 4) as usize];
    let holder = format!("{prefix}-{h:05}");
    let item = format!("NSN-1315-{:04}", (k % 200) * 10 + h % 10);
    let lot = if k.is_multiple_of(3) {
        String::new()
    } else {
        format!("L{}-{:02}", 2019 + k % 6, 1 + k % 12)
    };
    (holder, item, lot)
}

/// One realistic movement line, about 130 bytes.
fn movement_line(out: &mut String, id: u64, rng: &mut Rng) {
    use std::fmt::Write;
    const ITEMS: [&str; 6] = [
        "155MM-M795",
        "155MM-M107",
        "JAVELIN-FGM148",
        "120MM-M933",
        "5.56MM-M855",
        "STINGER-FIM92",
    ];
    let day = 1 + rng.below(28);
    let hour = rng.below(24);
    let _ = writeln!(
        out,
        "{{\"type\":\"movement\",\"id\":\"m{id:08}\",\"time\":\"2024-03-{day:02}T{hour:02}:00:00Z\",\"item\":\"{}\",\"qty\":{},\"from\":\"US-DEPOT-{}\",\"to\":\"PL-HUB-{}\",\"lot\":\"L2023-{:02}\"}}",
        ITEMS[rng.below(6) as usize],
        1 + rng.below(500),
        rng.below(10),
        rng.below(10),
        1 + rng.below(12),
    );
}

/// The balance rows of one batch: `c.balance_rows` distinct keys (as the ledger writes them:
/// the new balance of each key a batch touched), see `holders_per_batch`; 1% are set to zero
/// (deleted).
fn batch_rows(c: &Config, rng: &mut Rng) -> Vec<BalanceRow> {
    let holders: Vec<u64> = (0..c.holders_per_batch)
        .map(|_| rng.below(c.keys / KEYS_PER_HOLDER))
        .collect();
    let available = if holders.is_empty() {
        c.keys
    } else {
        holders.len() as u64 * KEYS_PER_HOLDER
    };
    assert!(
        available >= c.balance_rows * 5 / 4,
        "too few keys for {} distinct rows per batch",
        c.balance_rows
    );
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::with_capacity(c.balance_rows as usize);
    while (rows.len() as u64) < c.balance_rows {
        let k = if holders.is_empty() {
            rng.below(c.keys)
        } else {
            holders[rng.below(holders.len() as u64) as usize] * KEYS_PER_HOLDER
                + rng.below(KEYS_PER_HOLDER)
        };
        if seen.insert(k) {
            let qty = if rng.below(100) == 0 {
                0
            } else {
                1 + rng.below(10_000) as i64
            };
            rows.push(balance_row(k, qty));
        }
    }
    rows
}

fn balance_row(k: u64, qty: i64) -> BalanceRow {
    let (holder, item, lot) = key(k);
    BalanceRow {
        holder,
        item,
        lot,
        qty,
    }
}

/// A fresh scratch database path, removed (with its WAL) by [`remove_db`].
fn scratch(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("qm-append-bench-{}-{name}.qm", std::process::id()));
    remove_db(&path);
    path
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Bytes this process has caused to be written to storage so far (Linux `/proc/self/io`;
/// 0 elsewhere): the WAL frames and checkpoints are what the disk must absorb per batch.
fn written_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time this thread has run so far (Linux `/proc/thread-self/schedstat`; zero elsewhere):
/// unlike wall time, it does not grow when other processes share the cores.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        stat.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

fn main() {
    let c = parse_args();
    println!(
        "command: cargo run --release -p qm-store-sqlite --example append_bench -- {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    println!("sqlite {}", rusqlite::version());
    if c.layouts {
        layouts(&c);
    } else {
        store_bench(&c);
    }
}

fn store_bench(c: &Config) {
    let path = scratch(&c.dir, "store");
    println!(
        "{} batches x {} movements; page_size {}, wal_autocheckpoint {} pages, cache {} KiB; file {}",
        c.batches,
        c.movements,
        c.options.page_size,
        c.options.wal_autocheckpoint_pages,
        c.options.cache_size_kib,
        path.display()
    );
    let mut store = SqliteStore::open_with(&path, OpenMode::Create, &c.options).expect("open");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut id = 0u64;
    let mut append_batches = |store: &mut SqliteStore, batches: u64| {
        let written_before = written_bytes();
        let mut totals = Phases::default();
        let mut commits = Vec::new();
        let mut body_bytes = 0u64;
        for _ in 0..batches {
            let mut body = String::with_capacity(c.movements as usize * 160);
            for _ in 0..c.movements {
                id += 1;
                movement_line(&mut body, id, &mut rng);
            }
            body_bytes += body.len() as u64;
            let t0 = Instant::now();
            let head = store.begin_append().unwrap();
            let t1 = Instant::now();
            let recorded_at = 1_700_000_000_000_000_000 + head.seq as i64;
            let batch = StoredBatch::seal(head, recorded_at, "bench".into(), body, c.movements);
            let t2 = Instant::now();
            store
                .commit_append(&batch, Some(&qm_store::Derived::EMPTY))
                .unwrap();
            let t3 = Instant::now();
            let p = store.last_commit_profile().unwrap();
            totals.begin += t1 - t0;
            totals.seal += t2 - t1;
            totals.commit_append += t3 - t2;
            totals.journal += p.journal_insert;
            totals.commit += p.commit;
            commits.push(p.commit);
        }
        (
            totals,
            commits,
            body_bytes,
            written_bytes() - written_before,
        )
    };

    let (totals, mut commits, body_bytes, written) = append_batches(&mut store, c.batches);
    let n = c.batches as f64;
    let movements = (c.batches * c.movements) as f64;
    let store_time = totals.begin + totals.commit_append;
    println!(
        "body: {:.0} bytes per movement line",
        body_bytes as f64 / movements
    );
    println!(
        "durable ingest: {:.0} movements/s through the store (begin_append + commit_append), {:.0}/s including sealing (BLAKE3)",
        movements / secs(store_time),
        movements / secs(store_time + totals.seal)
    );
    println!(
        "per batch (mean): begin_append {:.2} ms, seal {:.2} ms, commit_append {:.2} ms = journal insert {:.2} ms + COMMIT {:.2} ms",
        ms(totals.begin) / n,
        ms(totals.seal) / n,
        ms(totals.commit_append) / n,
        ms(totals.journal) / n,
        ms(totals.commit) / n
    );
    commits.sort();
    println!(
        "  COMMIT p50 {:.2} ms, p90 {:.2} ms, max {:.2} ms (the slow ones ran a WAL checkpoint); {:.1} MiB written to storage per batch",
        ms(commits[commits.len() / 2]),
        ms(commits[commits.len() * 9 / 10]),
        ms(*commits.last().unwrap()),
        mib(written) / n
    );

    // Start-up catch-up: stream the whole journal through a fresh handle.
    drop(store);
    let db_bytes = std::fs::metadata(&path).unwrap().len();
    println!(
        "file at rest: {:.1} MiB, {:.0} bytes per movement",
        mib(db_bytes),
        db_bytes as f64 / movements
    );
    let mut store = SqliteStore::open_with(&path, OpenMode::ReadOnly, &c.options).unwrap();
    let started = Instant::now();
    let (mut batches, mut bytes) = (0u64, 0u64);
    store
        .read_batches(0, &mut |b| {
            batches += 1;
            bytes += b.body.len() as u64;
            Ok(())
        })
        .unwrap();
    let took = started.elapsed();
    println!(
        "read_batches: {batches} batches, {:.0} MiB in {:.3} s = {:.0} movements/s, {:.0} MiB/s",
        mib(bytes),
        secs(took),
        movements / secs(took),
        mib(bytes) / secs(took)
    );

    // The analysts' views over the whole journal: no base yet, the worst case.
    let started = Instant::now();
    let (count, qty): (i64, i64) = store
        .connection()
        .query_row(
            "SELECT count(*), coalesce(sum(qty), 0) FROM movements",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let took = started.elapsed();
    println!(
        "movements view: count(*), sum(qty) over {count} movements (sum {qty}) in {:.2} s = {:.0} movements/s",
        secs(took),
        count as f64 / secs(took)
    );
    let started = Instant::now();
    let rows = store.read_balances().unwrap().len();
    println!(
        "balances view, no base, {:.0} movements in the journal tail: {rows} rows in {:.2} s",
        movements,
        secs(started.elapsed())
    );

    // A snapshot with a base of `keys` balance rows.
    let base: Vec<BalanceRow> = (0..c.keys)
        .map(|k| balance_row(k, 1 + (k % 1000) as i64))
        .collect();
    let bytes: Vec<u8> = (0..c.snapshot_mb << 20)
        .map(|i| ((i * 2_654_435_761) >> 13) as u8)
        .collect();
    let head = store.head().unwrap();
    let snapshot = Snapshot {
        seq: head.seq,
        head_hash: head.hash,
        checksum: snapshot_checksum(head.seq, head.hash, &bytes),
        bytes,
    };
    for round in 1..=2 {
        let (started, written_before) = (Instant::now(), written_bytes());
        store.save_snapshot(&snapshot, &base).unwrap();
        println!(
            "save_snapshot, round {round}: {} MiB of bytes and a base of {} balance rows in {:.2} s, {:.0} MiB written",
            c.snapshot_mb,
            c.keys,
            secs(started.elapsed()),
            mib(written_bytes() - written_before)
        );
    }
    let started = Instant::now();
    let loaded = store.load_snapshot().unwrap().unwrap();
    let load = started.elapsed();
    assert_eq!(loaded, snapshot);
    drop(loaded);
    println!(
        "load_snapshot: {:.2} s ({:.0} MiB/s)",
        secs(load),
        c.snapshot_mb as f64 / secs(load)
    );
    // For comparison: the snapshot bytes bound as one value instead of zeroblob + blob I/O
    // (other bytes than those stored: SQLite skips rewriting overflow pages that are unchanged).
    if c.snapshot_mb > 0 {
        let other_bytes: Vec<u8> = snapshot.bytes.iter().map(|b| b ^ 0x5A).collect();
        let (started, written_before) = (Instant::now(), written_bytes());
        let conn = store.connection();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn.execute(
            "UPDATE snapshot SET bytes = ?1, checksum = ?2 WHERE id = 1",
            rusqlite::params![other_bytes, &Hash::ZERO.0[..]],
        )
        .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        println!(
            "  (the same {} MiB bound as one value: {:.2} s, {:.0} MiB written)",
            c.snapshot_mb,
            secs(started.elapsed()),
            mib(written_bytes() - written_before)
        );
    }

    // The view with a big base and a short tail, as after a snapshot.
    let tail_batches = (c.batches / 10).max(1);
    append_batches(&mut store, tail_batches);
    let started = Instant::now();
    let rows = store.read_balances().unwrap().len();
    println!(
        "balances view, base of {} rows + {} movements in the tail: {rows} rows in {:.2} s",
        c.keys,
        tail_batches * c.movements,
        secs(started.elapsed())
    );
    let (holder, item, lot) = key(c.keys / 2);
    let started = Instant::now();
    let mut stmt = store
        .connection()
        .prepare("SELECT qty FROM balances WHERE holder = ?1 AND item = ?2 AND lot = ?3")
        .unwrap();
    let qty: i64 = stmt
        .query_row([&holder, &item, &lot], |r| r.get(0))
        .unwrap();
    println!(
        "balances view, one key (qty {qty}): {:.1} ms",
        ms(started.elapsed())
    );
    drop(stmt);
    drop(store);
    if c.keep {
        println!("kept {}", path.display());
    } else {
        remove_db(&path);
    }
}

/// Time spent per phase, summed over the batches.
#[derive(Default)]
struct Phases {
    /// `begin_append`: BEGIN IMMEDIATE and reading the head.
    begin: Duration,
    /// Sealing the batch (the caller's BLAKE3 over the body), not the store's work.
    seal: Duration,
    /// The whole `commit_append`.
    commit_append: Duration,
    /// Its journal row insert.
    journal: Duration,
    /// Its COMMIT.
    commit: Duration,
}

/// How a balance row is keyed in a layout under comparison.
#[derive(Clone, Copy, PartialEq)]
enum Key {
    /// Holder, item and lot as text columns.
    Text,
    /// Holder, item and lot as integer ids of a `names` table, looked up in a hash map.
    Interned,
}

/// The B-tree structure of a layout under comparison.
#[derive(Clone, Copy)]
enum Table {
    /// One B-tree keyed by (holder, item, lot).
    WithoutRowid,
    /// A rowid table (id INTEGER PRIMARY KEY) plus a unique index on (holder, item, lot).
    RowidAndUniqueIndex,
}

/// The statement that writes a non-zero balance.
#[derive(Clone, Copy)]
enum Write {
    /// INSERT .. ON CONFLICT DO UPDATE.
    Upsert,
    /// UPDATE, then INSERT when no row changed.
    UpdateThenInsert,
    /// INSERT OR REPLACE.
    Replace,
}

/// A balances table layout under comparison.
struct Layout {
    /// Text or integer keys.
    key: Key,
    /// One B-tree or two.
    table: Table,
    /// Whether the rows of each batch are sorted by key before they are written.
    sorted: bool,
    /// How a row is written.
    write: Write,
}

impl Layout {
    fn name(&self) -> String {
        format!(
            "{}, {}, {}, {}",
            match self.key {
                Key::Text => "text key",
                Key::Interned => "integer ids",
            },
            match self.table {
                Table::WithoutRowid => "WITHOUT ROWID",
                Table::RowidAndUniqueIndex => "rowid + UNIQUE index",
            },
            if self.sorted { "sorted" } else { "unsorted" },
            match self.write {
                Write::Upsert => "upsert",
                Write::UpdateThenInsert => "UPDATE then INSERT",
                Write::Replace => "INSERT OR REPLACE",
            }
        )
    }

    fn ddl(&self) -> String {
        let ty = match self.key {
            Key::Text => "TEXT",
            Key::Interned => "INTEGER",
        };
        let columns = format!(
            "holder {ty} NOT NULL, item {ty} NOT NULL, lot {ty} NOT NULL, qty INTEGER NOT NULL"
        );
        let names = "CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);";
        match self.table {
            Table::WithoutRowid => {
                format!("{names} CREATE TABLE balances ({columns}, PRIMARY KEY (holder, item, lot)) WITHOUT ROWID;")
            }
            Table::RowidAndUniqueIndex => format!(
                "{names} CREATE TABLE balances (id INTEGER PRIMARY KEY, {columns}); \
                 CREATE UNIQUE INDEX balances_key ON balances (holder, item, lot);"
            ),
        }
    }
}

/// Writes one batch of keyed rows (zero deletes) with `layout`'s statements.
fn write_rows<K: rusqlite::ToSql + Ord>(
    conn: &rusqlite::Connection,
    layout: &Layout,
    mut rows: Vec<([K; 3], i64)>,
) {
    if layout.sorted {
        rows.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let sql = match layout.write {
        Write::Upsert => {
            "INSERT INTO balances (holder, item, lot, qty) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (holder, item, lot) DO UPDATE SET qty = excluded.qty"
        }
        Write::UpdateThenInsert => {
            "UPDATE balances SET qty = ?4 WHERE holder = ?1 AND item = ?2 AND lot = ?3"
        }
        Write::Replace => {
            "INSERT OR REPLACE INTO balances (holder, item, lot, qty) VALUES (?1, ?2, ?3, ?4)"
        }
    };
    let mut write = conn.prepare_cached(sql).unwrap();
    let mut insert = conn
        .prepare_cached("INSERT INTO balances (holder, item, lot, qty) VALUES (?1, ?2, ?3, ?4)")
        .unwrap();
    let mut delete = conn
        .prepare_cached("DELETE FROM balances WHERE holder = ?1 AND item = ?2 AND lot = ?3")
        .unwrap();
    for ([h, i, l], qty) in &rows {
        if *qty == 0 {
            delete.execute(rusqlite::params![h, i, l]).unwrap();
        } else if write.execute(rusqlite::params![h, i, l, qty]).unwrap() == 0 {
            insert.execute(rusqlite::params![h, i, l, qty]).unwrap();
        }
    }
}

fn layouts(c: &Config) {
    use Key::*;
    use Table::*;
    use Write::*;
    let candidates = [
        Layout {
            key: Text,
            table: WithoutRowid,
            sorted: false,
            write: Upsert,
        },
        Layout {
            key: Text,
            table: WithoutRowid,
            sorted: true,
            write: Upsert,
        },
        Layout {
            key: Text,
            table: RowidAndUniqueIndex,
            sorted: false,
            write: Upsert,
        },
        Layout {
            key: Text,
            table: RowidAndUniqueIndex,
            sorted: true,
            write: Upsert,
        },
        Layout {
            key: Text,
            table: WithoutRowid,
            sorted: true,
            write: UpdateThenInsert,
        },
        Layout {
            key: Text,
            table: WithoutRowid,
            sorted: true,
            write: Replace,
        },
        Layout {
            key: Interned,
            table: WithoutRowid,
            sorted: true,
            write: Upsert,
        },
        Layout {
            key: Interned,
            table: WithoutRowid,
            sorted: true,
            write: Replace,
        },
        Layout {
            key: Interned,
            table: RowidAndUniqueIndex,
            sorted: true,
            write: Replace,
        },
    ];
    println!(
        "balances layouts: {} batches x {} rows over {} keys ({} holders per batch, 0 = uniform), each batch one durable transaction (WAL, synchronous=FULL, page_size {}, wal_autocheckpoint {})",
        c.batches, c.balance_rows, c.keys, c.holders_per_batch, c.options.page_size, c.options.wal_autocheckpoint_pages
    );
    for (n, layout) in candidates.iter().enumerate() {
        let path = scratch(&c.dir, &format!("layout{n}"));
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "page_size", c.options.page_size)
            .unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .unwrap();
        conn.execute_batch(&format!(
            "PRAGMA synchronous = FULL; PRAGMA cache_size = -{}; PRAGMA wal_autocheckpoint = {}; PRAGMA journal_size_limit = {}; {}",
            c.options.cache_size_kib,
            c.options.wal_autocheckpoint_pages,
            c.options.journal_size_limit_bytes,
            layout.ddl()
        ))
        .unwrap();
        // The name ids of the interned layouts, all assigned while filling the pool.
        let mut names: std::collections::HashMap<String, i64> = Default::default();
        let mut id = |name: String| {
            let next = names.len() as i64 + 1;
            *names.entry(name).or_insert(next)
        };
        conn.execute_batch("BEGIN").unwrap();
        for k in 0..c.keys {
            let (h, i, l) = key(k);
            let qty = 1 + (k % 1000) as i64;
            match layout.key {
                Text => write_rows(&conn, layout, vec![([h, i, l], qty)]),
                Interned => write_rows(&conn, layout, vec![([id(h), id(i), id(l)], qty)]),
            }
        }
        for (name, id) in &names {
            conn.execute(
                "INSERT INTO names (id, name) VALUES (?1, ?2)",
                rusqlite::params![id, name],
            )
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();

        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut writes, mut commits) = (Duration::ZERO, Duration::ZERO);
        let (mut writes_cpu, mut commits_cpu) = (Duration::ZERO, Duration::ZERO);
        let written_before = written_bytes();
        for _ in 0..c.batches {
            let rows = batch_rows(c, &mut rng);
            let (t0, c0) = (Instant::now(), cpu_time());
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            match layout.key {
                Text => write_rows(
                    &conn,
                    layout,
                    rows.into_iter()
                        .map(|r| ([r.holder, r.item, r.lot], r.qty))
                        .collect(),
                ),
                Interned => write_rows(
                    &conn,
                    layout,
                    rows.iter()
                        .map(|r| ([names[&r.holder], names[&r.item], names[&r.lot]], r.qty))
                        .collect(),
                ),
            }
            let (t1, c1) = (Instant::now(), cpu_time());
            conn.execute_batch("COMMIT").unwrap();
            writes += t1 - t0;
            commits += t1.elapsed();
            writes_cpu += c1 - c0;
            commits_cpu += cpu_time() - c1;
        }
        let written = written_bytes() - written_before;
        drop(conn);
        let size = std::fs::metadata(&path).unwrap().len();
        let n = c.batches as f64;
        let rows = (c.batches * c.balance_rows) as f64;
        println!(
            "  {:<62} writes {:6.2} ms/batch (cpu {:6.2}), COMMIT {:6.2} ms/batch (cpu {:6.2}), {:5.1} MiB written/batch, {:>8.0} rows/s durable, file {:3.0} MiB",
            layout.name(),
            ms(writes) / n,
            ms(writes_cpu) / n,
            ms(commits) / n,
            ms(commits_cpu) / n,
            mib(written) / n,
            rows / secs(writes + commits),
            mib(size)
        );
        remove_db(&path);
    }
}
