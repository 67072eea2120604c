//! The application facade: one `App` per open database, used by the CLI (and later the
//! server). It keeps the in-memory ledger in step with the durable journal:
//!
//! - open: load the newest snapshot whose checksum and chain position hold, then replay the
//!   batches after it (never the whole history when a snapshot exists);
//! - apply: parse outside any lock, then take the journal's write lock, catch up on batches
//!   other processes appended, check the batch against the current state, and commit it
//!   durably (journal row, recorded head and the lines of the transfers it touched, in one
//!   transaction) before acknowledging; [`App::apply_files`] is the policy of a run of files
//!   (`files.rs`), `derived.rs` what is derived for analysts;
//! - queries: [`State`] (balances, review, with their references checked), read through a
//!   [`Shared`] handle that many threads may hold while the one writer applies;
//! - snapshot: the encoded ledger and the base of the analysts' balances, in one transaction,
//!   then the transfer lines rewritten whole;
//! - export and follow: read the journal;
//! - verify: recompute the hash chain, replay everything, and compare with the snapshot, the
//!   recorded head, the balances and the transfer lines.
//!
//! Reads take `&self`; what changes the ledger or the journal takes `&mut self`: one `App` is
//! one writer. Its JSON outputs are the typed structs of [`output`].
//!
//! Architecture invariant: the facade does no parsing of its own and no SQL; it joins
//! `qm-interchange`, `qm-core` and a `qm-store` backend. It reads no environment variable
//! and prints nothing: the edges decide who records and where output goes.

mod derived;
mod files;
mod flows;
pub mod output;
mod state;
pub mod verify;
mod workflow;

use std::fmt;
use std::io::Write;
use std::sync::{Mutex, MutexGuard};

use qm_core::{Ledger, Originals, Record, Rejection};
use qm_interchange::ParseErrors;
use qm_store::{BalanceRow, Head, Snapshot, Store, StoreError, StoredBatch};

pub use files::{ApplyRun, FileOutcome};
pub use qm_store::OpenMode;
pub use state::{Shared, State};
pub use verify::{VerifyFailure, VerifyReport};

/// Snapshot after a command once this many movements are not covered by the snapshot.
pub const SNAPSHOT_TAIL_MIN: u64 = 200_000;

/// How long [`App::follow`] waits for a new batch before it asks whether to go on.
pub const FOLLOW_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Who records a batch when nobody says: the process's OS user cannot be looked up.
pub const RECORDED_BY_UNKNOWN: &str = "unknown";

/// Every error of the facade. Each message says what this layer was doing; the cause, when
/// there is one, is its [`std::error::Error::source`] and is not repeated in the message
/// (print the chain with [`AppError::message`], or anyhow's `{:#}`).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is not valid interchange text; every bad line is listed.
    #[error("{0}")]
    Parse(ParseErrors),
    /// The ledger's rules refuse the batch; every bad record is listed.
    #[error("{}", format_rejection(.file, .lines, .rejection))]
    Rejected {
        file: String,
        lines: Vec<u32>,
        rejection: Rejection,
    },
    /// An input file could not be read.
    #[error("reading {file}")]
    Input {
        file: String,
        source: std::io::Error,
    },
    /// A query names a holder, item, lot or org the ledger has never heard of.
    #[error("unknown {kind} {id:?}{}", .item.as_ref().map(|i| format!(" of item {i:?}")).unwrap_or_default())]
    Unknown {
        /// `holder`, `item`, `lot` or `org`.
        kind: &'static str,
        id: String,
        /// For a lot: the item the query was about, if it named one.
        item: Option<String>,
    },
    #[error("storage ({backend})")]
    Store {
        backend: &'static str,
        source: StoreError,
    },
    /// The stored history cannot be read back into a ledger.
    #[error("stored history is damaged: {0}")]
    Damaged(String),
    /// Writing the output failed (for example, whoever read it went away).
    #[error("writing the output")]
    Output(#[source] std::io::Error),
    /// A run of files stopped at this file, which was not applied, on an error that is not
    /// the file's fault (storage); the files after it were not tried.
    #[error("{file}: not applied")]
    Stopped { file: String, source: Box<AppError> },
    /// The in-memory state could not be brought back in step with the journal after a
    /// failed commit; the writer's next operation reloads it.
    #[error("the ledger is unavailable until the journal can be read again")]
    Unavailable,
    #[error("{0}")]
    Usage(String),
    /// No ledger where a command that does not create one looked for it, or a path that
    /// cannot hold one (`/dev/null`).
    #[error("{0}")]
    NoLedger(String),
    /// A command refuses what it was asked on the state it found (a migration into a
    /// database that already holds a ledger).
    #[error("{0}")]
    Refused(String),
}

/// An error and every cause after it, each once: `a: b: c`. A storage error's own message
/// starts with its backend's name, which the `storage (sqlite)` before it already says: it is
/// said once.
pub fn chain_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = String::new();
    let mut backend: Option<&'static str> = None;
    let mut link = Some(e);
    while let Some(c) = link {
        let text = c.to_string();
        let text = match backend.take() {
            Some(b) => match text.strip_prefix(b).and_then(|t| t.strip_prefix(": ")) {
                Some(rest) => rest.to_owned(),
                None => text,
            },
            None => text,
        };
        if !s.is_empty() {
            s.push_str(": ");
        }
        s.push_str(&text);
        if let Some(AppError::Store { backend: b, .. }) = c.downcast_ref::<AppError>() {
            backend = Some(b);
        }
        link = c.source();
    }
    s
}

impl AppError {
    pub(crate) fn unknown(kind: &'static str, id: &str) -> AppError {
        AppError::Unknown {
            kind,
            id: id.to_owned(),
            item: None,
        }
    }

    /// The message and every cause after it, each once: `a: b: c`.
    pub fn message(&self) -> String {
        chain_message(self)
    }

    /// Whether the error is the input's fault (unreadable, unparsable, refused by the rules,
    /// naming what does not exist): nothing was written, and a run of files goes on.
    pub fn is_rejected_input(&self) -> bool {
        matches!(
            self,
            AppError::Parse(_)
                | AppError::Rejected { .. }
                | AppError::Input { .. }
                | AppError::Unknown { .. }
        )
    }
}

fn format_rejection(file: &str, lines: &[u32], r: &Rejection) -> String {
    let mut s = String::new();
    for (n, e) in r.errors.iter().enumerate() {
        if n > 0 {
            s.push('\n');
        }
        let line = lines.get(e.index).copied().unwrap_or(0);
        s += &format!("{file}:{line}: field {:?}: {}", e.field, e.violation);
    }
    if r.more > 0 {
        s += &format!("\n... and {} more", r.more);
    }
    s
}

/// What applying one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The batch it became; `None` when every record was already there.
    pub batch: Option<u64>,
    pub new_records: usize,
    pub duplicates: usize,
}

/// Which backend a `--db` value names.
pub enum DbSpec<'a> {
    Sqlite(&'a std::path::Path),
    Postgres(&'a str),
}

impl<'a> DbSpec<'a> {
    pub fn parse(db: &'a str) -> DbSpec<'a> {
        if db.starts_with("postgres://") || db.starts_with("postgresql://") {
            DbSpec::Postgres(db)
        } else {
            DbSpec::Sqlite(std::path::Path::new(db))
        }
    }
}

/// A store that can move to another thread (so an [`App`] can).
pub type BoxStore = Box<dyn Store + Send>;

/// Opens the store a `--db` value names, as `mode` says: only [`OpenMode::Create`] (for
/// commands that write) makes a ledger where there is none; the other modes fail with
/// [`AppError::NoLedger`].
pub fn open_store(db: &str, mode: OpenMode) -> Result<BoxStore, AppError> {
    let (backend, opened) = match DbSpec::parse(db) {
        DbSpec::Sqlite(path) => (
            "sqlite",
            qm_store_sqlite::SqliteStore::open(path, mode).map(|s| Box::new(s) as BoxStore),
        ),
        DbSpec::Postgres(url) => (
            "postgres",
            qm_store_postgres::PgStore::connect(url, mode).map(|s| Box::new(s) as BoxStore),
        ),
    };
    opened.map_err(|source| match source {
        // Nothing there: a command that writes would make one.
        StoreError::NoLedger { reason: None, .. } if mode != OpenMode::Create => {
            AppError::NoLedger(format!("{source} (qm apply creates one)"))
        }
        StoreError::NoLedger { .. } => AppError::NoLedger(source.to_string()),
        source => AppError::Store { backend, source },
    })
}

/// The name of the OS user this process runs as, looked up from its effective uid; `None`
/// when the system has no name for it.
pub fn os_user() -> Option<String> {
    whoami::username().ok().filter(|u| !u.is_empty())
}

/// An open database: the durable journal and the ledger folded from it.
///
/// `Send` and `Sync`: readers may share it (`&App`) or, better, hold the [`Shared`] handle
/// of [`App::shared`], which needs no access to the store at all.
pub struct App {
    /// The connection. Writes go through `&mut self` (no locking); reads of the journal by
    /// `&self` methods (export, follow, verify) lock it.
    store: Mutex<BoxStore>,
    backend: &'static str,
    /// The committed state, shared with readers.
    shared: Shared,
    /// The snapshot the ledger was loaded from or last wrote.
    snap: SnapshotMark,
    /// Who records the batches this App commits.
    recorded_by: String,
}

/// Where the last snapshot stands, to decide when the next one is due.
#[derive(Debug, Clone, Copy, Default)]
struct SnapshotMark {
    /// Its batch (0: none).
    seq: u64,
    /// Movements in the ledger at it.
    movements: u64,
}

/// What loading from the store produced.
struct Loaded {
    state: State,
    snap: SnapshotMark,
}

impl App {
    /// Opens a database named by a `--db` value for a command that writes, creating the
    /// ledger if there is none, and brings the ledger up to date.
    pub fn open(db: &str) -> Result<App, AppError> {
        App::open_with(db, OpenMode::Create)
    }

    /// Opens a database named by a `--db` value as `mode` says (a command that only reads:
    /// [`OpenMode::ReadOnly`]) and brings the ledger up to date.
    pub fn open_with(db: &str, mode: OpenMode) -> Result<App, AppError> {
        App::with_store(open_store(db, mode)?)
    }

    /// Opens the ledger in `store` and brings it up to date; a store that writes also has its
    /// derived tables rewritten when they lag behind the journal (the first writer to open an
    /// upgraded ledger or a copy).
    pub fn with_store(mut store: BoxStore) -> Result<App, AppError> {
        let backend = store.backend();
        let mut loaded = load(&mut *store)?;
        derived::refresh(&mut *store, &mut loaded.state)?;
        Ok(App {
            store: Mutex::new(store),
            backend,
            shared: Shared::new(loaded.state),
            snap: loaded.snap,
            recorded_by: os_user().unwrap_or_else(|| RECORDED_BY_UNKNOWN.to_owned()),
        })
    }

    /// Records the batches this App commits from now on as recorded by `name` (the
    /// default: the process's OS user, else [`RECORDED_BY_UNKNOWN`]).
    pub fn set_recorded_by(&mut self, name: impl Into<String>) {
        self.recorded_by = name.into();
    }

    /// Who the batches this App commits are recorded by.
    pub fn recorded_by(&self) -> &str {
        &self.recorded_by
    }

    /// A handle on the committed state for readers on other threads.
    pub fn shared(&self) -> Shared {
        self.shared.clone()
    }

    /// The committed state, read-locked until the guard is dropped.
    pub fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, State>, AppError> {
        self.shared.read()
    }

    /// The last committed batch the state includes.
    pub fn head(&self) -> Head {
        self.shared.head()
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The store, for reads by `&self` methods.
    fn lock_store(&self) -> MutexGuard<'_, BoxStore> {
        // A panic while a read held the connection leaves nothing half-written in memory.
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn store_err(&self, source: StoreError) -> AppError {
        AppError::Store {
            backend: self.backend,
            source,
        }
    }

    /// Applies one file's text as one atomic batch.
    pub fn apply_text(&mut self, file: &str, text: &str) -> Result<Applied, AppError> {
        self.apply_bytes(file, text.as_bytes())
    }

    /// Applies one file's bytes as one atomic batch; a line that is not UTF-8 is rejected
    /// with its number, like any other bad line.
    pub fn apply_bytes(&mut self, file: &str, bytes: &[u8]) -> Result<Applied, AppError> {
        let parsed = files::parse_bytes(file, bytes)?;
        self.apply_records(file, &parsed.records, &parsed.lines)
    }

    /// Applies parsed records as one atomic batch; `lines` gives each record's line for errors.
    pub fn apply_records(
        &mut self,
        file: &str,
        records: &[Record],
        lines: &[u32],
    ) -> Result<Applied, AppError> {
        // The canonical journal lines, before any lock is taken.
        let encoded = Encoded::new(records);
        let backend = self.backend;
        let store = &mut **self
            .store
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let head = store
            .begin_append()
            .map_err(|source| AppError::Store { backend, source })?;
        let batch = Batch {
            file,
            records,
            lines,
            encoded,
            recorded_by: &self.recorded_by,
        };
        let result = apply_locked(store, backend, &self.shared, &mut self.snap, head, batch);
        if result.is_err() || matches!(result, Ok(Applied { batch: None, .. })) {
            // Nothing to write: release the lock. (A failed commit has already released it.)
            let _ = store.abort_append();
        }
        result
    }

    /// Writes a snapshot if enough history has accumulated since the last one.
    pub fn maybe_snapshot(&mut self) -> Result<bool, AppError> {
        let (head, movements) = {
            let s = self.shared.read()?;
            (s.head, s.ledger.movement_count())
        };
        let tail = movements.saturating_sub(self.snap.movements);
        if head.seq == self.snap.seq || tail < SNAPSHOT_TAIL_MIN {
            return Ok(false);
        }
        self.snapshot()?;
        Ok(true)
    }

    /// Writes a snapshot of the current state, then rewrites the transfer lines whole (so
    /// that `qm snapshot` also repairs a table changed behind Quartermaster's back).
    pub fn snapshot(&mut self) -> Result<(), AppError> {
        let (snap, balances, movements) = {
            let s = self.shared.read()?;
            if s.head.seq == 0 {
                return Ok(());
            }
            let bytes = s.ledger.encode_snapshot();
            let snap = Snapshot {
                seq: s.head.seq,
                head_hash: s.head.hash,
                checksum: qm_store::snapshot_checksum(s.head.seq, s.head.hash, &bytes),
                bytes,
            };
            (snap, balance_rows(&s.ledger), s.ledger.movement_count())
        };
        let backend = self.backend;
        self.store
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .save_snapshot(&snap, &balances)
            .map_err(|source| AppError::Store { backend, source })?;
        // Only the idempotency index's layout changes; no query answers differently.
        self.shared.write().ledger.compact_ids();
        self.snap = SnapshotMark {
            seq: snap.seq,
            movements,
        };
        let store = &mut **self
            .store
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        derived::rewrite(store, &mut self.shared.write())
    }

    /// Writes the whole history as interchange records.
    pub fn export(&self, out: &mut dyn Write) -> Result<u64, AppError> {
        let mut store = self.lock_store();
        export_after(&mut **store, 0, out)
    }

    /// Calls `each` with every batch committed after batch `after`, by this or any other
    /// process, in order and as soon as it is committed (PostgreSQL wakes the follower with
    /// a notification; the embedded file is polled cheaply). Every [`FOLLOW_POLL`] without
    /// a new batch it asks `keep_going`, and returns the last batch seen when that says no.
    /// An error from `each` stops it and is returned.
    ///
    /// It locks this App's connection while it waits: follow from an App of its own.
    pub fn follow(
        &self,
        after: u64,
        keep_going: &dyn Fn() -> bool,
        each: &mut dyn FnMut(&StoredBatch) -> Result<(), AppError>,
    ) -> Result<u64, AppError> {
        let mut after = after;
        loop {
            if !keep_going() {
                return Ok(after);
            }
            let mut store = self.lock_store();
            let head = store
                .wait_for_batches(after, FOLLOW_POLL)
                .map_err(|e| self.store_err(e))?;
            if head.seq <= after {
                continue;
            }
            let mut failure: Option<AppError> = None;
            let read = store.read_batches(after, &mut |b| {
                if let Err(e) = each(&b) {
                    failure = Some(e);
                    return Err(StoreError::Backend("stop".into()));
                }
                after = b.seq;
                Ok(())
            });
            if let Some(e) = failure {
                return Err(e);
            }
            read.map_err(|e| self.store_err(e))?;
        }
    }

    /// `qm export --follow`: the whole history, then each batch as it is committed, flushed
    /// batch by batch, while `keep_going` says so (or until writing fails).
    pub fn export_follow(
        &self,
        out: &mut dyn Write,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<u64, AppError> {
        let last = self.export(out)?;
        self.follow(last, keep_going, &mut |b| {
            out.write_all(b.body.as_bytes())
                .and_then(|()| out.flush())
                .map_err(AppError::Output)
        })
    }

    /// Checks the stored history: see [`verify`].
    pub fn verify(&self) -> Result<VerifyReport, VerifyFailure> {
        verify::verify(&mut **self.lock_store())
    }

    pub fn store(&mut self) -> &mut dyn Store {
        &mut **self
            .store
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes the database and leaves the ledger's memory to the operating system: freeing
    /// millions of small allocations one by one would cost a process that is about to exit
    /// a noticeable part of its run time.
    pub fn close(self) {
        let App { store, shared, .. } = self;
        drop(store);
        std::mem::forget(shared);
    }
}

/// The canonical interchange line of every record of a batch, written before the batch is
/// checked, so that the journal body needs no more than the lines of the new records.
struct Encoded {
    text: String,
    /// Where each record's line starts in `text` (and, last, the end).
    starts: Vec<usize>,
}

impl Encoded {
    fn new(records: &[Record]) -> Encoded {
        let mut text = String::with_capacity(records.len() * 160);
        let mut starts = Vec::with_capacity(records.len() + 1);
        for r in records {
            starts.push(text.len());
            qm_interchange::write_record(r, &mut text);
            text.push('\n');
        }
        starts.push(text.len());
        Encoded { text, starts }
    }

    /// The journal body: the lines of the records `new` lists, in that order.
    fn into_body(self, new: &[usize]) -> String {
        if new.iter().copied().eq(0..self.starts.len() - 1) {
            return self.text;
        }
        let mut body = String::with_capacity(self.text.len());
        for &i in new {
            body.push_str(&self.text[self.starts[i]..self.starts[i + 1]]);
        }
        body
    }
}

/// One batch on its way to the journal.
struct Batch<'a> {
    file: &'a str,
    records: &'a [Record],
    lines: &'a [u32],
    encoded: Encoded,
    recorded_by: &'a str,
}

/// Checks and commits a batch while holding the journal's write lock (taken by
/// `begin_append`, which returned `head`).
fn apply_locked(
    store: &mut dyn Store,
    backend: &'static str,
    shared: &Shared,
    snap: &mut SnapshotMark,
    head: Head,
    batch: Batch<'_>,
) -> Result<Applied, AppError> {
    let store_err = |source| AppError::Store { backend, source };
    // In step with the journal first: what other processes appended, or a full reload when
    // an earlier failure left the state unavailable.
    let (current, unavailable) = shared.status();
    if unavailable {
        let loaded = load(store)?;
        *snap = loaded.snap;
        *shared.write() = loaded.state;
    } else if head != current {
        if head.seq < current.seq {
            return Err(AppError::Damaged(format!(
                "the journal ends at batch {} but this process has read up to batch {}",
                head.seq, current.seq
            )));
        }
        catch_up_shared(store, shared)?;
    }
    let seqs = shared.read()?.ledger.duplicate_candidates(batch.records);
    let originals = load_originals(store, backend, batch.records, seqs)?;

    // The core's check and the durable commit, under the write lock: no reader sees the
    // batch half-applied, or applied and then lost.
    let mut state = shared.write();
    let receipt = match state.ledger.stage(batch.records, &originals) {
        Ok(r) => r,
        Err(rejection) => {
            return Err(AppError::Rejected {
                file: batch.file.to_owned(),
                lines: batch.lines.to_vec(),
                rejection,
            })
        }
    };
    if receipt.new_records.is_empty() {
        state.ledger.keep_staged();
        return Ok(Applied {
            batch: None,
            new_records: 0,
            duplicates: receipt.duplicates,
        });
    }
    let new_records = receipt.new_records.len();
    let derived = derived::touched(
        &state.ledger,
        batch.records,
        &receipt.new_records,
        receipt.seq,
    );
    let sealed = StoredBatch::seal(
        state.head,
        now_nanos(),
        batch.recorded_by.to_owned(),
        batch.encoded.into_body(&receipt.new_records),
        new_records as u64,
    );
    if let Err(e) = store.commit_append(&sealed, Some(&derived)) {
        // Undo the batch in memory (at its own cost, not a reload). Whether or not the
        // journal kept it (a connection lost at the commit cannot tell), the head is still
        // the one before it, so the next write catches up on whatever the journal holds.
        state.ledger.discard_staged(&receipt);
        return Err(store_err(e));
    }
    state.ledger.keep_staged();
    state.head = Head {
        seq: sealed.seq,
        hash: sealed.hash,
    };
    Ok(Applied {
        batch: Some(sealed.seq),
        new_records,
        duplicates: receipt.duplicates,
    })
}

/// Loads the snapshot if it is sound, then replays the tail: the whole state, built apart
/// from any lock.
fn load(store: &mut dyn Store) -> Result<Loaded, AppError> {
    let backend = store.backend();
    let store_err = |source| AppError::Store { backend, source };
    let mut state = State {
        ledger: Ledger::new(),
        ..State::default()
    };
    let mut snap = SnapshotMark::default();
    // A snapshot that cannot be read is ignored (the journal is the truth; `verify` reports it).
    let stored = match store.load_snapshot() {
        Ok(s) => s,
        Err(StoreError::Format(_)) => None,
        Err(e) => return Err(store_err(e)),
    };
    if let Some(stored) = stored {
        if let Some(ledger) = usable_snapshot(store, &stored)? {
            snap = SnapshotMark {
                seq: stored.seq,
                movements: ledger.movement_count(),
            };
            state.ledger = ledger;
            state.head = Head {
                seq: stored.seq,
                hash: stored.head_hash,
            };
        }
    }
    let mut head = state.head;
    read_tail(store, head.seq, &mut |b| {
        replay_batch(&mut state.ledger, head, b)?;
        head = Head {
            seq: b.seq,
            hash: b.hash,
        };
        Ok(())
    })?;
    state.head = head;
    Ok(Loaded { state, snap })
}

/// A snapshot is used only when its checksum holds and it sits on this journal's chain.
fn usable_snapshot(store: &mut dyn Store, snap: &Snapshot) -> Result<Option<Ledger>, AppError> {
    if qm_store::snapshot_checksum(snap.seq, snap.head_hash, &snap.bytes) != snap.checksum {
        return Ok(None);
    }
    let backend = store.backend();
    let at = store
        .read_batch(snap.seq)
        .map_err(|source| AppError::Store { backend, source })?;
    if at.is_none_or(|b| b.hash != snap.head_hash) {
        return Ok(None);
    }
    match Ledger::decode_snapshot(&snap.bytes) {
        Ok(l) if l.seq() == snap.seq => Ok(Some(l)),
        _ => Ok(None),
    }
}

/// Replays, into the shared state, every batch after its head: one write lock per batch, so
/// readers see each batch whole and are not held up for the whole catch-up.
fn catch_up_shared(store: &mut dyn Store, shared: &Shared) -> Result<(), AppError> {
    let after = shared.status().0.seq;
    read_tail(store, after, &mut |b| {
        let mut state = shared.write();
        let head = state.head;
        replay_batch(&mut state.ledger, head, b)?;
        state.head = Head {
            seq: b.seq,
            hash: b.hash,
        };
        Ok(())
    })
}

/// Calls `f` with every batch after `after`, in order, stopping at its first error.
fn read_tail(
    store: &mut dyn Store,
    after: u64,
    f: &mut dyn FnMut(&StoredBatch) -> Result<(), AppError>,
) -> Result<(), AppError> {
    let backend = store.backend();
    let mut failure: Option<AppError> = None;
    let read = store.read_batches(after, &mut |b| {
        if let Err(e) = f(&b) {
            failure = Some(e);
            return Err(StoreError::Backend("stop".into()));
        }
        Ok(())
    });
    if let Some(e) = failure {
        return Err(e);
    }
    read.map_err(|source| AppError::Store { backend, source })
}

/// Writes the bodies of every batch after `after`; returns the last batch written (or
/// `after`).
fn export_after(store: &mut dyn Store, after: u64, out: &mut dyn Write) -> Result<u64, AppError> {
    let mut last = after;
    let mut io_err: Option<std::io::Error> = None;
    let backend = store.backend();
    store
        .read_batches(after, &mut |b| {
            if let Err(e) = out.write_all(b.body.as_bytes()) {
                io_err = Some(e);
                return Err(StoreError::Backend("stop".into()));
            }
            last = b.seq;
            Ok(())
        })
        .map_err(|source| match io_err.take() {
            Some(e) => AppError::Output(e),
            None => AppError::Store { backend, source },
        })?;
    out.flush().map_err(AppError::Output)?;
    Ok(last)
}

/// Every non-zero balance now: the base of the analysts' balances written with a snapshot.
fn balance_rows(ledger: &Ledger) -> Vec<BalanceRow> {
    ledger
        .balances(&qm_core::BalanceQuery::default())
        .into_iter()
        .map(|b| BalanceRow {
            holder: b.holder.to_owned(),
            item: b.item.to_owned(),
            lot: b.lot.unwrap_or("").to_owned(),
            qty: b.qty,
        })
        .collect()
}

/// Loads, from the journal batches `seqs`, the committed movements whose ids the batch reuses.
pub(crate) fn load_originals(
    store: &mut dyn Store,
    backend: &'static str,
    records: &[Record],
    seqs: Vec<u64>,
) -> Result<Originals, AppError> {
    let mut originals = Originals::default();
    if seqs.is_empty() {
        return Ok(originals);
    }
    let wanted: std::collections::HashSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            Record::Movement(m) => Some(m.id.as_str()),
            _ => None,
        })
        .collect();
    for seq in seqs {
        let Some(b) = store
            .read_batch(seq)
            .map_err(|source| AppError::Store { backend, source })?
        else {
            return Err(AppError::Damaged(format!(
                "batch {seq} is missing from the journal"
            )));
        };
        let parsed = qm_interchange::parse_text(&format!("batch {seq}"), &b.body, 1)
            .map_err(|e| AppError::Damaged(e.to_string()))?;
        for (_, r) in parsed {
            if let Record::Movement(m) = r {
                if wanted.contains(m.id.as_str()) {
                    originals.movements.insert(m.id.clone(), m);
                }
            }
        }
    }
    Ok(originals)
}

/// Applies one stored batch to a ledger during replay: it must follow `head` and apply cleanly.
fn replay_batch(ledger: &mut Ledger, head: Head, b: &StoredBatch) -> Result<(), AppError> {
    if b.seq != head.seq + 1 || b.prev_hash != head.hash {
        return Err(AppError::Damaged(format!(
            "batch {} does not follow batch {}",
            b.seq, head.seq
        )));
    }
    let name = format!("batch {}", b.seq);
    let parsed = qm_interchange::parse_text(&name, &b.body, 1)
        .map_err(|e| AppError::Damaged(e.to_string()))?;
    let records: Vec<Record> = parsed.into_iter().map(|(_, r)| r).collect();
    let receipt = ledger
        .apply(&records, &Originals::default())
        .map_err(|r| AppError::Damaged(format!("{name} no longer applies: {}", r.errors[0])))?;
    if receipt.new_records.len() != records.len() || receipt.seq != b.seq {
        return Err(AppError::Damaged(format!(
            "{name} repeats records already in the journal"
        )));
    }
    Ok(())
}

pub fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

impl fmt::Display for Applied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.batch {
            Some(b) => write!(f, "applied {} records as batch {b}", self.new_records)?,
            None => write!(f, "nothing new")?,
        }
        if self.duplicates > 0 {
            write!(f, " ({} already recorded)", self.duplicates)?;
        }
        Ok(())
    }
}

/// What [`migrate`] moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    pub batches: u64,
    pub records: u64,
}

/// Copies a whole ledger from one database to another, empty one (of either backend): every
/// batch verbatim (same sequence numbers, times, authors and hashes), then, from the ledger
/// the target opens to, its transfer lines (the copies carry none), a snapshot and the
/// analysts' balances. The source is verified first and the target after.
pub fn migrate(from: &str, to: &str, progress: &mut dyn FnMut(u64)) -> Result<Migrated, AppError> {
    let mut source = open_store(from, OpenMode::ReadOnly)?;
    verify::verify(&mut *source).map_err(|f| AppError::Damaged(format!("{from}: {f}")))?;
    let mut target = open_store(to, OpenMode::Create)?;
    let backend = target.backend();
    let store_err = |source: StoreError| AppError::Store { backend, source };
    let head = target.begin_append().map_err(store_err)?;
    if head.seq != 0 {
        let _ = target.abort_append();
        return Err(AppError::Refused(format!(
            "{to} is not empty: it holds {} batches",
            head.seq
        )));
    }
    target.abort_append().map_err(store_err)?;
    let mut moved = Migrated {
        batches: 0,
        records: 0,
    };
    let mut failure: Option<AppError> = None;
    let read = source.read_batches(0, &mut |b| {
        let step = (|| {
            let head = target.begin_append().map_err(store_err)?;
            if head.seq + 1 != b.seq {
                let _ = target.abort_append();
                return Err(AppError::Usage(format!(
                    "{to} changed during the migration"
                )));
            }
            // Copied without derived rows: the target's App writes them whole when it opens.
            target.commit_append(&b, None).map_err(store_err)
        })();
        if let Err(e) = step {
            failure = Some(e);
            return Err(StoreError::Backend("stop".into()));
        }
        moved.batches += 1;
        moved.records += b.records;
        progress(moved.records);
        Ok(())
    });
    if let Some(e) = failure {
        return Err(e);
    }
    read.map_err(|source| AppError::Store {
        backend: "source",
        source,
    })?;
    drop(target);
    let mut app = App::open_with(to, OpenMode::ReadWrite)?;
    app.snapshot()?;
    app.verify()
        .map_err(|f| AppError::Damaged(format!("{to} after the migration: {f}")))?;
    Ok(moved)
}
