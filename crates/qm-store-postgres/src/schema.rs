//! The database schema as a list of versioned migrations, and the code that applies them.
//!
//! Each migration runs in its own transaction under a transaction-scoped advisory lock, so
//! any number of processes may connect (and migrate) at once: the first one to take the
//! lock applies the step, the others find it done. `qm_meta.schema_version` records the
//! last step applied; a database with a version this code does not know is refused, so an
//! old binary never writes into a schema it does not understand.
//!
//! Migrations are append-only, like the journal: a released migration is never edited,
//! a change is a new step. The analysts' views (`movements`, `records`, `transfers`,
//! `balances`) are a stable interface: later steps may add columns at the end of a view,
//! never rename or remove one. Step 3 is the one exception, made once so that both backends
//! give the same columns, types and values: it retyped times (`timestamptz`, to the
//! microsecond) and `serials` (`text[]`) and `records.json` (`jsonb`) as text, and gave
//! `records` its `line`. Step 4 added the workflow's views (`transfer_lines`, `allocations`,
//! `pauses`) and the table the application writes transfer lines to with each commit.
//!
//! A read-only session migrates nothing: it reads a schema from [`READABLE_FROM`] on as it is
//! (those versions have the tables it reads; before step 4 there are no derived tables, and
//! the store says so).

use postgres::Client;
use qm_store::StoreError;

use crate::describe;

/// The schema version this code writes and reads: the version of the last migration.
pub const SCHEMA_VERSION: i32 = 4;

/// The first schema version with the derived tables (`qm_transfer_lines`).
pub const DERIVED_FROM: i32 = 4;

/// The oldest schema a read-only session reads as it is: the first with the views (the
/// store reads `balances`). Raise it when a migration changes a table this code reads.
pub const READABLE_FROM: i32 = 2;

/// Key of the advisory lock that serialises migrations (ASCII "qmmigrat").
const MIGRATION_LOCK: i64 = 0x716d_6d69_6772_6174;

/// One step of the schema's history.
struct Migration {
    /// The schema version this step brings the database to.
    version: i32,
    /// What it does, for error messages.
    name: &'static str,
    /// The statements, run in one transaction.
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "journal, balances and snapshots",
        sql: MIGRATION_1,
    },
    Migration {
        version: 2,
        name: "analysts' views",
        sql: MIGRATION_2,
    },
    Migration {
        version: 3,
        name: "analysts' views as on every backend",
        sql: MIGRATION_3,
    },
    Migration {
        version: 4,
        name: "the workflow's views: transfer lines, allocations, pauses",
        sql: MIGRATION_4,
    },
];

/// The journal, the balances table, the snapshot tables, and the triggers guarding the journal.
const MIGRATION_1: &str = r#"
CREATE TABLE qm_journal (
    seq         BIGINT PRIMARY KEY CHECK (seq >= 1),
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT   NOT NULL,
    records     BIGINT NOT NULL CHECK (records >= 0),
    body        TEXT   NOT NULL,
    prev_hash   BYTEA  NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash        BYTEA  NOT NULL CHECK (octet_length(hash) = 32)
);
COMMENT ON TABLE qm_journal IS
    'Quartermaster journal: append-only, hash-chained batches of JSON Lines records. Read the views movements, records and balances instead.';

-- Bodies are JSON Lines: lz4 stores them in about a quarter of their size, faster than
-- pglz and faster than not compressing (less to write). Servers built without lz4 keep pglz.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE qm_journal ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    NULL;
END
$$;

CREATE FUNCTION qm_journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'qm_journal is append-only: % refused', TG_OP
        USING HINT = 'Corrections are new records; history is never edited.';
END
$$;
CREATE TRIGGER qm_journal_no_update_delete BEFORE UPDATE OR DELETE ON qm_journal
    FOR EACH ROW EXECUTE FUNCTION qm_journal_refuse_change();
CREATE TRIGGER qm_journal_no_truncate BEFORE TRUNCATE ON qm_journal
    FOR EACH STATEMENT EXECUTE FUNCTION qm_journal_refuse_change();

-- A second guard behind the advisory lock: a row that does not extend the chain is refused
-- whoever writes it (one index probe per batch).
CREATE FUNCTION qm_journal_check_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_seq  BIGINT;
    last_hash BYTEA;
BEGIN
    SELECT seq, hash INTO last_seq, last_hash FROM qm_journal ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := decode(repeat('00', 32), 'hex');
    END IF;
    IF NEW.seq <> last_seq + 1 OR NEW.prev_hash <> last_hash THEN
        RAISE EXCEPTION 'qm_journal: batch % does not follow the head (batch %)', NEW.seq, last_seq;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER qm_journal_chain BEFORE INSERT ON qm_journal
    FOR EACH ROW EXECUTE FUNCTION qm_journal_check_chain();

-- The head recorded apart from the journal rows, in the same transaction as each append:
-- batches removed from the end of the journal (which the hash chain alone cannot show)
-- leave it ahead of the journal. It only ever moves to the next batch.
CREATE TABLE qm_anchor (
    id   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq  BIGINT  NOT NULL CHECK (seq >= 0),
    hash BYTEA   NOT NULL CHECK (octet_length(hash) = 32)
);
INSERT INTO qm_anchor (id, seq, hash) VALUES (TRUE, 0, decode(repeat('00', 32), 'hex'));
CREATE FUNCTION qm_anchor_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.seq <> OLD.seq + 1 THEN
        RAISE EXCEPTION 'qm_anchor only moves to the next batch: % refused', TG_OP;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER qm_anchor_forward BEFORE UPDATE OR DELETE ON qm_anchor
    FOR EACH ROW EXECUTE FUNCTION qm_anchor_check();
CREATE TRIGGER qm_anchor_no_truncate BEFORE TRUNCATE ON qm_anchor
    FOR EACH STATEMENT EXECUTE FUNCTION qm_anchor_check();

-- Byte-order keys: comparisons are memcmp whatever the database's locale. No index: the
-- table is only ever replaced whole (with each snapshot, keys unique by construction) and
-- read whole by the balances view's GROUP BY.
CREATE TABLE qm_balances (
    holder TEXT COLLATE "C" NOT NULL,
    item   TEXT COLLATE "C" NOT NULL,
    lot    TEXT COLLATE "C" NOT NULL,
    qty    BIGINT NOT NULL CHECK (qty <> 0)
);
COMMENT ON TABLE qm_balances IS
    'Non-zero balance per (holder, item, lot; empty when not lot-tracked) after batch qm_balances_base.seq, written with each snapshot. Read the view balances instead.';
-- The batch the base balances are at (0: none yet).
CREATE TABLE qm_balances_base (
    id  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq BIGINT  NOT NULL CHECK (seq >= 0)
);
INSERT INTO qm_balances_base (id, seq) VALUES (TRUE, 0);

-- The newest snapshot: a header row and its bytes in chunks (a BYTEA value is at most
-- 1 GB, and one huge value is slow to write and to read back).
CREATE TABLE qm_snapshot (
    id        BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq       BIGINT  NOT NULL CHECK (seq >= 0),
    head_hash BYTEA   NOT NULL CHECK (octet_length(head_hash) = 32),
    checksum  BYTEA   NOT NULL CHECK (octet_length(checksum) = 32),
    len       BIGINT  NOT NULL CHECK (len >= 0),
    chunks    INTEGER NOT NULL CHECK (chunks >= 1)
);
CREATE TABLE qm_snapshot_chunk (
    no    INTEGER PRIMARY KEY CHECK (no >= 0),
    bytes BYTEA   NOT NULL
);
DO $$
BEGIN
    EXECUTE 'ALTER TABLE qm_snapshot_chunk ALTER COLUMN bytes SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    NULL;
END
$$;
"#;

/// The analysts' views: a stable interface over the internal tables.
const MIGRATION_2: &str = r#"
-- A batch body as one JSON array: its lines are compact JSON objects, each ending in a
-- newline (JSON strings cannot hold a raw newline, so the newlines separate records).
CREATE FUNCTION qm_body_json(body TEXT) RETURNS JSONB LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ('[' || replace(rtrim(body, E'\n'), E'\n', ',') || ']')::jsonb
$$;

-- Record time: RFC 3339, or a bare date meaning midnight UTC (never the session's zone).
CREATE FUNCTION qm_record_time(t TEXT) RETURNS TIMESTAMPTZ LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN length(t) = 10 THEN (t || 'T00:00:00Z')::timestamptz ELSE t::timestamptz END
$$;

-- Recorded time: nanoseconds since the Unix epoch, to microseconds.
CREATE FUNCTION qm_recorded_time(ns BIGINT) RETURNS TIMESTAMPTZ LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT timestamptz 'epoch' + (ns / 1000) * interval '1 microsecond'
$$;

CREATE VIEW movements AS
SELECT j.seq                          AS batch,
       qm_recorded_time(j.recorded_at) AS recorded_at,
       j.recorded_by,
       m.id,
       qm_record_time(m.time)         AS time,
       m.item,
       m.qty,
       m."from"                       AS from_holder,
       m."to"                         AS to_holder,
       m.lot,
       m.serials,
       m.kind,
       m.transfer,
       m.note
FROM qm_journal j
CROSS JOIN LATERAL jsonb_to_recordset(qm_body_json(j.body)) AS m(
    type TEXT, id TEXT, time TEXT, item TEXT, qty BIGINT, "from" TEXT, "to" TEXT,
    lot TEXT, serials TEXT[], kind TEXT, transfer TEXT, note TEXT)
WHERE m.type = 'movement';
COMMENT ON VIEW movements IS
    'Every movement record, expanded from the journal: batch, recorded_at, recorded_by, id, time, item, qty, from_holder, to_holder, lot (NULL: not lot-tracked), serials, kind, transfer, note.';

CREATE VIEW records AS
SELECT j.seq AS batch, r.json ->> 'type' AS type, r.json
FROM qm_journal j
CROSS JOIN LATERAL jsonb_array_elements(qm_body_json(j.body)) AS r(json);
COMMENT ON VIEW records IS
    'Every record of every batch, in order: batch, type, json.';

-- Every transfer (a movement's `transfer` field: a drawdown package, a contract), per item:
-- how many movements and how much they moved, and when the first and the last happened.
CREATE VIEW transfers AS
SELECT transfer, item, count(*) AS movements, sum(qty)::BIGINT AS qty,
       min(time) AS first_time, max(time) AS last_time
FROM movements
WHERE transfer IS NOT NULL
GROUP BY transfer, item;
COMMENT ON VIEW transfers IS
    'Per transfer and item: movements, qty moved, first_time, last_time.';

-- Current balances: the base written with the last snapshot, plus every movement of the
-- batches after it. Exact after every commit, with no row written per batch.
CREATE VIEW balances AS
SELECT holder, item, NULLIF(lot, '') AS lot, SUM(qty)::BIGINT AS qty
FROM (
    SELECT holder, item, lot, qty FROM qm_balances
    UNION ALL
    SELECT m.from_holder, m.item, COALESCE(m.lot, ''), -m.qty
    FROM movements m WHERE m.batch > (SELECT seq FROM qm_balances_base)
    UNION ALL
    SELECT m.to_holder, m.item, COALESCE(m.lot, ''), m.qty
    FROM movements m WHERE m.batch > (SELECT seq FROM qm_balances_base)
) AS t(holder, item, lot, qty)
GROUP BY holder, item, lot
HAVING SUM(qty) <> 0;
COMMENT ON VIEW balances IS
    'Current non-zero balance per (holder, item, lot; NULL when not lot-tracked), after the last batch.';
"#;

/// The analysts' views as every backend gives them (see `qm_store::conformance::views`): times
/// as RFC 3339 UTC text with nine fractional digits (a `timestamptz` dropped the nanoseconds,
/// and was text on the embedded backend), `serials` and `records.json` as the record's own
/// text, `records` with `line`.
const MIGRATION_3: &str = r#"
DROP VIEW balances;
DROP VIEW transfers;
DROP VIEW movements;
DROP VIEW records;
DROP FUNCTION qm_record_time(TEXT);
DROP FUNCTION qm_recorded_time(BIGINT);
DROP FUNCTION qm_body_json(TEXT);

-- A record's time as RFC 3339 UTC with nine fractional digits: the same width for every time,
-- so text order is time order. The journal holds canonical times (`...:SSZ`, `...:SS.fffZ`),
-- turned by string operations alone (exact to the nanosecond); a bare date means midnight
-- UTC, and an offset (`+02:00`) is converted, never through the session's time zone.
CREATE FUNCTION qm_time_text(t TEXT) RETURNS TEXT LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN right(t, 1) IN ('Z', 'z') THEN
            replace(left(t, 19), 't', 'T') || '.' || rpad(substr(t, 21, greatest(length(t) - 21, 0)), 9, '0')
            || 'Z'
        WHEN length(t) = 10 THEN t || 'T00:00:00.000000000Z'
        ELSE
            to_char((left(t, 10) || 'T' || substr(t, 12, 8) || right(t, 6))::timestamptz AT TIME ZONE 'UTC',
                    'YYYY-MM-DD"T"HH24:MI:SS')
            || '.'
            || rpad(CASE WHEN substr(t, 20, 1) = '.' THEN substr(t, 21, length(t) - 26) ELSE '' END, 9, '0')
            || 'Z'
    END
$$;

-- A recorded time (nanoseconds since the Unix epoch, split towards minus infinity) in the
-- same form.
CREATE FUNCTION qm_nanos_text(ns BIGINT) RETURNS TEXT LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(timestamp '1970-01-01'
                   + ((ns - ((ns % 1000000000) + 1000000000) % 1000000000) / 1000000000) * interval '1 second',
                   'YYYY-MM-DD"T"HH24:MI:SS')
        || '.' || lpad((((ns % 1000000000) + 1000000000) % 1000000000)::text, 9, '0') || 'Z'
$$;

-- Every record of every batch, in order: `line` is its 1-based position in the batch, `json`
-- its canonical interchange line (text: `json::jsonb` to take it apart).
CREATE VIEW records AS
SELECT j.seq AS batch, r.line, (r.json::json) ->> 'type' AS type, r.json
FROM qm_journal j
CROSS JOIN LATERAL unnest(string_to_array(rtrim(j.body, E'\n'), E'\n')) WITH ORDINALITY AS r(json, line);
COMMENT ON VIEW records IS
    'Every record of every batch, in order: batch, line, type, json (the canonical line).';

-- Every movement, expanded from the journal body on each query (json, not jsonb: it is parsed
-- once, and `serials` keeps the record's own text).
CREATE VIEW movements AS
SELECT j.seq                                      AS batch,
       qm_nanos_text(j.recorded_at) COLLATE "C"   AS recorded_at,
       j.recorded_by,
       m.id,
       qm_time_text(m.time) COLLATE "C"           AS time,
       m.item,
       m.qty,
       m."from"                                   AS from_holder,
       m."to"                                     AS to_holder,
       m.lot,
       m.serials::text                            AS serials,
       m.kind,
       m.transfer,
       m.note
FROM qm_journal j
CROSS JOIN LATERAL json_to_recordset(('[' || replace(rtrim(j.body, E'\n'), E'\n', ',') || ']')::json) AS m(
    type TEXT, id TEXT, time TEXT, item TEXT, qty BIGINT, "from" TEXT, "to" TEXT,
    lot TEXT, serials JSON, kind TEXT, transfer TEXT, note TEXT)
WHERE m.type = 'movement';
COMMENT ON VIEW movements IS
    'Every movement record, expanded from the journal: batch, recorded_at, recorded_by, id, time, item, qty, from_holder, to_holder, lot (NULL: not lot-tracked), serials (JSON array), kind, transfer, note. Times are RFC 3339 UTC with nine fractional digits.';

-- Every transfer (a movement's `transfer` field: a drawdown package, a contract), per item:
-- how many movements and how much they moved, and when the first and the last happened.
CREATE VIEW transfers AS
SELECT transfer, item, count(*) AS movements, sum(qty)::BIGINT AS qty,
       min(time) AS first_time, max(time) AS last_time
FROM movements
WHERE transfer IS NOT NULL
GROUP BY transfer, item;
COMMENT ON VIEW transfers IS
    'Per transfer and item: movements, qty moved, first_time, last_time.';

-- Current balances: the base written with the last snapshot, plus every movement of the
-- batches after it. Exact after every commit, with no row written per batch.
CREATE VIEW balances AS
SELECT holder, item, NULLIF(lot_key, '') AS lot, SUM(qty)::BIGINT AS qty
FROM (
    SELECT holder, item, lot, qty FROM qm_balances
    UNION ALL
    SELECT m.from_holder, m.item, COALESCE(m.lot, ''), -m.qty
    FROM movements m WHERE m.batch > (SELECT seq FROM qm_balances_base)
    UNION ALL
    SELECT m.to_holder, m.item, COALESCE(m.lot, ''), m.qty
    FROM movements m WHERE m.batch > (SELECT seq FROM qm_balances_base)
) AS t(holder, item, lot_key, qty)
GROUP BY holder, item, lot_key
HAVING SUM(qty) <> 0;
COMMENT ON VIEW balances IS
    'Current non-zero balance per (holder, item, lot; NULL when not lot-tracked), after the last batch.';
"#;

/// The workflow's views (see `qm_store::conformance::views`). Transfer lines' figures cannot be
/// computed honestly in SQL over the journal (a cancellation without a quantity cancels the
/// remainder as it stood, releases are newest first, dispatch and delivery depend on the
/// holders' orgs), so the application writes them to `qm_transfer_lines` in each commit's
/// transaction, and `qm_transfer_lines_at` says after which batch the table is exact (0 in
/// an upgraded database with batches: the first writer to connect fills it from the ledger;
/// a batch appended without its rows, by a copy or an older writer, leaves it behind).
/// `allocations` and `pauses` are views over the journal's records, as `movements` is, over
/// only the batches whose text holds the record type (every spelling of the type but one with
/// a `\u` escape does, and the journal holds canonical lines).
const MIGRATION_4: &str = r#"
CREATE TABLE qm_transfer_lines (
    transfer   TEXT COLLATE "C" NOT NULL,
    item       TEXT COLLATE "C" NOT NULL,
    donor      TEXT   NOT NULL,
    recipient  TEXT   NOT NULL,
    line_qty   BIGINT NOT NULL,
    committed  BIGINT NOT NULL,
    cancelled  BIGINT NOT NULL,
    allocated  BIGINT NOT NULL,
    dispatched BIGINT NOT NULL,
    delivered  BIGINT NOT NULL,
    in_transit BIGINT NOT NULL,
    PRIMARY KEY (transfer, item)
);
COMMENT ON TABLE qm_transfer_lines IS
    'Every transfer line and its figures after the batch qm_transfer_lines_at.seq, written with each commit. Read the view transfer_lines instead.';
CREATE TABLE qm_transfer_lines_at (
    id  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    seq BIGINT  NOT NULL CHECK (seq >= 0)
);
INSERT INTO qm_transfer_lines_at (id, seq) VALUES (TRUE, 0);

-- Each line of each transfer (one item of its commitment) and its figures now: committed
-- (the line's qty less cancellations), cancelled, allocated (earmarked, less releases),
-- dispatched (left a depot of the donor), delivered (arrived at a holder of the recipient),
-- in_transit (dispatched, neither arrived nor gone to a sink). Exact after every commit.
CREATE VIEW transfer_lines AS
SELECT transfer, item, donor, recipient, line_qty, committed, cancelled, allocated,
       dispatched, delivered, in_transit
FROM qm_transfer_lines;
COMMENT ON VIEW transfer_lines IS
    'Per transfer and item: donor, recipient, line_qty, committed, cancelled, allocated, dispatched, delivered, in_transit, after the last batch.';

-- Every allocation record (an earmark for a transfer at a depot of its donor), with the
-- batch that recorded it; the override's reason and who gave it, when it breached a floor.
CREATE VIEW allocations AS
SELECT j.seq                                    AS batch,
       qm_nanos_text(j.recorded_at) COLLATE "C" AS recorded_at,
       j.recorded_by,
       a.id,
       qm_time_text(a.time) COLLATE "C"         AS time,
       a.transfer,
       a.item,
       a.qty,
       a."from"                                 AS from_holder,
       a.lot,
       a.override ->> 'reason'                  AS override_reason,
       a.override ->> 'by'                      AS override_by
FROM qm_journal j
CROSS JOIN LATERAL json_to_recordset(('[' || replace(rtrim(j.body, E'\n'), E'\n', ',') || ']')::json) AS a(
    type TEXT, id TEXT, time TEXT, transfer TEXT, item TEXT, qty BIGINT, "from" TEXT, lot TEXT,
    override JSON)
WHERE strpos(j.body, '"allocate"') > 0 AND a.type = 'allocate';
COMMENT ON VIEW allocations IS
    'Every allocation record: batch, recorded_at, recorded_by, id, time, transfer, item, qty, from_holder, lot, override_reason, override_by. Times are RFC 3339 UTC with nine fractional digits.';

-- Every pause record, with the batch that recorded it, and the resume that ends it (its time
-- and id; NULL while it stands). `items` and `categories` are the record's JSON arrays.
CREATE VIEW pauses AS
WITH p AS (
    SELECT j.seq AS batch, j.recorded_at AS ns, j.recorded_by, r.id, r.time, r.reason, r."by",
           r.items, r.categories, r.donor, r.recipient, r.transfer, r.review_by
    FROM qm_journal j
    CROSS JOIN LATERAL json_to_recordset(('[' || replace(rtrim(j.body, E'\n'), E'\n', ',') || ']')::json) AS r(
        type TEXT, id TEXT, time TEXT, reason TEXT, "by" TEXT, items JSON, categories JSON,
        donor TEXT, recipient TEXT, transfer TEXT, review_by TEXT)
    WHERE strpos(j.body, '"pause"') > 0 AND r.type = 'pause'
), x AS (
    SELECT r.id, r.pause, r.time
    FROM qm_journal j
    CROSS JOIN LATERAL json_to_recordset(('[' || replace(rtrim(j.body, E'\n'), E'\n', ',') || ']')::json) AS r(
        type TEXT, id TEXT, pause TEXT, time TEXT)
    WHERE strpos(j.body, '"resume"') > 0 AND r.type = 'resume'
)
SELECT p.batch,
       qm_nanos_text(p.ns) COLLATE "C"        AS recorded_at,
       p.recorded_by,
       p.id,
       qm_time_text(p.time) COLLATE "C"       AS time,
       p.reason,
       p."by",
       p.items::text                          AS items,
       p.categories::text                     AS categories,
       p.donor,
       p.recipient,
       p.transfer,
       qm_time_text(p.review_by) COLLATE "C"  AS review_by,
       qm_time_text(x.time) COLLATE "C"       AS resumed_at,
       x.id                                   AS resume_id
FROM p LEFT JOIN x ON x.pause = p.id;
COMMENT ON VIEW pauses IS
    'Every pause record: batch, recorded_at, recorded_by, id, time, reason, by, items, categories, donor, recipient, transfer, review_by, and the resume ending it (resumed_at, resume_id; NULL while it stands).';
"#;

/// Brings the database to [`SCHEMA_VERSION`], one step per transaction; refuses a newer one.
pub(crate) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    migrate_until(client, SCHEMA_VERSION)
}

/// Applies the steps up to `version` (test support uses an older one, to make a database as
/// an older Quartermaster left it).
pub(crate) fn migrate_until(client: &mut Client, version: i32) -> Result<(), StoreError> {
    // Applying MIGRATIONS in order must end exactly at SCHEMA_VERSION.
    assert!(MIGRATIONS
        .iter()
        .enumerate()
        .all(|(i, m)| m.version == i as i32 + 1));
    assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));

    for migration in MIGRATIONS.iter().filter(|m| m.version <= version) {
        let result = migrate_step(client, migration);
        if result.is_err() {
            // Best effort: the connection may be gone, and then so is the transaction.
            let _ = client.batch_execute("ROLLBACK");
        }
        result?;
    }
    Ok(())
}

/// The schema version of a database that holds a ledger, read without writing anything:
/// [`StoreError::NoLedger`] when it has none, [`StoreError::Format`] when it is newer than
/// this code.
pub(crate) fn existing_version(client: &mut Client, place: &str) -> Result<i32, StoreError> {
    let fail = |e: postgres::Error| {
        StoreError::Backend(format!(
            "postgres: reading the schema version: {}",
            describe(&e)
        ))
    };
    let has_meta: bool = client
        .query_one("SELECT to_regclass('qm_meta') IS NOT NULL", &[])
        .and_then(|row| row.try_get(0))
        .map_err(fail)?;
    let version: Option<i32> = if has_meta {
        client
            .query_opt("SELECT schema_version FROM qm_meta", &[])
            .map_err(fail)?
            .map(|row| row.try_get(0))
            .transpose()
            .map_err(fail)?
    } else {
        None
    };
    match version {
        None | Some(0) => Err(StoreError::NoLedger {
            place: place.to_owned(),
            reason: None,
        }),
        Some(v) if v > SCHEMA_VERSION => Err(newer(v)),
        Some(v) => Ok(v),
    }
}

fn newer(version: i32) -> StoreError {
    StoreError::Format(format!(
        "the database has schema version {version}, newer than this program knows \
         ({SCHEMA_VERSION}): upgrade Quartermaster"
    ))
}

/// Applies one step unless the database already has it.
fn migrate_step(client: &mut Client, migration: &Migration) -> Result<(), StoreError> {
    let step = |what: &str| {
        format!(
            "migration {} ({}): {what}",
            migration.version, migration.name
        )
    };
    let fail = |what: &str, e: postgres::Error| {
        StoreError::Backend(format!("postgres: {}: {}", step(what), describe(&e)))
    };
    client
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
             CREATE TABLE IF NOT EXISTS qm_meta (
                 id             BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
                 schema_version INTEGER NOT NULL
             );
             INSERT INTO qm_meta (id, schema_version) VALUES (TRUE, 0) ON CONFLICT (id) DO NOTHING;"
        ))
        .map_err(|e| fail("reading the schema version", e))?;
    let current: i32 = client
        .query_one("SELECT schema_version FROM qm_meta", &[])
        .and_then(|row| row.try_get(0))
        .map_err(|e| fail("reading the schema version", e))?;
    if current > SCHEMA_VERSION {
        return Err(newer(current));
    }
    if current < migration.version {
        client
            .batch_execute(migration.sql)
            .map_err(|e| fail("applying", e))?;
        client
            .execute(
                "UPDATE qm_meta SET schema_version = $1",
                &[&migration.version],
            )
            .map_err(|e| fail("recording the version", e))?;
    }
    client
        .batch_execute("COMMIT")
        .map_err(|e| fail("committing", e))
}
