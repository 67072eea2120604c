//! The embedded backend: one local SQLite file, zero set-up.
//!
//! [`SqliteStore`] implements [`qm_store::Store`] over one SQLite database file. The schema
//! is in `schema.rs`: `meta` (schema version, and the batch the balances base is as of),
//! `journal` (the hash-chained batches, guarded by append-only triggers), `anchor` (the head,
//! kept apart from the journal, and the batch after which the derived table is exact),
//! `snapshot` and `snapshot_part` (the newest snapshot), `balances_base` (the balances as of
//! the snapshot) and `transfer_line_figures` (every transfer line's figures, written with
//! each commit), and for analysts the views `movements`, `records`, `transfers`, `balances`
//! (the base plus the journal's movements after it), `transfer_lines`, `allocations` and
//! `pauses`, so plain SQL tools see current data without knowing the encoding. The views give
//! the same columns, types and values as the PostgreSQL backend's
//! (`qm_store::conformance::views`).
//!
//! Open modes ([`OpenMode`]): the path must be a regular file (or, for `Create` only, not
//! exist) before SQLite is given it, so a typo never becomes an empty ledger and `/dev/null`
//! never gets a `-journal` beside it. `Create` and `ReadWrite` put the file in WAL mode and
//! create or upgrade the schema; `ReadOnly` opens with `SQLITE_OPEN_READONLY` and
//! `query_only`, and sets nothing that is stored in the file. SQLite reads a WAL-mode file
//! through a `-shm` index beside it, which a read-only connection creates when it is missing
//! (and, unlike a writer's last close, cannot remove: a read leaves an empty `-wal` and the
//! `-shm` beside a cleanly closed file; the next writer to close removes them). On read-only
//! media it cannot create them: the file is then opened with `immutable=1`, which is what
//! such media are, unless its WAL holds commits (a copy taken while a writer had it open),
//! which `immutable` would not see: that is refused, saying why.
//!
//! Speed: an append writes one journal row (the batch's lines as one text value), the anchor
//! (one row, on a page the append writes anyway) and the lines of the transfers the batch
//! touched (none for a batch of plain movements), so its cost is the body's pages and one
//! fsync. Balances are not written per batch:
//! measured, a balances table upserted with every batch (15,000 rows per 10,000 movements)
//! capped durable ingest at 0.1-0.5 million movements/s, because every B-tree page a row
//! touches is written again to the WAL; see the `append_bench` example, whose `--layouts`
//! mode keeps that comparison.
//!
//! Durability: the file runs in WAL mode with `synchronous=FULL`, so a batch is on stable
//! storage when [`Store::commit_append`] returns (one fsync of the write-ahead log per commit;
//! the database file itself is written and synced later, at checkpoints). A rollback journal
//! with `synchronous=FULL` would be as durable but needs at least two fsyncs per commit and
//! writes every changed page twice, and it blocks readers while a writer commits. The WAL
//! file must live on a local file system (SQLite's WAL needs shared memory between
//! processes): network file systems are not supported.
//!
//! Writers in several processes are serialised by SQLite's write lock: `begin_append` runs
//! `BEGIN IMMEDIATE` (waiting up to [`SqliteOptions::busy_timeout`]) and reads the head inside
//! that transaction; readers never wait for writers.
//!
//! When the last connection to the file closes, SQLite checkpoints the WAL into the database
//! and deletes it, so at rest the ledger is one file that can be copied or mailed.

mod schema;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qm_store::{
    BalanceRow, Derived, DerivedState, Hash, Head, OpenMode, Result, Snapshot, Store, StoreError,
    StoredBatch, TransferLineRow, ViewRows, ViewValue,
};
use rusqlite::{params, Connection, DatabaseName, OpenFlags, OptionalExtension};

use schema::sql_error;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

/// Tuning of one connection. The defaults are what `qm` uses; the benchmark varies them.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// How long `begin_append` (and opening) waits for the write lock held by another writer
    /// before failing. Up to eight processes may append to one file at once, and one large
    /// batch takes a fraction of a second, so the wait can be long.
    pub busy_timeout: Duration,
    /// Page size in bytes for a newly created file (ignored for an existing file): a power of
    /// two from 512 to 65536.
    pub page_size: u32,
    /// Page cache per connection, in KiB. Big enough to hold the pages of a few batches and
    /// the upper levels of every B-tree.
    pub cache_size_kib: u32,
    /// The WAL is checkpointed into the database when it grows past this many pages. Larger
    /// means fewer (but longer) checkpoints and fewer writes of pages changed again soon.
    pub wal_autocheckpoint_pages: u32,
    /// After a checkpoint, the WAL file is truncated to at most this size, so one huge
    /// transaction (a snapshot) does not leave a huge WAL behind.
    pub journal_size_limit_bytes: u64,
    /// How much of the database file SQLite may read through a memory map (0 = none). Off by
    /// default: it made catching up on the journal only about 10% faster, and with it an I/O
    /// error while reading kills the process (SIGBUS) instead of returning an error.
    pub mmap_size_bytes: u64,
    /// Snapshots are stored in parts of at most this size (SQLite refuses a value over 1 GB).
    pub snapshot_part_bytes: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(60),
            page_size: 4096,
            cache_size_kib: 128 * 1024,
            wal_autocheckpoint_pages: 16_384,
            journal_size_limit_bytes: 64 << 20,
            mmap_size_bytes: 0,
            snapshot_part_bytes: 256 << 20,
        }
    }
}

/// How long the phases of the last successful [`Store::commit_append`] took, for benchmarks
/// and slow-commit diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitProfile {
    /// Inserting the journal row (the body is copied into the WAL's pages) and moving the
    /// anchor.
    pub journal_insert: Duration,
    /// `COMMIT`: writing the WAL frames, the fsync, and any automatic checkpoint.
    pub commit: Duration,
}

/// The embedded store: one SQLite file.
pub struct SqliteStore {
    /// The one connection of this handle. Its SQLite locks are what serialise writers across
    /// processes; its prepared-statement cache keeps the hot statements compiled.
    conn: Connection,
    /// The file, for [`SqliteStore::path`] and messages.
    path: PathBuf,
    /// How it was opened: a read-only store refuses appends and snapshots itself.
    mode: OpenMode,
    /// Whether the file was opened with `immutable=1` (read-only media).
    immutable: bool,
    /// The file's schema version: [`SCHEMA_VERSION`] for a writer (which upgrades it), the
    /// file's own for a reader.
    schema_version: i64,
    /// The head read by `begin_append` while this handle holds the write transaction; `None`
    /// when no append is open. `commit_append` checks the batch against it.
    append: Option<Head>,
    /// Phase timings of the last successful commit.
    last_commit: Option<CommitProfile>,
    /// Size of the parts a snapshot is stored in.
    snapshot_part_bytes: usize,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("append", &self.append)
            .finish_non_exhaustive()
    }
}

/// Statement cache size: the handful of statements this store uses, with room to spare.
const STATEMENT_CACHE_CAPACITY: usize = 32;

impl SqliteStore {
    /// Opens the ledger in `path` as `mode` says, with the default options.
    pub fn open(path: &Path, mode: OpenMode) -> Result<SqliteStore> {
        SqliteStore::open_with(path, mode, &SqliteOptions::default())
    }

    /// Opens the ledger in `path` as `mode` says, with the given tuning.
    ///
    /// Before SQLite touches anything, `path` must be a regular file, or not exist when `mode`
    /// is [`OpenMode::Create`]: a directory or a device (`/dev/null`) is refused with
    /// [`StoreError::NoLedger`], so no `-journal` or `-wal` file is made beside it. A file
    /// that is not a Quartermaster ledger is refused before any setting is written to it.
    pub fn open_with(path: &Path, mode: OpenMode, options: &SqliteOptions) -> Result<SqliteStore> {
        check_path(path, mode)?;
        let (conn, immutable, schema_version) = match mode {
            OpenMode::Create | OpenMode::ReadWrite => {
                (open_read_write(path, mode, options)?, false, SCHEMA_VERSION)
            }
            OpenMode::ReadOnly => open_read_only(path, options)?,
        };
        Ok(SqliteStore {
            conn,
            path: path.to_path_buf(),
            mode,
            immutable,
            schema_version,
            append: None,
            last_commit: None,
            snapshot_part_bytes: options.snapshot_part_bytes.max(1),
        })
    }

    /// Whether the file was opened with SQLite's `immutable=1`: read-only media where SQLite
    /// could not create the WAL's shared-memory index beside the file (see
    /// [`OpenMode::ReadOnly`]). Such a store sees no later change to the file.
    pub fn is_immutable(&self) -> bool {
        self.immutable
    }

    /// Runs one query (for the analysts' views: tests, reports) and returns its columns and
    /// rows. The views hold only NULL, integers and text; another type of value is refused
    /// with [`StoreError::Format`] naming the column.
    pub fn query_view(&self, sql: &str) -> Result<ViewRows> {
        use rusqlite::types::ValueRef;
        let doing = |e| sql_error(&format!("querying {sql:?}"), e);
        let mut stmt = self.conn.prepare(sql).map_err(doing)?;
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows = stmt.query([]).map_err(doing)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(doing)? {
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                values.push(match row.get_ref(i).map_err(doing)? {
                    ValueRef::Null => ViewValue::Null,
                    ValueRef::Integer(n) => ViewValue::Integer(n),
                    ValueRef::Text(t) => ViewValue::Text(
                        std::str::from_utf8(t)
                            .map_err(|_| {
                                StoreError::Format(format!("column {column} is not UTF-8 text"))
                            })?
                            .to_owned(),
                    ),
                    other => {
                        return Err(StoreError::Format(format!(
                            "column {column} holds a {:?} value, which the views never give",
                            other.data_type()
                        )))
                    }
                });
            }
            out.push(values);
        }
        Ok(ViewRows { columns, rows: out })
    }

    /// Refuses a write on a read-only store before anything reaches SQLite.
    fn writable(&self, what: &str) -> Result<()> {
        if self.mode.writes() {
            Ok(())
        } else {
            Err(StoreError::Backend(format!(
                "sqlite: {what}: {} is open read-only",
                self.path.display()
            )))
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs SQLite's `PRAGMA quick_check` (page structure, not the hash chain: that is
    /// `qm verify`). Fails with [`StoreError::Format`] listing the problems found.
    pub fn integrity_check(&mut self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare("PRAGMA quick_check")
            .map_err(|e| sql_error("quick_check", e))?;
        let problems: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| sql_error("quick_check", e))?;
        if problems == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Format(format!(
                "{} failed its integrity check: {}",
                self.path.display(),
                problems.join("; ")
            )))
        }
    }

    /// Copies the whole write-ahead log into the database file and truncates the log. SQLite
    /// also does this by itself (as the log grows, and when the last connection closes).
    pub fn checkpoint(&mut self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|e| sql_error("checkpoint", e))
            .and_then(|busy| match busy {
                0 => Ok(()),
                _ => Err(StoreError::Backend(
                    "sqlite: checkpoint: another connection is reading or writing".into(),
                )),
            })
    }

    /// Phase timings of the last successful `commit_append` of this handle.
    pub fn last_commit_profile(&self) -> Option<CommitProfile> {
        self.last_commit
    }

    /// The underlying connection, for read-only queries (tests, reports over the views).
    /// Writing through it bypasses the store's checks.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn read_head(&self) -> Result<Head> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1")
            .map_err(|e| sql_error("reading the head", e))?;
        let row = stmt
            .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .optional()
            .map_err(|e| sql_error("reading the head", e))?;
        match row {
            None => Ok(Head::default()),
            Some((seq, hash)) => Ok(Head {
                seq: seq_from_sql(seq)?,
                hash: hash_from_sql("hash", &hash)?,
            }),
        }
    }

    /// Rolls back the open transaction, if any. Used on every failure path, so that a failed
    /// append never keeps the write lock.
    fn rollback(&mut self) {
        self.append = None;
        if !self.conn.is_autocommit() {
            // If even the rollback fails the connection is unusable; SQLite rolls back when
            // it closes, and the caller already has the error that got us here.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// Writes the journal row (and, by trigger, the anchor) inside the open transaction.
    fn write_batch(&mut self, batch: &StoredBatch) -> Result<()> {
        let seq = seq_to_sql(batch.seq)?;
        let records = i64::try_from(batch.records).map_err(|_| {
            StoreError::Format(format!(
                "batch {}: record count {} too large",
                batch.seq, batch.records
            ))
        })?;
        self.conn
            .prepare_cached(
                "INSERT INTO journal (seq, recorded_at, recorded_by, records, body, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    seq,
                    batch.recorded_at,
                    batch.recorded_by,
                    records,
                    batch.body,
                    &batch.prev_hash.0[..],
                    &batch.hash.0[..],
                ])
            })
            .map_err(|e| sql_error(&format!("inserting batch {}", batch.seq), e))?;
        Ok(())
    }

    /// Replaces the balances base with `balances`, as of batch `seq`, inside the open
    /// transaction.
    fn write_balances_base(&mut self, seq: u64, balances: &[BalanceRow]) -> Result<()> {
        let doing = |e| sql_error("replacing the balances base", e);
        // Without a WHERE clause SQLite drops the table's pages at once (the truncate
        // optimisation); they are reused by the inserts below.
        self.conn
            .execute("DELETE FROM balances_base", [])
            .map_err(doing)?;
        // In key order every insert appends to the last leaf of the B-tree.
        let mut rows: Vec<&BalanceRow> = balances.iter().filter(|r| r.qty != 0).collect();
        rows.sort_unstable_by(|a, b| {
            (&a.holder, &a.item, &a.lot).cmp(&(&b.holder, &b.item, &b.lot))
        });
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT INTO balances_base (holder, item, lot, qty) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(doing)?;
        for r in rows {
            insert
                .execute(params![r.holder, r.item, r.lot, r.qty])
                .map_err(|e| {
                    sql_error(
                        &format!(
                            "writing the base balance of ({}, {}, {:?})",
                            r.holder, r.item, r.lot
                        ),
                        e,
                    )
                })?;
        }
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('balances_base_seq', ?1)",
                [seq_to_sql(seq)?],
            )
            .map_err(doing)?;
        Ok(())
    }

    /// Writes transfer lines inside the open transaction, each replacing the row of its
    /// (transfer, item).
    fn write_transfer_lines(&mut self, rows: &[TransferLineRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut upsert = self
            .conn
            .prepare_cached(
                "INSERT INTO transfer_line_figures (transfer, item, donor, recipient, line_qty, \
                 committed, cancelled, allocated, dispatched, delivered, in_transit) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT (transfer, item) DO UPDATE SET donor = excluded.donor, \
                 recipient = excluded.recipient, line_qty = excluded.line_qty, \
                 committed = excluded.committed, cancelled = excluded.cancelled, \
                 allocated = excluded.allocated, dispatched = excluded.dispatched, \
                 delivered = excluded.delivered, in_transit = excluded.in_transit",
            )
            .map_err(|e| sql_error("writing transfer lines", e))?;
        for r in rows {
            upsert
                .execute(params![
                    r.transfer,
                    r.item,
                    r.donor,
                    r.recipient,
                    r.line_qty,
                    r.committed,
                    r.cancelled,
                    r.allocated,
                    r.dispatched,
                    r.delivered,
                    r.in_transit,
                ])
                .map_err(|e| {
                    sql_error(
                        &format!(
                            "writing the line of transfer {:?}, item {:?}",
                            r.transfer, r.item
                        ),
                        e,
                    )
                })?;
        }
        Ok(())
    }

    /// Inside the open transaction, after the journal row of batch `seq`: the derived table
    /// is exact after `seq` if it was exact after the batch before.
    fn advance_transfer_lines(&mut self, seq: u64) -> Result<()> {
        let (seq, before) = (seq_to_sql(seq)?, seq_to_sql(seq - 1)?);
        self.conn
            .prepare_cached(
                "UPDATE anchor SET transfer_lines_seq = ?1 WHERE id = 1 AND transfer_lines_seq = ?2",
            )
            .and_then(|mut stmt| stmt.execute([seq, before]))
            .map(|_| ())
            .map_err(|e| sql_error("moving the transfer lines' batch", e))
    }

    /// The body of `commit_derived`, inside the open transaction at `head`.
    fn replace_transfer_lines(&mut self, head: Head, rows: &[TransferLineRow]) -> Result<()> {
        self.conn
            .execute("DELETE FROM transfer_line_figures", [])
            .map_err(|e| sql_error("replacing the transfer lines", e))?;
        self.write_transfer_lines(rows)?;
        self.conn
            .execute(
                "UPDATE anchor SET transfer_lines_seq = ?1 WHERE id = 1",
                [seq_to_sql(head.seq)?],
            )
            .map(|_| ())
            .map_err(|e| sql_error("replacing the transfer lines", e))
    }
}

/// Test support, not for production: appends `batch` to the journal with plain SQL, as a
/// Quartermaster of an older schema would have (the journal table has not changed; its
/// trigger moves the anchor), so that tests can check what a newer one makes of it.
#[doc(hidden)]
pub fn append_as_older_writer(conn: &Connection, batch: &StoredBatch) -> Result<()> {
    conn.execute(
        "INSERT INTO journal (seq, recorded_at, recorded_by, records, body, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            batch.seq as i64,
            batch.recorded_at,
            batch.recorded_by,
            batch.records as i64,
            batch.body,
            &batch.prev_hash.0[..],
            &batch.hash.0[..]
        ],
    )
    .map_err(|e| sql_error("appending as an older writer", e))?;
    Ok(())
}

/// Test support, not for production: creates a new ledger file at `path` with the released
/// migrations up to schema `version` only, as a Quartermaster of that version would leave
/// it, so that tests can check the upgrade from it (write its journal with plain SQL: the
/// journal table has not changed).
#[doc(hidden)]
pub fn create_at_older_version(path: &Path, version: i64) -> Result<()> {
    assert!(
        (1..=SCHEMA_VERSION).contains(&version),
        "no schema version {version}"
    );
    check_path(path, OpenMode::Create)?;
    let mut conn = Connection::open(path).map_err(|e| sql_error("creating the file", e))?;
    if schema::check_existing(&conn)? != schema::Existing::Empty {
        return Err(StoreError::Backend(format!(
            "sqlite: {} already holds a ledger",
            path.display()
        )));
    }
    set_wal_mode(&conn, Duration::from_secs(5), "journal_mode")?;
    schema::ensure_schema_until(&mut conn, version)
}

/// Refuses, before SQLite opens anything, a path that cannot hold a ledger: not a regular file
/// (a directory, a device such as `/dev/null`, a FIFO), or missing when `mode` does not create.
fn check_path(path: &Path, mode: OpenMode) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) => {
            let t = m.file_type();
            let kind = if t.is_dir() {
                "a directory"
            } else if t.is_char_device() {
                "a character device"
            } else if t.is_block_device() {
                "a block device"
            } else if t.is_fifo() {
                "a FIFO"
            } else if t.is_socket() {
                "a socket"
            } else {
                "something else"
            };
            Err(StoreError::NoLedger {
                place: path.display().to_string(),
                reason: Some(format!("{kind}, not a regular file")),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && mode == OpenMode::Create => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NoLedger {
            place: path.display().to_string(),
            reason: None,
        }),
        Err(e) => Err(StoreError::Backend(format!(
            "sqlite: {}: {e}",
            path.display()
        ))),
    }
}

/// Opens for writing: the file is looked at first (and must be a ledger, or empty for
/// [`OpenMode::Create`]), then put in WAL mode with durable commits, then given this code's
/// schema (created or upgraded).
fn open_read_write(path: &Path, mode: OpenMode, options: &SqliteOptions) -> Result<Connection> {
    let doing = |what: &str| format!("opening {}: {what}", path.display());
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if mode == OpenMode::Create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn =
        Connection::open_with_flags(path, flags).map_err(|e| sql_error(&doing("open"), e))?;
    // SQLite quietly opens a file it may not write read-only: say so now, not at the first
    // append.
    if conn
        .is_readonly(DatabaseName::Main)
        .map_err(|e| sql_error(&doing("open"), e))?
    {
        return Err(StoreError::Backend(format!(
            "sqlite: {} cannot be written (a read-only file, directory or medium): \
             only commands that read can open it",
            path.display()
        )));
    }
    conn.busy_timeout(options.busy_timeout)
        .map_err(|e| sql_error(&doing("busy_timeout"), e))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // Look before writing anything: a file that is not ours must not be switched to WAL mode
    // before it is refused.
    let existing = schema::check_existing(&conn)?;
    if mode == OpenMode::ReadWrite && existing == schema::Existing::Empty {
        return Err(StoreError::NoLedger {
            place: path.display().to_string(),
            reason: None,
        });
    }
    if existing == schema::Existing::Empty {
        // page_size only takes effect while the file is still empty, so it goes first.
        conn.pragma_update(None, "page_size", options.page_size)
            .map_err(|e| sql_error(&doing("page_size"), e))?;
    }
    set_wal_mode(&conn, options.busy_timeout, &doing("journal_mode"))?;
    for (pragma, value) in [
        ("synchronous", "FULL".to_string()),
        (
            "wal_autocheckpoint",
            options.wal_autocheckpoint_pages.to_string(),
        ),
        (
            "journal_size_limit",
            options.journal_size_limit_bytes.to_string(),
        ),
    ] {
        set_pragma(&conn, pragma, &value, &doing(pragma))?;
    }
    set_reading_pragmas(&conn, options, &doing)?;
    let synchronous: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .map_err(|e| sql_error(&doing("synchronous"), e))?;
    assert_eq!(
        synchronous, 2,
        "synchronous must be FULL for durable commits"
    );
    schema::ensure_schema(&mut conn)?;
    Ok(conn)
}

/// Opens only to read, writing nothing: no journal mode, no schema, no persistent setting,
/// and `query_only` on. SQLite reads a WAL-mode file through its `-shm` index, which it must
/// be able to create beside the file when it is missing (after a clean close it is); on
/// read-only media it cannot, and the file is opened again with `immutable=1`, which is what
/// such media are. Returns the connection, whether it is immutable, and the file's schema
/// version.
fn open_read_only(path: &Path, options: &SqliteOptions) -> Result<(Connection, bool, i64)> {
    let doing = |what: &str| format!("opening {} read-only: {what}", path.display());
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(path, flags).map_err(|e| sql_error(&doing("open"), e))?;
    match readable(&conn, path, options) {
        Ok(version) => return Ok((conn, false, version)),
        Err(Unreadable::Store(e)) => return Err(e),
        Err(Unreadable::CannotOpenIndex) => drop(conn),
    }
    // Read-only media. `immutable=1` reads the database file alone, without the WAL: that is
    // right only when the WAL holds nothing, so a ledger left with committed frames in its WAL
    // (a writer killed, or copied while open) is refused rather than read without them.
    let wal = wal_path(path);
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::Backend(format!(
            "sqlite: {}: its write-ahead log {} holds commits not yet in the file, and SQLite \
             cannot create the index it needs to read it here (read-only media): copy the \
             ledger with its -wal file to writable storage and open it there",
            path.display(),
            wal.display()
        )));
    }
    let uri = format!("file:{}?immutable=1", uri_path(path));
    let conn = Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
        .map_err(|e| sql_error(&doing("open immutable"), e))?;
    match readable(&conn, path, options) {
        Ok(version) => Ok((conn, true, version)),
        Err(Unreadable::Store(e)) => Err(e),
        Err(Unreadable::CannotOpenIndex) => Err(StoreError::Backend(format!(
            "sqlite: {}: cannot open it even as immutable",
            path.display()
        ))),
    }
}

/// Why [`readable`] failed.
enum Unreadable {
    /// SQLite could not open or create the WAL index on the first read: read-only media.
    CannotOpenIndex,
    Store(StoreError),
}

/// Sets up a read-only connection and checks that the file holds a ledger it can read; returns
/// its schema version.
fn readable(
    conn: &Connection,
    path: &Path,
    options: &SqliteOptions,
) -> std::result::Result<i64, Unreadable> {
    let doing = |what: &str| format!("opening {} read-only: {what}", path.display());
    let store = Unreadable::Store;
    conn.busy_timeout(options.busy_timeout)
        .map_err(|e| store(sql_error(&doing("busy_timeout"), e)))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // The first read (a pragma setting the cache size is one) opens the WAL and its index.
    if let Err(e) = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        return Err(match e.sqlite_error_code() {
            // CANTOPEN when the directory is on read-only media, READONLY_DIRECTORY when this
            // user may not write there, READONLY_CANTINIT when the index cannot be set up.
            Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly) => {
                Unreadable::CannotOpenIndex
            }
            _ => store(sql_error(&doing("reading the schema"), e)),
        });
    }
    set_pragma(conn, "query_only", "1", &doing("query_only")).map_err(store)?;
    set_reading_pragmas(conn, options, &doing).map_err(store)?;
    match schema::check_existing(conn).map_err(store)? {
        schema::Existing::Version(v) if v >= schema::READABLE_FROM => Ok(v),
        schema::Existing::Version(v) => Err(store(StoreError::Format(format!(
            "{}: schema version {v} is too old to read without upgrading it: open it once \
             with a command that writes",
            path.display()
        )))),
        schema::Existing::Empty => Err(store(StoreError::NoLedger {
            place: path.display().to_string(),
            reason: None,
        })),
    }
}

/// The per-connection settings of every mode (none is stored in the file).
fn set_reading_pragmas(
    conn: &Connection,
    options: &SqliteOptions,
    doing: &dyn Fn(&str) -> String,
) -> Result<()> {
    let cache_size = -i64::from(options.cache_size_kib);
    for (pragma, value) in [
        ("cache_size", cache_size.to_string()),
        ("temp_store", "MEMORY".to_string()),
        ("mmap_size", options.mmap_size_bytes.to_string()),
    ] {
        set_pragma(conn, pragma, &value, &doing(pragma))?;
    }
    Ok(())
}

/// Sets one pragma. Some pragmas answer with their new value: they run as queries and the
/// answer is ignored.
fn set_pragma(conn: &Connection, pragma: &str, value: &str, doing: &str) -> Result<()> {
    conn.query_row(&format!("PRAGMA {pragma} = {value}"), [], |_| Ok(()))
        .optional()
        .map(|_| ())
        .map_err(|e| sql_error(doing, e))
}

/// The WAL file SQLite keeps beside `path`.
fn wal_path(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// `path` as the path part of an SQLite `file:` URI: every byte but unreserved characters
/// and `/` percent-encoded (`?`, `#` and `%` would otherwise end or change it).
fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Switches the file to WAL mode (a no-op when it already is: the mode is stored in the
/// file). Two processes creating the same file at once can make this fail with SQLITE_BUSY
/// without waiting, so it retries until `timeout`.
fn set_wal_mode(conn: &Connection, timeout: Duration, doing: &str) -> Result<()> {
    let started = Instant::now();
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(StoreError::Backend(format!(
                    "sqlite: {doing}: the file system does not support WAL mode (journal_mode is {mode})"
                )))
            }
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < timeout =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => return Err(sql_error(doing, e)),
        }
    }
}

fn seq_to_sql(seq: u64) -> Result<i64> {
    i64::try_from(seq)
        .map_err(|_| StoreError::Format(format!("batch number {seq} too large for SQLite")))
}

fn seq_from_sql(seq: i64) -> Result<u64> {
    u64::try_from(seq)
        .map_err(|_| StoreError::Format(format!("journal row with negative seq {seq}")))
}

fn hash_from_sql(column: &str, bytes: &[u8]) -> Result<Hash> {
    Hash::from_slice(bytes).ok_or_else(|| {
        StoreError::Format(format!(
            "{column} is {} bytes long, expected 32",
            bytes.len()
        ))
    })
}

/// Reads a 32-byte hash column without copying it out of SQLite first.
fn hash_column(row: &rusqlite::Row<'_>, index: usize, column: &str) -> Result<Hash> {
    let value = row
        .get_ref(index)
        .map_err(|e| sql_error("reading a journal row", e))?;
    let bytes = value
        .as_blob()
        .map_err(|e| StoreError::Format(format!("{column} is not a blob: {e}")))?;
    hash_from_sql(column, bytes)
}

/// The columns [`batch_from_row`] reads, in its order.
const BATCH_COLUMNS: &str = "seq, recorded_at, recorded_by, records, body, prev_hash, hash";

fn batch_from_row(row: &rusqlite::Row<'_>) -> Result<StoredBatch> {
    let read = |e| sql_error("reading a journal row", e);
    let seq = seq_from_sql(row.get(0).map_err(read)?)?;
    let records: i64 = row.get(3).map_err(read)?;
    let in_batch = |e: StoreError| match e {
        StoreError::Format(m) => StoreError::Format(format!("journal batch {seq}: {m}")),
        e => e,
    };
    Ok(StoredBatch {
        seq,
        recorded_at: row.get(1).map_err(read)?,
        recorded_by: row.get(2).map_err(read)?,
        records: u64::try_from(records).map_err(|_| {
            StoreError::Format(format!("journal batch {seq}: negative record count"))
        })?,
        body: row.get(4).map_err(read)?,
        prev_hash: hash_column(row, 5, "prev_hash").map_err(in_batch)?,
        hash: hash_column(row, 6, "hash").map_err(in_batch)?,
    })
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn head(&mut self) -> Result<Head> {
        self.read_head()
    }

    fn read_batches(
        &mut self,
        after: u64,
        f: &mut dyn FnMut(StoredBatch) -> Result<()>,
    ) -> Result<()> {
        // Seqs are at most i64::MAX, so there is nothing after a larger `after`.
        let Ok(after) = i64::try_from(after) else {
            return Ok(());
        };
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {BATCH_COLUMNS} FROM journal WHERE seq > ?1 ORDER BY seq"
            ))
            .map_err(|e| sql_error("reading the journal", e))?;
        // One row at a time: history is never all in memory. Outside an append, the statement
        // reads one consistent snapshot of the file (its own read transaction).
        let mut rows = stmt
            .query([after])
            .map_err(|e| sql_error("reading the journal", e))?;
        while let Some(row) = rows
            .next()
            .map_err(|e| sql_error("reading the journal", e))?
        {
            f(batch_from_row(row)?)?;
        }
        Ok(())
    }

    fn read_batch(&mut self, seq: u64) -> Result<Option<StoredBatch>> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {BATCH_COLUMNS} FROM journal WHERE seq = ?1"
            ))
            .map_err(|e| sql_error("reading the journal", e))?;
        let mut rows = stmt
            .query([seq])
            .map_err(|e| sql_error("reading the journal", e))?;
        match rows
            .next()
            .map_err(|e| sql_error("reading the journal", e))?
        {
            Some(row) => batch_from_row(row).map(Some),
            None => Ok(None),
        }
    }

    fn begin_append(&mut self) -> Result<Head> {
        self.writable("begin_append")?;
        if self.append.is_some() {
            return Err(StoreError::Backend(
                "sqlite: begin_append called while an append is open".into(),
            ));
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseBusy) => StoreError::Backend(format!(
                "sqlite: {}: another writer held the write lock for longer than the busy timeout",
                self.path.display()
            )),
                _ => sql_error("taking the write lock", e),
            })?;
        match self.read_head() {
            Ok(head) => {
                self.append = Some(head);
                Ok(head)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn commit_append(&mut self, batch: &StoredBatch, derived: Option<&Derived>) -> Result<()> {
        let Some(head) = self.append else {
            return Err(StoreError::Backend(
                "sqlite: commit_append without begin_append".into(),
            ));
        };
        if batch.seq != head.seq + 1 || batch.prev_hash != head.hash {
            self.rollback();
            return Err(StoreError::Conflict {
                expected: batch.seq.saturating_sub(1),
                actual: head.seq,
            });
        }
        debug_assert_eq!(
            batch.expected_hash(),
            batch.hash,
            "batch {} is sealed with its hash",
            batch.seq
        );
        let writing = Instant::now();
        let written = self.write_batch(batch).and_then(|()| match derived {
            Some(d) => self
                .write_transfer_lines(&d.transfer_lines)
                .and_then(|()| self.advance_transfer_lines(batch.seq)),
            // The trigger carried the anchor's transfer_lines_seq over: it stays behind.
            None => Ok(()),
        });
        if let Err(e) = written {
            self.rollback();
            return Err(e);
        }
        let committing = Instant::now();
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.rollback();
            return Err(sql_error(&format!("committing batch {}", batch.seq), e));
        }
        self.append = None;
        self.last_commit = Some(CommitProfile {
            journal_insert: committing - writing,
            commit: committing.elapsed(),
        });
        Ok(())
    }

    fn commit_derived(&mut self, derived: &Derived) -> Result<()> {
        let Some(head) = self.append else {
            return Err(StoreError::Backend(
                "sqlite: commit_derived without begin_append".into(),
            ));
        };
        if let Err(e) = self.replace_transfer_lines(head, &derived.transfer_lines) {
            self.rollback();
            return Err(e);
        }
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            self.rollback();
            return Err(sql_error("committing the transfer lines", e));
        }
        self.append = None;
        Ok(())
    }

    fn abort_append(&mut self) -> Result<()> {
        if self.append.is_none() {
            return Err(StoreError::Backend(
                "sqlite: abort_append without begin_append".into(),
            ));
        }
        self.append = None;
        self.conn
            .execute_batch("ROLLBACK")
            .map_err(|e| sql_error("rolling back", e))
    }

    fn load_snapshot(&mut self) -> Result<Option<Snapshot>> {
        // The row and its blob must come from the same version of the file.
        let own_transaction = self.conn.is_autocommit();
        if own_transaction {
            self.conn
                .execute_batch("BEGIN")
                .map_err(|e| sql_error("reading the snapshot", e))?;
        }
        let loaded = self.read_snapshot();
        if own_transaction {
            // A read transaction: ending it cannot lose anything.
            let _ = self.conn.execute_batch("COMMIT");
        }
        loaded
    }

    fn save_snapshot(&mut self, snapshot: &Snapshot, balances: &[BalanceRow]) -> Result<()> {
        self.writable("save_snapshot")?;
        if self.append.is_some() {
            return Err(StoreError::Backend(
                "sqlite: save_snapshot called while an append is open".into(),
            ));
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| sql_error("saving the snapshot", e))?;
        let written = self
            .write_snapshot(snapshot)
            .and_then(|()| self.write_balances_base(snapshot.seq, balances));
        match written {
            Ok(()) => self.conn.execute_batch("COMMIT").map_err(|e| {
                let e = sql_error("committing the snapshot", e);
                self.rollback();
                e
            }),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn anchor(&mut self) -> Result<Head> {
        let row = self
            .conn
            .prepare_cached("SELECT seq, hash FROM anchor WHERE id = 1")
            .and_then(|mut stmt| {
                stmt.query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
                    .optional()
            })
            .map_err(|e| sql_error("reading the anchor", e))?;
        match row {
            None => Ok(Head::default()),
            Some((seq, hash)) => Ok(Head {
                seq: seq_from_sql(seq)?,
                hash: hash_from_sql("anchor hash", &hash)?,
            }),
        }
    }

    fn read_balances(&mut self) -> Result<Vec<BalanceRow>> {
        let mut stmt = self
            .conn
            // `lot` is NULL in the view when absent (it was '' before schema version 2, which a
            // read-only open reads as it is).
            .prepare_cached(
                "SELECT holder, item, coalesce(lot, '') AS lot, qty FROM balances \
                 ORDER BY holder, item, coalesce(lot, '')",
            )
            .map_err(|e| sql_error("reading balances", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(BalanceRow {
                    holder: r.get(0)?,
                    item: r.get(1)?,
                    lot: r.get(2)?,
                    qty: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| sql_error("reading balances", e))?;
        Ok(rows)
    }

    fn mode(&self) -> OpenMode {
        self.mode
    }

    fn derived_state(&mut self) -> Result<DerivedState> {
        if self.schema_version < schema::DERIVED_FROM {
            return Ok(DerivedState::Absent);
        }
        let row = self
            .conn
            .prepare_cached("SELECT seq, transfer_lines_seq FROM anchor WHERE id = 1")
            .and_then(|mut stmt| {
                stmt.query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                    .optional()
            })
            .map_err(|e| sql_error("reading the transfer lines' batch", e))?;
        Ok(match row {
            // No batch yet: nothing to derive.
            None => DerivedState::Current,
            Some((seq, at)) if seq == at => DerivedState::Current,
            Some((_, at)) => DerivedState::Stale {
                at: seq_from_sql(at)?,
            },
        })
    }

    fn read_transfer_lines(&mut self) -> Result<Vec<TransferLineRow>> {
        if self.schema_version < schema::DERIVED_FROM {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT transfer, item, donor, recipient, line_qty, committed, cancelled, \
                 allocated, dispatched, delivered, in_transit FROM transfer_lines \
                 ORDER BY transfer, item",
            )
            .map_err(|e| sql_error("reading transfer lines", e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TransferLineRow {
                    transfer: r.get(0)?,
                    item: r.get(1)?,
                    donor: r.get(2)?,
                    recipient: r.get(3)?,
                    line_qty: r.get(4)?,
                    committed: r.get(5)?,
                    cancelled: r.get(6)?,
                    allocated: r.get(7)?,
                    dispatched: r.get(8)?,
                    delivered: r.get(9)?,
                    in_transit: r.get(10)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| sql_error("reading transfer lines", e))?;
        Ok(rows)
    }
}

/// The snapshot row has id 1; its bytes are read and written with incremental blob I/O, so a
/// snapshot of hundreds of MB is never copied into SQLite's memory as one value.
const SNAPSHOT_ROWID: i64 = 1;

/// Blob I/O moves snapshots in pieces of this size.
const SNAPSHOT_CHUNK_BYTES: usize = 4 << 20;

impl SqliteStore {
    fn read_snapshot(&mut self) -> Result<Option<Snapshot>> {
        let doing = |e| sql_error("reading the snapshot", e);
        let row = self
            .conn
            .query_row(
                "SELECT seq, head_hash, checksum, len FROM snapshot WHERE id = ?1",
                [SNAPSHOT_ROWID],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(doing)?;
        let Some((seq, head_hash, checksum, len)) = row else {
            return Ok(None);
        };
        let in_snapshot = |e: StoreError| match e {
            StoreError::Format(m) => StoreError::Format(format!("snapshot: {m}")),
            e => e,
        };
        let parts: Vec<i64> = self
            .conn
            .prepare_cached("SELECT no FROM snapshot_part ORDER BY no")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
            .map_err(doing)?;
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        for (i, no) in parts.into_iter().enumerate() {
            if no != i as i64 {
                return Err(StoreError::Format(format!("snapshot: part {i} is missing")));
            }
            let mut blob = self
                .conn
                .blob_open(DatabaseName::Main, "snapshot_part", "bytes", no, true)
                .map_err(doing)?;
            blob.read_to_end(&mut bytes)
                .map_err(|e| StoreError::Backend(format!("sqlite: reading the snapshot: {e}")))?;
        }
        if bytes.len() as i64 != len {
            return Err(StoreError::Format(format!(
                "snapshot: {} bytes stored for a snapshot of {len}",
                bytes.len()
            )));
        }
        Ok(Some(Snapshot {
            seq: seq_from_sql(seq).map_err(in_snapshot)?,
            head_hash: hash_from_sql("head_hash", &head_hash).map_err(in_snapshot)?,
            checksum: hash_from_sql("checksum", &checksum).map_err(in_snapshot)?,
            bytes,
        }))
    }

    fn write_snapshot(&mut self, snapshot: &Snapshot) -> Result<()> {
        let doing = |e| sql_error("saving the snapshot", e);
        self.conn
            .execute(
                "INSERT INTO snapshot (id, seq, head_hash, checksum, len) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, head_hash = excluded.head_hash, \
                 checksum = excluded.checksum, len = excluded.len",
                params![
                    SNAPSHOT_ROWID,
                    seq_to_sql(snapshot.seq)?,
                    &snapshot.head_hash.0[..],
                    &snapshot.checksum.0[..],
                    snapshot.bytes.len() as i64,
                ],
            )
            .map_err(doing)?;
        self.conn
            .execute("DELETE FROM snapshot_part", [])
            .map_err(doing)?;
        let parts: Vec<&[u8]> = if snapshot.bytes.is_empty() {
            vec![&[][..]]
        } else {
            snapshot.bytes.chunks(self.snapshot_part_bytes).collect()
        };
        for (no, part) in parts.into_iter().enumerate() {
            self.conn
                .execute(
                    "INSERT INTO snapshot_part (no, bytes) VALUES (?1, zeroblob(?2))",
                    params![no as i64, part.len() as i64],
                )
                .map_err(doing)?;
            let mut blob = self
                .conn
                .blob_open(
                    DatabaseName::Main,
                    "snapshot_part",
                    "bytes",
                    no as i64,
                    false,
                )
                .map_err(doing)?;
            for chunk in part.chunks(SNAPSHOT_CHUNK_BYTES) {
                blob.write_all(chunk).map_err(|e| {
                    StoreError::Backend(format!("sqlite: saving the snapshot: {e}"))
                })?;
            }
        }
        Ok(())
    }
}
