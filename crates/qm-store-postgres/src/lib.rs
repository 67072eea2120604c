//! The server backend: the journal, snapshots and analysts' tables in PostgreSQL, shared by
//! any number of Quartermaster processes.
//!
//! [`PgStore`] implements [`qm_store::Store`] over one connection of the synchronous
//! `postgres` client. How it connects depends on the [`OpenMode`]: `Create` applies the
//! schema's migrations ([`SCHEMA_VERSION`]) to any database, creating the schema in an empty
//! one; `ReadWrite` does so only where a ledger's schema is already there; `ReadOnly` changes
//! nothing (no migration), runs every transaction of its session read-only (so it also works
//! on a hot standby), and refuses to append or snapshot.
//!
//! # Appending across processes
//! [`Store::begin_append`] opens a transaction and takes a transaction-scoped advisory lock
//! (one key per database), then reads the head: writers in every process queue there. The
//! caller catches up with [`Store::read_batches`] (inside the same transaction) and
//! [`Store::commit_append`] checks that the batch follows the head (else
//! [`StoreError::Conflict`]), inserts the journal row, writes the lines of the transfers the
//! batch touched (one statement; none for a batch of plain movements), moves the anchor and
//! the batch the transfer lines are exact after, sends `NOTIFY qm_journal, '<seq>'` and
//! commits, with `synchronous_commit` on: durable when it returns. No balance row is written
//! per batch (see the `balances` view below). The lock is
//! released by the commit or the rollback, and by the server if the connection dies, so a
//! crashed writer never blocks the others. Behind the lock, the primary key on `seq` and an
//! insert trigger refuse any row that does not extend the chain, whoever writes it.
//!
//! A lost connection surfaces as [`StoreError::Backend`]. Before `COMMIT` was sent nothing was
//! written (the batch is one transaction). If the connection is lost *during* `COMMIT`, the
//! outcome is unknown to this process: a new connection tells, as the batch is in the journal
//! with its hash or it is not.
//!
//! # Schema (internal: may change between versions; read the views)
//! - `qm_meta(id, schema_version)`: one row.
//! - `qm_journal(seq BIGINT PRIMARY KEY, recorded_at BIGINT, recorded_by TEXT, records BIGINT,
//!   body TEXT, prev_hash BYTEA, hash BYTEA)`: append-only (triggers refuse `UPDATE`, `DELETE`
//!   and `TRUNCATE`; the hash chain exposes anyone who disables them). Bodies compress with lz4.
//! - `qm_anchor(id, seq, hash)`: one row, the head recorded apart from the journal rows in
//!   each append's transaction ([`Store::anchor`]), so `verify` notices batches removed from
//!   the end; a trigger lets it move only to the next batch.
//! - `qm_balances(holder, item, lot, qty)` and `qm_balances_base(seq)`: the non-zero balances
//!   after batch `qm_balances_base.seq` (`lot` empty when not lot-tracked), replaced whole
//!   with each snapshot, in the snapshot's transaction; no index (read whole by the view).
//! - `qm_snapshot(id, seq, head_hash, checksum, len, chunks)` (one row) and
//!   `qm_snapshot_chunk(no, bytes)`: the newest snapshot, in chunks of
//!   [`PgConfig::snapshot_chunk_bytes`].
//! - `qm_transfer_lines(transfer, item, donor, recipient, line_qty, committed, cancelled,
//!   allocated, dispatched, delivered, in_transit)` and `qm_transfer_lines_at(seq)`: every
//!   transfer line's figures, written by the application with each commit (the lines of the
//!   transfers the batch touched), exact after batch `qm_transfer_lines_at.seq`, which a
//!   commit moves only when it brought its rows; a batch appended without them (a copy, a
//!   writer of an older version) leaves it behind, and the application rewrites the table.
//!
//! # Views for analysts (stable: columns may be added at the end, never renamed or removed)
//! The same columns, types and values as the embedded backend's (checked by
//! `qm_store::conformance::views`): times are RFC 3339 UTC text with nine fractional digits
//! (`2025-07-04T12:00:00.000000000Z`: a `timestamptz` keeps only microseconds), which sorts
//! in time order; cast with `::timestamptz` to compute with them.
//! - `movements(batch BIGINT, recorded_at TEXT, recorded_by TEXT, id TEXT, time TEXT,
//!   item TEXT, qty BIGINT, from_holder TEXT, to_holder TEXT, lot TEXT, serials TEXT,
//!   kind TEXT, transfer TEXT, note TEXT)`: every movement record, expanded from the journal
//!   bodies on each query (filter on `batch` to read part of the history). Absent fields are
//!   NULL; `serials` is the record's JSON array (`serials::jsonb` to take it apart).
//! - `records(batch BIGINT, line BIGINT, type TEXT, json TEXT)`: every record of every batch,
//!   `json` its canonical line (`json::jsonb ->> 'id'`).
//! - `transfers(transfer TEXT, item TEXT, movements BIGINT, qty BIGINT, first_time TEXT,
//!   last_time TEXT)`: per transfer and item.
//! - `balances(holder TEXT, item TEXT, lot TEXT, qty BIGINT)`: current non-zero balances (the
//!   base plus the batches after it); `lot` is NULL when the item is not lot-tracked.
//! - `transfer_lines(transfer TEXT, item TEXT, donor TEXT, recipient TEXT, line_qty BIGINT,
//!   committed BIGINT, cancelled BIGINT, allocated BIGINT, dispatched BIGINT,
//!   delivered BIGINT, in_transit BIGINT)`: every transfer line's figures now.
//! - `allocations(batch BIGINT, recorded_at TEXT, recorded_by TEXT, id TEXT, time TEXT,
//!   transfer TEXT, item TEXT, qty BIGINT, from_holder TEXT, lot TEXT, override_reason TEXT,
//!   override_by TEXT)`: every allocation record.
//! - `pauses(batch BIGINT, recorded_at TEXT, recorded_by TEXT, id TEXT, time TEXT,
//!   reason TEXT, "by" TEXT, items TEXT, categories TEXT, donor TEXT, recipient TEXT,
//!   transfer TEXT, review_by TEXT, resumed_at TEXT, resume_id TEXT)`: every pause record and
//!   the resume that ends it (NULL while it stands); `by` must be quoted in SQL.
//!
//! # Notifications
//! Every commit notifies channel [`NOTIFY_CHANNEL`] with the new batch's seq as payload.
//! [`PgStore::listen`] and [`PgStore::wait_for_append`] let another process wake up when the
//! journal grows, then read only the new batches with `read_batches(after)`. Listen first,
//! then catch up, then wait: a commit between the two is then never missed. (`NOTIFY` takes a
//! server-wide lock for a moment at commit: appends to ledgers in different databases of one
//! server serialise their commits, not their work.)
//!
//! Architecture invariant: this crate knows the journal's bodies only as text; it parses no
//! JSON and applies no ledger rule (the views parse bodies inside PostgreSQL, for analysts).

mod schema;

use std::str::FromStr;
use std::time::{Duration, Instant};

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row, Statement};
use qm_store::{
    BalanceRow, Derived, DerivedState, Hash, Head, OpenMode, Snapshot, Store, StoreError,
    StoredBatch, TransferLineRow, ViewRows, ViewValue,
};

pub use schema::SCHEMA_VERSION;

/// The channel every commit notifies, with the new batch's seq as payload.
pub const NOTIFY_CHANNEL: &str = "qm_journal";

/// Key of the advisory lock that serialises appends (ASCII "qmappend"). Advisory locks are
/// per database, so two ledgers in two databases of one server do not contend.
const APPEND_LOCK: i64 = 0x716d_6170_7065_6e64;

/// Key of the advisory lock that serialises snapshot writers (ASCII "qmsnapsh").
const SNAPSHOT_LOCK: i64 = 0x716d_736e_6170_7368;

/// `application_name` when the URL sets none, so operators can tell our sessions apart.
const APPLICATION_NAME: &str = "quartermaster";

/// How a [`PgStore`] behaves; [`PgConfig::default`] is what production uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// Snapshots are stored in rows of at most this many bytes: a `BYTEA` value is limited
    /// to 1 GB, and a huge value is slow to write and read and is held whole in the
    /// server's memory. Default 1 MiB: measured with `examples/snapshot_bench.rs` on a
    /// 256 MiB snapshot, 1 MiB chunks saved in 1.1-1.7 s and loaded in 0.6-0.8 s, 64 MiB
    /// chunks took 3.1-3.8 s and 1.3-1.9 s.
    pub snapshot_chunk_bytes: usize,
}

impl Default for PgConfig {
    fn default() -> PgConfig {
        PgConfig {
            snapshot_chunk_bytes: 1 << 20,
        }
    }
}

/// Where the time of the last successful [`Store::commit_append`] went, for benchmarks and
/// slow-commit diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitTimings {
    /// Checking the batch, inserting the journal row and writing the batch's transfer lines
    /// (the derived table).
    pub journal: Duration,
    /// Moving the anchor, `NOTIFY` and `COMMIT`, including the server's WAL flush.
    pub commit: Duration,
}

/// A [`Store`] on one PostgreSQL connection.
pub struct PgStore {
    /// The session. Appends, reads and notifications all go through it.
    client: Client,
    /// Statements prepared once at connect, so each call is one round trip.
    stmts: Statements,
    /// The head read by `begin_append` while an append transaction is open (holding the
    /// append lock); `None` outside one.
    append: Option<Head>,
    /// Whether this session has issued `LISTEN`, so that it is sent once.
    listening: bool,
    /// Tuning knobs given at connect (the snapshot chunk size).
    config: PgConfig,
    /// How it was opened: a read-only store refuses appends and snapshots itself (and the
    /// server refuses any write of its session).
    mode: OpenMode,
    /// The database's schema version: [`SCHEMA_VERSION`] for a writer (which migrates it),
    /// the database's own for a reader.
    schema_version: i32,
    /// The URL without its password, for messages.
    place: String,
    /// Timings of the last successful commit, for [`PgStore::last_commit_timings`].
    last_commit: CommitTimings,
}

/// The prepared statements of one session.
struct Statements {
    /// The last batch's seq and hash.
    head: Statement,
    /// Every batch after a seq, in order.
    batches_after: Statement,
    /// One batch by seq.
    batch: Statement,
    /// Inserts one journal row.
    insert_batch: Statement,
    /// Inserts the balances base, given as four parallel arrays of unique keys.
    write_balances: Statement,
    /// Every row of the `balances` view, in byte order of (holder, item, lot).
    balances: Statement,
    /// The head recorded in `qm_anchor`.
    anchor: Statement,
    /// Writes transfer lines, given as eleven parallel arrays (unique keys), each replacing
    /// the row of its (transfer, item); `None` when the schema has no such table.
    write_transfer_lines: Option<Statement>,
}

const BATCH_COLUMNS: &str = "seq, recorded_at, recorded_by, records, body, prev_hash, hash";

/// The balances base in one statement: the arrays (unique keys, from the ledger) are unnested
/// in the server into the emptied table.
const WRITE_BALANCES: &str = r#"
INSERT INTO qm_balances (holder, item, lot, qty)
SELECT holder, item, lot, qty
FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) AS t(holder, item, lot, qty)"#;

/// Transfer lines in one statement, each replacing the row of its (transfer, item): the
/// arrays (a key at most once) are unnested in the server.
const WRITE_TRANSFER_LINES: &str = r#"
INSERT INTO qm_transfer_lines (transfer, item, donor, recipient, line_qty, committed, cancelled,
                               allocated, dispatched, delivered, in_transit)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[],
                     $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[])
ON CONFLICT (transfer, item) DO UPDATE SET
    donor = EXCLUDED.donor, recipient = EXCLUDED.recipient, line_qty = EXCLUDED.line_qty,
    committed = EXCLUDED.committed, cancelled = EXCLUDED.cancelled,
    allocated = EXCLUDED.allocated, dispatched = EXCLUDED.dispatched,
    delivered = EXCLUDED.delivered, in_transit = EXCLUDED.in_transit"#;

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`, or any form the `postgres` crate
    /// accepts; TLS is not supported) as `mode` says (see the crate's documentation).
    pub fn connect(url: &str, mode: OpenMode) -> Result<PgStore, StoreError> {
        PgStore::connect_with(url, mode, PgConfig::default())
    }

    /// [`PgStore::connect`] with explicit settings.
    pub fn connect_with(
        url: &str,
        mode: OpenMode,
        config: PgConfig,
    ) -> Result<PgStore, StoreError> {
        assert!(
            config.snapshot_chunk_bytes > 0,
            "snapshot chunks must hold at least one byte"
        );
        let mut pg_config = Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("postgres: bad URL: {}", describe(&e))))?;
        if pg_config.get_application_name().is_none() {
            pg_config.application_name(APPLICATION_NAME);
        }
        if pg_config.get_connect_timeout().is_none() {
            pg_config.connect_timeout(Duration::from_secs(30));
        }
        let mut client = pg_config
            .connect(NoTls)
            .map_err(|e| backend("connecting", e))?;
        let place = redact_password(url);

        if mode.writes() {
            // Durable when commit_append returns, whatever the server's default: only `off`
            // would acknowledge before the WAL flush.
            let sync_commit: String = client
                .query_one("SELECT current_setting('synchronous_commit')", &[])
                .and_then(|row| row.try_get(0))
                .map_err(|e| backend("reading synchronous_commit", e))?;
            if sync_commit == "off" {
                client
                    .batch_execute("SET synchronous_commit = on")
                    .map_err(|e| backend("setting synchronous_commit", e))?;
            }
        } else {
            // The server itself then refuses any write of this session.
            client
                .batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .map_err(|e| backend("making the session read-only", e))?;
        }

        let schema_version = match mode {
            OpenMode::Create => {
                schema::migrate(&mut client)?;
                SCHEMA_VERSION
            }
            OpenMode::ReadWrite => {
                schema::existing_version(&mut client, &place)?;
                schema::migrate(&mut client)?;
                SCHEMA_VERSION
            }
            OpenMode::ReadOnly => {
                let version = schema::existing_version(&mut client, &place)?;
                if version < schema::READABLE_FROM {
                    return Err(StoreError::Format(format!(
                        "{place}: schema version {version} is not complete enough to read \
                         without upgrading it: connect once with a command that writes"
                    )));
                }
                version
            }
        };
        let stmts = Statements::prepare(&mut client, schema_version >= schema::DERIVED_FROM)?;
        Ok(PgStore {
            client,
            stmts,
            append: None,
            listening: false,
            config,
            mode,
            schema_version,
            place,
            last_commit: CommitTimings::default(),
        })
    }

    /// Runs one query (for the analysts' views: tests, reports) and returns its columns and
    /// rows. The views hold only NULL, integers (`bigint`, `integer`, `smallint`) and text;
    /// a column of another type is refused with [`StoreError::Format`] naming it.
    pub fn query_view(&mut self, sql: &str) -> Result<ViewRows, StoreError> {
        use postgres::types::Type;
        let doing = |e| backend(&format!("querying {sql:?}"), e);
        let stmt = self.client.prepare(sql).map_err(doing)?;
        let columns: Vec<String> = stmt.columns().iter().map(|c| c.name().to_owned()).collect();
        for c in stmt.columns() {
            if ![Type::INT8, Type::INT4, Type::INT2, Type::TEXT].contains(c.type_()) {
                return Err(StoreError::Format(format!(
                    "column {} has type {}, which the views never give",
                    c.name(),
                    c.type_()
                )));
            }
        }
        let rows = self.client.query(&stmt, &[]).map_err(doing)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut values = Vec::with_capacity(columns.len());
            for (i, c) in stmt.columns().iter().enumerate() {
                let value = match *c.type_() {
                    Type::INT8 => row
                        .try_get::<_, Option<i64>>(i)
                        .map(|v| v.map(ViewValue::Integer)),
                    Type::INT4 => row
                        .try_get::<_, Option<i32>>(i)
                        .map(|v| v.map(|n| ViewValue::Integer(n.into()))),
                    Type::INT2 => row
                        .try_get::<_, Option<i16>>(i)
                        .map(|v| v.map(|n| ViewValue::Integer(n.into()))),
                    _ => row
                        .try_get::<_, Option<String>>(i)
                        .map(|v| v.map(ViewValue::Text)),
                }
                .map_err(|e| format_error(c.name(), e))?;
                values.push(value.unwrap_or(ViewValue::Null));
            }
            out.push(values);
        }
        Ok(ViewRows { columns, rows: out })
    }

    /// Refuses a write on a read-only store before anything is sent to the server.
    fn writable(&self, what: &str) -> Result<(), StoreError> {
        if self.mode.writes() {
            Ok(())
        } else {
            Err(StoreError::Backend(format!(
                "postgres: {what}: {} is open read-only",
                self.place
            )))
        }
    }

    /// Subscribes this session to [`NOTIFY_CHANNEL`]. Notifications of commits made before
    /// this call are not delivered; [`PgStore::wait_for_append`] calls it if needed.
    pub fn listen(&mut self) -> Result<(), StoreError> {
        if !self.listening {
            self.client
                .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
                .map_err(|e| backend("LISTEN", e))?;
            self.listening = true;
        }
        Ok(())
    }

    /// Waits up to `timeout` for a commit by any session (this one included) and returns the
    /// highest seq notified since the last call, or `None` if none came in time. Returns at
    /// once when notifications are already waiting. Notifications reach a session only
    /// between its transactions, so do not wait inside an open append.
    pub fn wait_for_append(&mut self, timeout: Duration) -> Result<Option<u64>, StoreError> {
        use postgres::fallible_iterator::FallibleIterator;

        if self.append.is_some() {
            return Err(StoreError::Backend(
                "wait_for_append: an append is open on this store".into(),
            ));
        }
        self.listen()?;
        let mut newest: Option<u64> = None;
        drain_notifications(&mut self.client, &mut newest)?;
        let deadline = Instant::now() + timeout;
        while newest.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let mut notifications = self.client.notifications();
            let mut timed = notifications.timeout_iter(left);
            match timed
                .next()
                .map_err(|e| backend("waiting for notifications", e))?
            {
                Some(n) => note_append(&mut newest, &n),
                None => break,
            }
        }
        drain_notifications(&mut self.client, &mut newest)?;
        // The iterators end quietly when the server hangs up: say so.
        if self.client.is_closed() {
            return Err(StoreError::Backend(
                "postgres: waiting for notifications: connection closed".into(),
            ));
        }
        Ok(newest)
    }

    /// Where the time of the last successful [`Store::commit_append`] went.
    pub fn last_commit_timings(&self) -> CommitTimings {
        self.last_commit
    }

    fn read_head(&mut self) -> Result<Head, StoreError> {
        let row = self
            .client
            .query_opt(&self.stmts.head, &[])
            .map_err(|e| backend("reading the head", e))?;
        match row {
            None => Ok(Head::default()),
            Some(row) => {
                let seq = get_u64(&row, 0, "seq")?;
                let hash = get_hash(&row, 1, "hash", seq)?;
                Ok(Head { seq, hash })
            }
        }
    }

    /// Writes transfer lines inside the open transaction (one statement; nothing for none).
    fn write_transfer_lines(&mut self, rows: &[TransferLineRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let Some(stmt) = &self.stmts.write_transfer_lines else {
            return Err(StoreError::Format(
                "postgres: the schema has no transfer lines table".into(),
            ));
        };
        let texts = |f: fn(&TransferLineRow) -> &str| rows.iter().map(f).collect::<Vec<&str>>();
        let ints = |f: fn(&TransferLineRow) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
        let columns: (Vec<&str>, Vec<&str>, Vec<&str>, Vec<&str>) = (
            texts(|r| &r.transfer),
            texts(|r| &r.item),
            texts(|r| &r.donor),
            texts(|r| &r.recipient),
        );
        let figures = [
            ints(|r| r.line_qty),
            ints(|r| r.committed),
            ints(|r| r.cancelled),
            ints(|r| r.allocated),
            ints(|r| r.dispatched),
            ints(|r| r.delivered),
            ints(|r| r.in_transit),
        ];
        let mut params: Vec<&(dyn ToSql + Sync)> =
            vec![&columns.0, &columns.1, &columns.2, &columns.3];
        params.extend(figures.iter().map(|f| f as &(dyn ToSql + Sync)));
        self.client
            .execute(stmt, &params)
            .map(|_| ())
            .map_err(|e| backend("writing transfer lines", e))
    }

    /// The body of `commit_append`; its caller rolls back on error.
    fn commit_inner(
        &mut self,
        head: Head,
        batch: &StoredBatch,
        derived: Option<&Derived>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        if batch.seq != head.seq.wrapping_add(1) || batch.prev_hash != head.hash {
            return Err(StoreError::Conflict {
                expected: batch.seq.saturating_sub(1),
                actual: head.seq,
            });
        }
        // Assert before the write: a batch whose hash does not cover its content would make
        // the stored chain unverifiable.
        if batch.expected_hash() != batch.hash {
            return Err(StoreError::Format(format!(
                "batch {}: its hash does not match its content",
                batch.seq
            )));
        }
        let seq = to_i64(batch.seq, "seq")?;
        let records = to_i64(batch.records, "records")?;
        self.client
            .execute(
                &self.stmts.insert_batch,
                &[
                    &seq,
                    &batch.recorded_at,
                    &batch.recorded_by,
                    &records,
                    &batch.body,
                    &&batch.prev_hash.0[..],
                    &&batch.hash.0[..],
                ],
            )
            .map_err(|e| backend("inserting the batch", e))?;
        // The transfer lines are exact after this batch if they were after the one before;
        // without the batch's rows they stay behind.
        let lines_at = match derived {
            Some(d) => {
                self.write_transfer_lines(&d.transfer_lines)?;
                format!(
                    "UPDATE qm_transfer_lines_at SET seq = {seq} WHERE seq = {};",
                    seq - 1
                )
            }
            None => String::new(),
        };
        let journal_done = Instant::now();
        self.client
            .batch_execute(&format!(
                "UPDATE qm_anchor SET seq = {seq}, hash = decode('{}', 'hex'); {lines_at}
                 NOTIFY {NOTIFY_CHANNEL}, '{seq}'; COMMIT",
                batch.hash.to_hex()
            ))
            .map_err(|e| backend("committing", e))?;
        let committed = Instant::now();
        self.last_commit = CommitTimings {
            journal: journal_done - started,
            commit: committed - journal_done,
        };
        Ok(())
    }

    /// Rolls back whatever transaction is open; used on every error path. The error of the
    /// rollback itself is dropped: the first error is the one to report, and a dead
    /// connection has already rolled back.
    fn rollback_quietly(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
    }

    fn save_snapshot_inner(
        &mut self,
        snapshot: &Snapshot,
        balances: &[BalanceRow],
    ) -> Result<(), StoreError> {
        let seq = to_i64(snapshot.seq, "snapshot seq")?;
        let len = to_i64(snapshot.bytes.len() as u64, "snapshot length")?;
        // Always at least one chunk, so an empty snapshot still has a row to read back.
        let chunks: Vec<&[u8]> = if snapshot.bytes.is_empty() {
            vec![&[][..]]
        } else {
            snapshot
                .bytes
                .chunks(self.config.snapshot_chunk_bytes)
                .collect()
        };
        let chunk_count = i32::try_from(chunks.len())
            .map_err(|_| StoreError::Format("snapshot has too many chunks".into()))?;
        let fail = |e| backend("saving the snapshot", e);
        self.client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({SNAPSHOT_LOCK}); DELETE FROM qm_snapshot_chunk;"
            ))
            .map_err(fail)?;
        let insert = self
            .client
            .prepare("INSERT INTO qm_snapshot_chunk (no, bytes) VALUES ($1, $2)")
            .map_err(fail)?;
        for (no, chunk) in chunks.iter().enumerate() {
            self.client
                .execute(&insert, &[&(no as i32), chunk])
                .map_err(fail)?;
        }
        self.client
            .execute(
                "INSERT INTO qm_snapshot (id, seq, head_hash, checksum, len, chunks)
                 VALUES (TRUE, $1, $2, $3, $4, $5)
                 ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, head_hash = EXCLUDED.head_hash,
                     checksum = EXCLUDED.checksum, len = EXCLUDED.len, chunks = EXCLUDED.chunks",
                &[
                    &seq,
                    &&snapshot.head_hash.0[..],
                    &&snapshot.checksum.0[..],
                    &len,
                    &chunk_count,
                ],
            )
            .map_err(fail)?;
        let n = balances.len();
        let (mut holders, mut items, mut lots, mut qtys) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for row in balances.iter().filter(|r| r.qty != 0) {
            holders.push(row.holder.as_str());
            items.push(row.item.as_str());
            lots.push(row.lot.as_str());
            qtys.push(row.qty);
        }
        // The rows come from the ledger, unique by key: a plain insert into the emptied table
        // (which has no index to maintain).
        self.client
            .batch_execute("TRUNCATE qm_balances")
            .map_err(fail)?;
        self.client
            .execute(
                &self.stmts.write_balances,
                &[&holders, &items, &lots, &qtys],
            )
            .map_err(fail)?;
        self.client
            .execute("UPDATE qm_balances_base SET seq = $1", &[&seq])
            .map_err(fail)?;
        self.client.batch_execute("COMMIT").map_err(fail)
    }
}

impl Statements {
    /// Prepares the session's statements; those of the derived tables only when the schema
    /// has them (`derived`).
    fn prepare(client: &mut Client, derived: bool) -> Result<Statements, StoreError> {
        let mut prepare = |sql: &str| {
            client
                .prepare(sql)
                .map_err(|e| backend("preparing statements", e))
        };
        Ok(Statements {
            head: prepare("SELECT seq, hash FROM qm_journal ORDER BY seq DESC LIMIT 1")?,
            batches_after: prepare(&format!(
                "SELECT {BATCH_COLUMNS} FROM qm_journal WHERE seq > $1 ORDER BY seq"
            ))?,
            batch: prepare(&format!(
                "SELECT {BATCH_COLUMNS} FROM qm_journal WHERE seq = $1"
            ))?,
            insert_batch: prepare(&format!(
                "INSERT INTO qm_journal ({BATCH_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ))?,
            write_balances: prepare(WRITE_BALANCES)?,
            balances: prepare(
                "SELECT holder, item, COALESCE(lot, '') AS l, qty FROM balances \
                 ORDER BY holder COLLATE \"C\", item COLLATE \"C\", COALESCE(lot, '') COLLATE \"C\"",
            )?,
            anchor: prepare("SELECT seq, hash FROM qm_anchor")?,
            write_transfer_lines: match derived {
                true => Some(prepare(WRITE_TRANSFER_LINES)?),
                false => None,
            },
        })
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn head(&mut self) -> Result<Head, StoreError> {
        self.read_head()
    }

    fn read_batches(
        &mut self,
        after: u64,
        f: &mut dyn FnMut(StoredBatch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let Ok(after) = i64::try_from(after) else {
            return Ok(()); // No batch has a seq above i64::MAX.
        };
        // Rows stream: the client reads the socket only as fast as `f` consumes batches, so
        // a long history is never held in memory. One statement: one consistent snapshot.
        let mut rows = self
            .client
            .query_raw(&self.stmts.batches_after, [&after as &(dyn ToSql + Sync)])
            .map_err(|e| backend("reading batches", e))?;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(row) = rows.next().map_err(|e| backend("reading batches", e))? {
            f(batch_from_row(&row)?)?;
        }
        Ok(())
    }

    fn read_batch(&mut self, seq: u64) -> Result<Option<StoredBatch>, StoreError> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let row = self
            .client
            .query_opt(&self.stmts.batch, &[&seq])
            .map_err(|e| backend("reading a batch", e))?;
        row.map(|row| batch_from_row(&row)).transpose()
    }

    fn begin_append(&mut self) -> Result<Head, StoreError> {
        self.writable("begin_append")?;
        if self.append.is_some() {
            return Err(StoreError::Backend(
                "begin_append: an append is already open on this store".into(),
            ));
        }
        // READ COMMITTED: the head is read by a statement that starts after the lock is
        // granted, so it sees the commit of the writer that held it before.
        let locked = self
            .client
            .batch_execute(&format!(
                "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({APPEND_LOCK})"
            ))
            .map_err(|e| backend("taking the append lock", e));
        let head = locked.and_then(|()| self.read_head());
        match head {
            Ok(head) => {
                self.append = Some(head);
                Ok(head)
            }
            Err(e) => {
                self.rollback_quietly();
                Err(e)
            }
        }
    }

    fn commit_append(
        &mut self,
        batch: &StoredBatch,
        derived: Option<&Derived>,
    ) -> Result<(), StoreError> {
        let Some(head) = self.append.take() else {
            return Err(StoreError::Backend(
                "commit_append without begin_append".into(),
            ));
        };
        let result = self.commit_inner(head, batch, derived);
        if result.is_err() {
            self.rollback_quietly();
        }
        result
    }

    fn commit_derived(&mut self, derived: &Derived) -> Result<(), StoreError> {
        let Some(head) = self.append.take() else {
            return Err(StoreError::Backend(
                "commit_derived without begin_append".into(),
            ));
        };
        let result = (|| {
            let seq = to_i64(head.seq, "seq")?;
            self.client
                .batch_execute("DELETE FROM qm_transfer_lines")
                .map_err(|e| backend("replacing the transfer lines", e))?;
            self.write_transfer_lines(&derived.transfer_lines)?;
            self.client
                .batch_execute(&format!(
                    "UPDATE qm_transfer_lines_at SET seq = {seq}; COMMIT"
                ))
                .map_err(|e| backend("committing the transfer lines", e))
        })();
        if result.is_err() {
            self.rollback_quietly();
        }
        result
    }

    fn abort_append(&mut self) -> Result<(), StoreError> {
        if self.append.take().is_none() {
            return Ok(());
        }
        self.client
            .batch_execute("ROLLBACK")
            .map_err(|e| backend("aborting the append", e))
    }

    fn load_snapshot(&mut self) -> Result<Option<Snapshot>, StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let fail = |e| backend("loading the snapshot", e);
        // One statement, so header and chunks come from one consistent view even while
        // another process replaces the snapshot; chunks stream one at a time.
        let mut rows = self
            .client
            .query_raw(
                "SELECT s.seq, s.head_hash, s.checksum, s.len, s.chunks, c.no, c.bytes
                 FROM qm_snapshot s JOIN qm_snapshot_chunk c ON TRUE
                 ORDER BY c.no",
                std::iter::empty::<&(dyn ToSql + Sync)>(),
            )
            .map_err(fail)?;
        // The header's (len, chunks) and the snapshot being assembled, from the first row.
        let mut header: Option<(u64, i32)> = None;
        let mut snapshot: Option<Snapshot> = None;
        let mut next_chunk = 0i32;
        while let Some(row) = rows.next().map_err(fail)? {
            if snapshot.is_none() {
                let seq = get_u64(&row, 0, "snapshot seq")?;
                let head_hash = get_hash(&row, 1, "head_hash", seq)?;
                let checksum = get_hash(&row, 2, "checksum", seq)?;
                let len = get_u64(&row, 3, "snapshot len")?;
                let chunks: i32 = row
                    .try_get(4)
                    .map_err(|e| format_error("snapshot chunks", e))?;
                let capacity = usize::try_from(len).map_err(|_| {
                    StoreError::Format(format!("snapshot of {len} bytes does not fit in memory"))
                })?;
                header = Some((len, chunks));
                snapshot = Some(Snapshot {
                    seq,
                    head_hash,
                    checksum,
                    bytes: Vec::with_capacity(capacity),
                });
            }
            let snap = snapshot.as_mut().expect("set from the first row");
            let no: i32 = row
                .try_get(5)
                .map_err(|e| format_error("snapshot chunk number", e))?;
            let bytes: &[u8] = row
                .try_get(6)
                .map_err(|e| format_error("snapshot chunk", e))?;
            if no != next_chunk {
                return Err(StoreError::Format(format!(
                    "snapshot chunk {next_chunk} is missing"
                )));
            }
            next_chunk += 1;
            snap.bytes.extend_from_slice(bytes);
        }
        let (Some(snap), Some((len, chunks))) = (snapshot, header) else {
            return Ok(None);
        };
        if next_chunk != chunks || snap.bytes.len() as u64 != len {
            return Err(StoreError::Format(format!(
                "snapshot at batch {}: {} of {chunks} chunks, {} of {len} bytes",
                snap.seq,
                next_chunk,
                snap.bytes.len()
            )));
        }
        // Assert on read what was asserted on write.
        if qm_store::snapshot_checksum(snap.seq, snap.head_hash, &snap.bytes) != snap.checksum {
            return Err(StoreError::Format(format!(
                "snapshot at batch {}: checksum mismatch",
                snap.seq
            )));
        }
        Ok(Some(snap))
    }

    fn save_snapshot(
        &mut self,
        snapshot: &Snapshot,
        balances: &[BalanceRow],
    ) -> Result<(), StoreError> {
        self.writable("save_snapshot")?;
        if self.append.is_some() {
            return Err(StoreError::Backend(
                "save_snapshot: an append is open on this store".into(),
            ));
        }
        if qm_store::snapshot_checksum(snapshot.seq, snapshot.head_hash, &snapshot.bytes)
            != snapshot.checksum
        {
            return Err(StoreError::Format(format!(
                "snapshot at batch {}: its checksum does not match its bytes",
                snapshot.seq
            )));
        }
        let result = self.save_snapshot_inner(snapshot, balances);
        if result.is_err() {
            self.rollback_quietly();
        }
        result
    }

    fn wait_for_batches(&mut self, after: u64, timeout: Duration) -> Result<Head, StoreError> {
        // LISTEN before looking at the head, so that no commit falls between the two.
        self.listen()?;
        let deadline = Instant::now() + timeout;
        loop {
            let head = self.read_head()?;
            let left = deadline.saturating_duration_since(Instant::now());
            if head.seq > after || left.is_zero() {
                return Ok(head);
            }
            self.wait_for_append(left)?;
        }
    }

    fn anchor(&mut self) -> Result<Head, StoreError> {
        let row = self
            .client
            .query_one(&self.stmts.anchor, &[])
            .map_err(|e| backend("reading the anchor", e))?;
        let seq = get_u64(&row, 0, "anchor seq")?;
        let hash = get_hash(&row, 1, "anchor hash", seq)?;
        Ok(Head { seq, hash })
    }

    fn read_balances(&mut self) -> Result<Vec<BalanceRow>, StoreError> {
        let rows = self
            .client
            .query(&self.stmts.balances, &[])
            .map_err(|e| backend("reading balances", e))?;
        rows.iter()
            .map(|row| {
                Ok(BalanceRow {
                    holder: row
                        .try_get(0)
                        .map_err(|e| format_error("balances holder", e))?,
                    item: row
                        .try_get(1)
                        .map_err(|e| format_error("balances item", e))?,
                    lot: row
                        .try_get(2)
                        .map_err(|e| format_error("balances lot", e))?,
                    qty: row
                        .try_get(3)
                        .map_err(|e| format_error("balances qty", e))?,
                })
            })
            .collect()
    }

    fn mode(&self) -> OpenMode {
        self.mode
    }

    fn derived_state(&mut self) -> Result<DerivedState, StoreError> {
        if self.schema_version < schema::DERIVED_FROM {
            return Ok(DerivedState::Absent);
        }
        let row = self
            .client
            .query_one(
                "SELECT a.seq, t.seq FROM qm_anchor a, qm_transfer_lines_at t",
                &[],
            )
            .map_err(|e| backend("reading the transfer lines' batch", e))?;
        let head = get_u64(&row, 0, "anchor seq")?;
        let at = get_u64(&row, 1, "transfer lines seq")?;
        Ok(if head == at {
            DerivedState::Current
        } else {
            DerivedState::Stale { at }
        })
    }

    fn read_transfer_lines(&mut self) -> Result<Vec<TransferLineRow>, StoreError> {
        if self.schema_version < schema::DERIVED_FROM {
            return Ok(Vec::new());
        }
        let rows = self
            .client
            .query(
                "SELECT transfer, item, donor, recipient, line_qty, committed, cancelled, \
                 allocated, dispatched, delivered, in_transit FROM transfer_lines \
                 ORDER BY transfer COLLATE \"C\", item COLLATE \"C\"",
                &[],
            )
            .map_err(|e| backend("reading transfer lines", e))?;
        rows.iter()
            .map(|row| {
                let text = |i: usize| -> Result<String, StoreError> {
                    row.try_get(i)
                        .map_err(|e| format_error("transfer lines", e))
                };
                let int = |i: usize| -> Result<i64, StoreError> {
                    row.try_get(i)
                        .map_err(|e| format_error("transfer lines", e))
                };
                Ok(TransferLineRow {
                    transfer: text(0)?,
                    item: text(1)?,
                    donor: text(2)?,
                    recipient: text(3)?,
                    line_qty: int(4)?,
                    committed: int(5)?,
                    cancelled: int(6)?,
                    allocated: int(7)?,
                    dispatched: int(8)?,
                    delivered: int(9)?,
                    in_transit: int(10)?,
                })
            })
            .collect()
    }
}

/// Test support, not for production: appends `batch` to the journal with plain SQL, as a
/// Quartermaster of an older schema would have (the journal table has not changed), moving
/// the anchor as it did, so that tests can check what a newer one makes of it.
#[doc(hidden)]
pub fn append_as_older_writer(client: &mut Client, batch: &StoredBatch) -> Result<(), StoreError> {
    let fail = |e: postgres::Error| {
        StoreError::Backend(format!(
            "postgres: appending as an older writer: {}",
            describe(&e)
        ))
    };
    client
        .execute(
            "INSERT INTO qm_journal (seq, recorded_at, recorded_by, records, body, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &(batch.seq as i64),
                &batch.recorded_at,
                &batch.recorded_by,
                &(batch.records as i64),
                &batch.body,
                &&batch.prev_hash.0[..],
                &&batch.hash.0[..],
            ],
        )
        .map_err(fail)?;
    client
        .execute(
            "UPDATE qm_anchor SET seq = $1, hash = $2",
            &[&(batch.seq as i64), &&batch.hash.0[..]],
        )
        .map_err(fail)?;
    Ok(())
}

/// Test support, not for production: connects to `url` and applies the released migrations up
/// to `version` only, leaving the database as a Quartermaster of that schema version would,
/// so that tests can check the upgrade from it.
#[doc(hidden)]
pub fn migrate_to_older_version(url: &str, version: i32) -> Result<(), StoreError> {
    assert!(
        (1..=SCHEMA_VERSION).contains(&version),
        "no schema version {version}"
    );
    let mut client = Config::from_str(url)
        .and_then(|c| c.connect(NoTls))
        .map_err(|e| backend("connecting", e))?;
    schema::migrate_until(&mut client, version)
}

/// Folds every notification already received (or readable without waiting) into `newest`.
fn drain_notifications(client: &mut Client, newest: &mut Option<u64>) -> Result<(), StoreError> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut notifications = client.notifications();
    let mut waiting = notifications.iter();
    while let Some(n) = waiting
        .next()
        .map_err(|e| backend("reading notifications", e))?
    {
        note_append(newest, &n);
    }
    Ok(())
}

/// Folds one notification into the highest seq seen. Anyone may NOTIFY the channel: a
/// payload that is not a seq is ignored.
fn note_append(newest: &mut Option<u64>, n: &postgres::Notification) {
    if n.channel() == NOTIFY_CHANNEL {
        if let Ok(seq) = n.payload().parse::<u64>() {
            *newest = Some(newest.map_or(seq, |s| s.max(seq)));
        }
    }
}

fn batch_from_row(row: &Row) -> Result<StoredBatch, StoreError> {
    let seq = get_u64(row, 0, "seq")?;
    let column = |what: &str| format!("batch {seq}: {what}");
    Ok(StoredBatch {
        seq,
        recorded_at: row
            .try_get(1)
            .map_err(|e| format_error(&column("recorded_at"), e))?,
        recorded_by: row
            .try_get(2)
            .map_err(|e| format_error(&column("recorded_by"), e))?,
        records: get_u64(row, 3, &column("records"))?,
        body: row
            .try_get(4)
            .map_err(|e| format_error(&column("body"), e))?,
        prev_hash: get_hash(row, 5, "prev_hash", seq)?,
        hash: get_hash(row, 6, "hash", seq)?,
    })
}

fn get_u64(row: &Row, idx: usize, what: &str) -> Result<u64, StoreError> {
    let v: i64 = row.try_get(idx).map_err(|e| format_error(what, e))?;
    u64::try_from(v).map_err(|_| StoreError::Format(format!("{what} is negative: {v}")))
}

fn get_hash(row: &Row, idx: usize, what: &str, seq: u64) -> Result<Hash, StoreError> {
    let bytes: &[u8] = row.try_get(idx).map_err(|e| format_error(what, e))?;
    Hash::from_slice(bytes).ok_or_else(|| {
        StoreError::Format(format!(
            "batch {seq}: {what} has {} bytes, not 32",
            bytes.len()
        ))
    })
}

fn to_i64(v: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::Format(format!("{what} {v} does not fit in a BIGINT")))
}

/// `url` without its password (`postgres://user:secret@host/db` becomes
/// `postgres://user:***@host/db`), for messages.
fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?'])
        .map_or(url.len(), |i| scheme_end + i);
    let authority = &url[scheme_end..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &url[..scheme_end],
                &authority[..colon],
                &url[scheme_end + at..]
            ),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn backend(what: &str, e: postgres::Error) -> StoreError {
    StoreError::Backend(format!("postgres: {what}: {}", describe(&e)))
}

fn format_error(what: &str, e: postgres::Error) -> StoreError {
    StoreError::Format(format!("postgres: reading {what}: {}", describe(&e)))
}

/// An error with what the server said (its SQLSTATE, message and detail) or the chain of
/// causes: the `postgres` crate's own message is only "db error" or "error communicating".
pub(crate) fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{db} (SQLSTATE {})", db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
