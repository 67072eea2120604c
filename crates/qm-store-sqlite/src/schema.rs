//! The on-disk format: the schema of one Quartermaster SQLite file, its versions and
//! migrations, and the checks made when a file is opened.
//!
//! Format invariants (each is relied on by `lib.rs` and checked by the integration tests):
//! - `meta.schema_version` says which schema the file has. A file written by a newer version
//!   of this crate is refused with [`StoreError::Format`], never half-read. An older one is
//!   upgraded by a writer ([`ensure_schema`], one transaction) and read as it is by a
//!   read-only open, which writes nothing: every version from [`READABLE_FROM`] on has the
//!   tables this code reads, and a table a later version added is simply not there (version
//!   3's `transfer_line_figures`: the store reports the derived tables absent).
//! - Migrations are append-only: a released step is never edited, a change is a new step.
//!   A new file is made by running every step, so it is exactly an upgraded old one.
//! - `journal` is append-only and gap-free: triggers refuse UPDATE and DELETE, and refuse an
//!   INSERT that does not follow the last row (`seq = last seq + 1`, `prev_hash = last hash`).
//!   This stops casual edits with an SQL tool; tampering by someone who drops the triggers is
//!   caught by `qm verify`, which recomputes the hash chain.
//! - `anchor` holds the head as of the last append, written by a trigger on every journal
//!   insert: `verify` compares it with the journal's last row.
//! - `snapshot`, `balances_base` and `meta.balances_base_seq` are derived data, replaced
//!   together in one transaction: the base holds the balances as of the snapshot's batch, and
//!   the `balances` view adds the movements of the journal after it.
//! - `transfer_line_figures` (version 3) holds every transfer line's figures, written by the
//!   application in the transaction of each commit (the rows of the transfers the batch
//!   touched) and `anchor.transfer_lines_seq` says after which batch it is exact: the journal
//!   trigger carries it over to each new anchor row, and the store moves it to the new batch
//!   only when the commit brought the rows, so a batch written without them (a copy, a
//!   writer of an older version) leaves it behind, and the application rewrites the table.
//! - The schema uses only SQL that SQLite 3.9 (2015) can parse (no STRICT tables, no `->>`),
//!   so analysts with old SQLite tools can still open the file: an unparseable view would make
//!   the whole schema unreadable to them.

use qm_store::{Result, StoreError};
use rusqlite::{Connection, OptionalExtension};

/// The schema version this code writes and reads: the version of the last migration. Bump
/// it, and add a step to [`MIGRATIONS`], whenever the format changes.
pub const SCHEMA_VERSION: i64 = 3;

/// The first schema version with the derived tables (`transfer_line_figures`).
pub const DERIVED_FROM: i64 = 3;

/// The oldest schema a read-only open reads as it is (it cannot upgrade it). Raise it when a
/// migration changes a table this code reads, not only the views.
pub const READABLE_FROM: i64 = 1;

/// `PRAGMA application_id` of a Quartermaster file (ASCII "QMLD"), so `file(1)` and this code
/// can tell it from other SQLite databases.
pub const APPLICATION_ID: i32 = 0x514D_4C44;

/// The steps of the schema's history: (the version a step brings the file to, its SQL).
const MIGRATIONS: [(i64, &str); 3] = [(1, SCHEMA_V1), (2, VIEWS_V2), (3, WORKFLOW_V3)];

/// Schema version 1: the tables, the journal's guards and the first views. Released: never
/// edited (a new file runs it, then every later step).
const SCHEMA_V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value NOT NULL
) WITHOUT ROWID;

-- The truth: one row per committed batch, hash-chained. `body` is the batch's canonical
-- interchange lines (JSON Lines, each line ending in a newline).
CREATE TABLE journal (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    recorded_at INTEGER NOT NULL,
    recorded_by TEXT    NOT NULL,
    records     INTEGER NOT NULL CHECK (records >= 0),
    body        TEXT    NOT NULL,
    prev_hash   BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash        BLOB    NOT NULL CHECK (length(hash) = 32)
);

CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'journal is append-only: its rows cannot be updated');
END;

CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'journal is append-only: its rows cannot be deleted');
END;

-- Also catches INSERT OR REPLACE, which would otherwise delete a row without firing the
-- DELETE trigger.
CREATE TRIGGER journal_append_follows_head BEFORE INSERT ON journal
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM journal)
  OR NEW.prev_hash IS NOT coalesce((SELECT hash FROM journal ORDER BY seq DESC LIMIT 1), zeroblob(32))
BEGIN
    SELECT RAISE(ABORT, 'journal is append-only: a batch must follow the last one (seq = last seq + 1, prev_hash = last hash)');
END;

-- The head, recorded apart from the journal rows by the trigger below (so in the same
-- transaction as every append), so that `qm verify` notices batches cut from the end of the
-- journal, which the hash chain alone cannot show.
CREATE TABLE anchor (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB    NOT NULL
);

CREATE TRIGGER journal_anchor AFTER INSERT ON journal
BEGIN
    INSERT OR REPLACE INTO anchor (id, seq, hash) VALUES (1, NEW.seq, NEW.hash);
END;

-- The newest snapshot of the in-memory state; one row, replaced.
CREATE TABLE snapshot (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    head_hash BLOB    NOT NULL,
    checksum  BLOB    NOT NULL,
    len       INTEGER NOT NULL
);
-- The snapshot's bytes in parts of at most 256 MiB (SQLite refuses a value over 1 GB).
CREATE TABLE snapshot_part (
    no    INTEGER PRIMARY KEY,
    bytes BLOB    NOT NULL
);

-- The balances as of batch `meta.balances_base_seq`, replaced with every snapshot: the
-- `balances` view adds the movements of the journal after it.
CREATE TABLE balances_base (
    holder TEXT    NOT NULL,
    item   TEXT    NOT NULL,
    lot    TEXT    NOT NULL,
    qty    INTEGER NOT NULL,
    PRIMARY KEY (holder, item, lot)
) WITHOUT ROWID;

-- Every record of every batch, in order: `line` is its 1-based position in the batch.
CREATE VIEW records AS
SELECT j.seq                           AS batch,
       r.key + 1                       AS line,
       json_extract(r.value, '$.type') AS type,
       r.value                         AS json
FROM journal AS j,
     json_each('[' || replace(rtrim(j.body, char(10)), char(10), ',') || ']') AS r;

-- Every movement, one row each, with the batch that recorded it.
CREATE VIEW movements AS
SELECT j.seq                               AS batch,
       j.recorded_at                       AS recorded_at,
       j.recorded_by                       AS recorded_by,
       json_extract(r.value, '$.id')       AS id,
       json_extract(r.value, '$.time')     AS time,
       json_extract(r.value, '$.item')     AS item,
       json_extract(r.value, '$.qty')      AS qty,
       json_extract(r.value, '$.from')     AS from_holder,
       json_extract(r.value, '$.to')       AS to_holder,
       json_extract(r.value, '$.lot')      AS lot,
       json_extract(r.value, '$.serials')  AS serials,
       json_extract(r.value, '$.kind')     AS kind,
       json_extract(r.value, '$.transfer') AS transfer,
       json_extract(r.value, '$.note')     AS note
FROM journal AS j,
     json_each('[' || replace(rtrim(j.body, char(10)), char(10), ',') || ']') AS r
WHERE json_extract(r.value, '$.type') = 'movement';

-- Every transfer (a movement's `transfer` field: a drawdown package, a contract), per item:
-- how many movements and how much they moved, and when the first and the last happened.
CREATE VIEW transfers AS
SELECT transfer, item, count(*) AS movements, sum(qty) AS qty,
       min(time) AS first_time, max(time) AS last_time
FROM movements
WHERE transfer IS NOT NULL
GROUP BY transfer, item;

-- The current balance of every (holder, item, lot) that is not zero: the base plus every
-- movement recorded after it (taken from its `from` holder, given to its `to` holder). `lot`
-- is '' for items that are not lot-tracked. Exact after every commit, though no balance row
-- is written per batch; it costs a pass over the journal since the last snapshot and a sort
-- of the base and that tail (SQLite does not push a WHERE on holder into the GROUP BY, so a
-- query for one key costs the same). CROSS JOIN keeps the journal in the outer loop, so each
-- batch's JSON is expanded once, not once per side.
CREATE VIEW balances AS
SELECT holder, item, lot, sum(qty) AS qty
FROM (
    SELECT holder, item, lot, qty FROM balances_base
    UNION ALL
    SELECT CASE side.sign WHEN 1 THEN m.to_holder ELSE m.from_holder END,
           m.item,
           coalesce(m.lot, ''),
           side.sign * m.qty
    FROM movements AS m
    CROSS JOIN (SELECT 1 AS sign UNION ALL SELECT -1) AS side
    WHERE m.batch > (SELECT coalesce(max(value), 0) FROM meta WHERE key = 'balances_base_seq')
)
GROUP BY holder, item, lot
HAVING sum(qty) <> 0;
"#;

/// Schema version 2: the analysts' views as on every backend (see `qm_store::conformance::views`):
/// times as RFC 3339 UTC text with nine fractional digits (the same width for every time, so
/// text order is time order: version 1 gave the record's own spelling, and `...00.5Z`
/// sorted before `...00Z`), the recorded time as such a text instead of raw nanoseconds, and
/// `balances.lot` NULL instead of '' when the item is not lot-tracked.
const VIEWS_V2: &str = r#"
DROP VIEW balances;
DROP VIEW transfers;
DROP VIEW movements;
DROP VIEW records;

-- Every record of every batch, in order: `line` is its 1-based position in the batch, `json`
-- its canonical interchange line.
CREATE VIEW records AS
SELECT j.seq                           AS batch,
       r.key + 1                       AS line,
       json_extract(r.value, '$.type') AS type,
       r.value                         AS json
FROM journal AS j,
     json_each('[' || replace(rtrim(j.body, char(10)), char(10), ',') || ']') AS r;

-- Every movement, one row each, with the batch that recorded it. `recorded_at` (the commit's
-- nanoseconds since the epoch, split towards minus infinity) and `time` are RFC 3339 UTC with
-- nine fractional digits. The journal holds canonical times (`...:SSZ`, `...:SS.fffZ`); a bare
-- date (midnight UTC) and an offset (`+02:00`) are converted too.
CREATE VIEW movements AS
SELECT batch,
       strftime('%Y-%m-%dT%H:%M:%S', (ns - ns_frac) / 1000000000, 'unixepoch')
           || '.' || printf('%09d', ns_frac) || 'Z' AS recorded_at,
       recorded_by,
       id,
       CASE
           -- Canonical, the common case: string operations only (each use of `t` extracts it
           -- from the record again, so they are few).
           WHEN substr(t, -1) IN ('Z', 'z') THEN
               replace(substr(t, 1, 19), 't', 'T') || '.'
               || substr(substr(t, 21, max(length(t) - 21, 0)) || '000000000', 1, 9)
               || 'Z'
           WHEN length(t) = 10 THEN t || 'T00:00:00.000000000Z'
           ELSE
               strftime('%Y-%m-%dT%H:%M:%S', substr(t, 1, 10) || 'T' || substr(t, 12, 8) || substr(t, -6))
               || '.'
               || substr(CASE WHEN substr(t, 20, 1) = '.' THEN substr(t, 21, length(t) - 26) ELSE '' END
                         || '000000000', 1, 9)
               || 'Z'
       END AS time,
       item,
       qty,
       from_holder,
       to_holder,
       lot,
       serials,
       kind,
       transfer,
       note
FROM (
    SELECT j.seq                                                         AS batch,
           j.recorded_at                                                 AS ns,
           ((j.recorded_at % 1000000000) + 1000000000) % 1000000000      AS ns_frac,
           j.recorded_by                                                 AS recorded_by,
           json_extract(r.value, '$.id')                                 AS id,
           json_extract(r.value, '$.time')                               AS t,
           json_extract(r.value, '$.item')                               AS item,
           json_extract(r.value, '$.qty')                                AS qty,
           json_extract(r.value, '$.from')                               AS from_holder,
           json_extract(r.value, '$.to')                                 AS to_holder,
           json_extract(r.value, '$.lot')                                AS lot,
           json_extract(r.value, '$.serials')                            AS serials,
           json_extract(r.value, '$.kind')                               AS kind,
           json_extract(r.value, '$.transfer')                           AS transfer,
           json_extract(r.value, '$.note')                               AS note
    FROM journal AS j,
         json_each('[' || replace(rtrim(j.body, char(10)), char(10), ',') || ']') AS r
    WHERE json_extract(r.value, '$.type') = 'movement'
);

-- Every transfer (a movement's `transfer` field: a drawdown package, a contract), per item:
-- how many movements and how much they moved, and when the first and the last happened.
CREATE VIEW transfers AS
SELECT transfer, item, count(*) AS movements, sum(qty) AS qty,
       min(time) AS first_time, max(time) AS last_time
FROM movements
WHERE transfer IS NOT NULL
GROUP BY transfer, item;

-- The current balance of every (holder, item, lot) that is not zero: the base plus every
-- movement recorded after it (taken from its `from` holder, given to its `to` holder). `lot`
-- is NULL for items that are not lot-tracked (the base keeps '' there: it is a key). Exact
-- after every commit, though no balance row is written per batch; it costs a pass over the
-- journal since the last snapshot and a sort of the base and that tail (SQLite does not push
-- a WHERE on holder into the GROUP BY, so a query for one key costs the same). CROSS JOIN
-- keeps the journal in the outer loop, so each batch's JSON is expanded once, not once per
-- side.
CREATE VIEW balances AS
SELECT holder, item, NULLIF(lot_key, '') AS lot, sum(qty) AS qty
FROM (
    SELECT holder, item, lot AS lot_key, qty FROM balances_base
    UNION ALL
    SELECT CASE side.sign WHEN 1 THEN m.to_holder ELSE m.from_holder END,
           m.item,
           coalesce(m.lot, ''),
           side.sign * m.qty
    FROM movements AS m
    CROSS JOIN (SELECT 1 AS sign UNION ALL SELECT -1) AS side
    WHERE m.batch > (SELECT coalesce(max(value), 0) FROM meta WHERE key = 'balances_base_seq')
)
GROUP BY holder, item, lot_key
HAVING sum(qty) <> 0;
"#;

/// A record's time, the text in SQL column `$t`, as RFC 3339 UTC with nine fractional digits:
/// the expression of version 2's `movements.time`, for the views of version 3. Part of a
/// released step: never edited (a later step that needs another writes its own).
macro_rules! time_text_v3 {
    ($t:literal) => {
        concat!(
            "CASE\n",
            "           WHEN substr(",
            $t,
            ", -1) IN ('Z', 'z') THEN\n",
            "               replace(substr(",
            $t,
            ", 1, 19), 't', 'T') || '.'\n",
            "               || substr(substr(",
            $t,
            ", 21, max(length(",
            $t,
            ") - 21, 0)) || '000000000', 1, 9)\n",
            "               || 'Z'\n",
            "           WHEN length(",
            $t,
            ") = 10 THEN ",
            $t,
            " || 'T00:00:00.000000000Z'\n",
            "           ELSE\n",
            "               strftime('%Y-%m-%dT%H:%M:%S', substr(",
            $t,
            ", 1, 10) || 'T' || substr(",
            $t,
            ", 12, 8) || substr(",
            $t,
            ", -6))\n",
            "               || '.'\n",
            "               || substr(CASE WHEN substr(",
            $t,
            ", 20, 1) = '.' THEN substr(",
            $t,
            ", 21, length(",
            $t,
            ") - 26) ELSE '' END\n",
            "                         || '000000000', 1, 9)\n",
            "               || 'Z'\n",
            "       END"
        )
    };
}

/// A recorded time, nanoseconds since the epoch in SQL column `$ns` with its non-negative
/// remainder of a second in `$frac`, in the same form (version 2's `movements.recorded_at`).
/// Part of a released step: never edited.
macro_rules! nanos_text_v3 {
    ($ns:literal, $frac:literal) => {
        concat!(
            "strftime('%Y-%m-%dT%H:%M:%S', (",
            $ns,
            " - ",
            $frac,
            ") / 1000000000, 'unixepoch')\n",
            "           || '.' || printf('%09d', ",
            $frac,
            ") || 'Z'"
        )
    };
}

/// Schema version 3: the workflow's views (see `qm_store::conformance::views`).
/// `transfer_line_figures` and its view `transfer_lines`: each transfer line's figures, which
/// no SQL over the journal can compute honestly (a cancellation without a quantity cancels
/// the remainder as it stood, releases are newest first, dispatch and delivery depend on the
/// holders' orgs), so the application writes them with each commit; `anchor` gains
/// `transfer_lines_seq`, the batch after which that table is exact (0 in an upgraded file
/// with batches: the first writer to open it fills the table from the ledger). `allocations`
/// and `pauses` are views over the journal's records, as `movements` is; batches are
/// pre-selected by the text of the record type (every spelling of the type but one with a
/// `\u` escape holds it, and the journal holds canonical lines), so a query does not expand
/// the bodies of batches that hold none.
const WORKFLOW_V3: &str = concat!(
    r#"
DROP TRIGGER journal_anchor;
ALTER TABLE anchor ADD COLUMN transfer_lines_seq INTEGER NOT NULL DEFAULT 0;
-- The head, and (carried over) the batch after which `transfer_line_figures` is exact: the
-- store moves it to the new batch when the commit brought the batch's rows.
CREATE TRIGGER journal_anchor AFTER INSERT ON journal
BEGIN
    INSERT OR REPLACE INTO anchor (id, seq, hash, transfer_lines_seq)
    VALUES (1, NEW.seq, NEW.hash, coalesce((SELECT transfer_lines_seq FROM anchor WHERE id = 1), 0));
END;

-- Every line of every transfer, with its figures after every batch, as the ledger computes
-- them; written by the application in the transaction of each commit.
CREATE TABLE transfer_line_figures (
    transfer   TEXT    NOT NULL,
    item       TEXT    NOT NULL,
    donor      TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    line_qty   INTEGER NOT NULL,
    committed  INTEGER NOT NULL,
    cancelled  INTEGER NOT NULL,
    allocated  INTEGER NOT NULL,
    dispatched INTEGER NOT NULL,
    delivered  INTEGER NOT NULL,
    in_transit INTEGER NOT NULL,
    PRIMARY KEY (transfer, item)
) WITHOUT ROWID;

-- Each line of each transfer (one item of its commitment) and its figures now: committed
-- (the line's qty less cancellations), cancelled, allocated (earmarked, less releases),
-- dispatched (left a depot of the donor), delivered (arrived at a holder of the recipient),
-- in_transit (dispatched, neither arrived nor gone to a sink). Exact after every commit.
CREATE VIEW transfer_lines AS
SELECT transfer, item, donor, recipient, line_qty, committed, cancelled, allocated,
       dispatched, delivered, in_transit
FROM transfer_line_figures;

-- Every allocation record (an earmark for a transfer at a depot of its donor), with the
-- batch that recorded it; the override's reason and who gave it, when it breached a floor.
CREATE VIEW allocations AS
SELECT batch,
       "#,
    nanos_text_v3!("ns", "ns_frac"),
    r#" AS recorded_at,
       recorded_by,
       id,
       "#,
    time_text_v3!("t"),
    r#" AS time,
       transfer,
       item,
       qty,
       from_holder,
       lot,
       override_reason,
       override_by
FROM (
    SELECT j.seq                                                    AS batch,
           j.recorded_at                                            AS ns,
           ((j.recorded_at % 1000000000) + 1000000000) % 1000000000 AS ns_frac,
           j.recorded_by                                            AS recorded_by,
           json_extract(r.value, '$.id')                            AS id,
           json_extract(r.value, '$.time')                          AS t,
           json_extract(r.value, '$.transfer')                      AS transfer,
           json_extract(r.value, '$.item')                          AS item,
           json_extract(r.value, '$.qty')                           AS qty,
           json_extract(r.value, '$.from')                          AS from_holder,
           json_extract(r.value, '$.lot')                           AS lot,
           json_extract(r.value, '$.override.reason')               AS override_reason,
           json_extract(r.value, '$.override.by')                   AS override_by
    FROM journal AS j,
         json_each('[' || replace(rtrim(j.body, char(10)), char(10), ',') || ']') AS r
    WHERE instr(j.body, '"allocate"') > 0
      AND json_extract(r.value, '$.type') = 'allocate'
);

-- Every pause record, with the batch that recorded it, and the resume that ends it (its time
-- and id; NULL while it stands). `items` and `categories` are the record's JSON arrays.
CREATE VIEW pauses AS
SELECT p.batch,
       "#,
    nanos_text_v3!("p.ns", "p.ns_frac"),
    r#" AS recorded_at,
       p.recorded_by,
       p.id,
       "#,
    time_text_v3!("p.t"),
    r#" AS time,
       p.reason,
       p."by" AS "by",
       p.items,
       p.categories,
       p.donor,
       p.recipient,
       p.transfer,
       "#,
    time_text_v3!("p.review_t"),
    r#" AS review_by,
       "#,
    time_text_v3!("x.t"),
    r#" AS resumed_at,
       x.id AS resume_id
FROM (
    SELECT j.seq                                                    AS batch,
           j.recorded_at                                            AS ns,
           ((j.recorded_at % 1000000000) + 1000000000) % 1000000000 AS ns_frac,
           j.recorded_by                                            AS recorded_by,
           json_extract(r.value, '$.id')                            AS id,
           json_extract(r.value, '$.time')                          AS t,
           json_extract(r.value, '$.reason')                        AS reason,
           json_extract(r.value, '$.by')                            AS "by",
           json_extract(r.value, '$.items')                         AS items,
           json_extract(r.value, '$.categories')                    AS categories,
           json_extract(r.value, '$.donor')                         AS donor,
           json_extract(r.value, '$.recipient')                     AS recipient,
           json_extract(r.value, '$.transfer')                      AS transfer,
           json_extract(r.value, '$.review_by')                     AS review_t
    FROM journal AS j,
         json_each('[' || replace(rtrim(j.body, char(10)), char(10), ',') || ']') AS r
    WHERE instr(j.body, '"pause"') > 0
      AND json_extract(r.value, '$.type') = 'pause'
) AS p
LEFT JOIN (
    SELECT json_extract(r.value, '$.id')    AS id,
           json_extract(r.value, '$.pause') AS pause,
           json_extract(r.value, '$.time')  AS t
    FROM journal AS j,
         json_each('[' || replace(rtrim(j.body, char(10)), char(10), ',') || ']') AS r
    WHERE instr(j.body, '"resume"') > 0
      AND json_extract(r.value, '$.type') = 'resume'
) AS x ON x.pause = p.id;
"#
);

/// Brings the file to [`SCHEMA_VERSION`]: creates the schema in an empty file, applies the
/// missing migrations to an older one (in one transaction), accepts a current one, and
/// refuses a file that is not Quartermaster's or is newer than this code.
///
/// Safe when several processes open the same file at once: the work runs under the write
/// lock and re-checks what it saw before taking it.
pub fn ensure_schema(conn: &mut Connection) -> Result<()> {
    ensure_schema_until(conn, SCHEMA_VERSION)
}

/// [`ensure_schema`] up to `target` only (test support makes files of an older version).
pub(crate) fn ensure_schema_until(conn: &mut Connection, target: i64) -> Result<()> {
    // The common case, without taking the write lock: the schema is already there.
    if check_existing(conn)? == Existing::Version(target) {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| sql_error("locking the file to create or upgrade its schema", e))?;
    let done = (|| {
        let from = match check_existing(conn)? {
            Existing::Empty => 0,
            Existing::Version(v) => v,
        };
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > from && *v <= target) {
            conn.execute_batch(sql)
                .map_err(|e| sql_error(&format!("migrating the schema to version {version}"), e))?;
        }
        if from == 0 {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                [target],
            )
            .map(|_| ())
            .and_then(|()| conn.pragma_update(None, "application_id", APPLICATION_ID))
        } else {
            conn.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [target],
            )
            .map(|_| ())
        }
        .map_err(|e| sql_error("recording the schema version", e))
    })();
    match done {
        Ok(()) => conn
            .execute_batch("COMMIT")
            .map_err(|e| sql_error("committing the schema", e)),
        Err(e) => {
            // The original error is the one worth reporting; a failed rollback changes nothing
            // on disk (SQLite rolls back when the connection closes).
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// What [`check_existing`] found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// No tables yet (a new or empty file): there is no ledger.
    Empty,
    /// A Quartermaster schema of this version, from 1 to [`SCHEMA_VERSION`].
    Version(i64),
}

/// Looks at the file without writing anything: a ledger of a version this code knows, or an
/// empty file; anything else is refused with [`StoreError::Format`].
pub fn check_existing(conn: &Connection) -> Result<Existing> {
    // One statement, so one snapshot: another process creating the schema between two reads
    // must not make a new file look like a foreign one.
    let (application_id, has_meta, objects): (i32, bool, i64) = conn
        .query_row(
            "SELECT (SELECT application_id FROM pragma_application_id()), \
                    EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'), \
                    (SELECT count(*) FROM sqlite_master)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| sql_error("reading the schema", e))?;
    if !has_meta {
        if objects == 0 && (application_id == 0 || application_id == APPLICATION_ID) {
            return Ok(Existing::Empty);
        }
        return Err(StoreError::Format(
            "not a Quartermaster database: the file has other tables and no `meta` table".into(),
        ));
    }
    if application_id != APPLICATION_ID {
        return Err(StoreError::Format(format!(
            "not a Quartermaster database: application_id is {application_id:#x}, expected {APPLICATION_ID:#x}"
        )));
    }
    let version: Option<rusqlite::types::Value> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| sql_error("reading the schema version", e))?;
    match version {
        Some(rusqlite::types::Value::Integer(v)) if (1..=SCHEMA_VERSION).contains(&v) => Ok(Existing::Version(v)),
        Some(rusqlite::types::Value::Integer(v)) if v > SCHEMA_VERSION => Err(StoreError::Format(format!(
            "the database has schema version {v}, newer than this program knows ({SCHEMA_VERSION}): \
             open it with a newer Quartermaster"
        ))),
        Some(v) => Err(StoreError::Format(format!("unknown schema version {v:?} in the database's meta table"))),
        None => Err(StoreError::Format("the database's meta table has no schema_version".into())),
    }
}

/// Turns an SQLite error into a [`StoreError`]: files that are not SQLite databases, or are
/// damaged, are format errors; everything else is a backend error. `doing` says what failed.
pub fn sql_error(doing: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    match e.sqlite_error_code() {
        Some(NotADatabase | DatabaseCorrupt) => StoreError::Format(format!("sqlite: {doing}: {e}")),
        _ => StoreError::Backend(format!("sqlite: {doing}: {e}")),
    }
}
