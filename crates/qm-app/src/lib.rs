//! The application facade: one `App` per open database, used by the CLI (and later the
//! server). It keeps the in-memory ledger in step with the durable journal:
//!
//! - open: load the newest snapshot whose checksum and chain position hold, then replay the
//!   batches after it (never the whole history when a snapshot exists);
//! - apply: parse outside any lock, then take the journal's write lock, catch up on batches
//!   other processes appended, check the batch against the current state, and commit it
//!   durably (journal row and recorded head in one transaction) before acknowledging;
//! - snapshot: the encoded ledger and the base of the analysts' balances, in one transaction;
//! - export, balances, review: read the journal or the in-memory state;
//! - verify: recompute the hash chain, replay everything, and compare with the snapshot, the
//!   recorded head and the balances table.
//!
//! Architecture invariant: the facade does no parsing of its own and no SQL; it joins
//! `qm-interchange`, `qm-core` and a `qm-store` backend.

pub mod verify;

use std::fmt;
use std::io::Write;

use qm_core::{Ledger, Originals, Record, Rejection};
use qm_interchange::{ParseErrors, ERRORS_MAX_DEFAULT};
use qm_store::{BalanceRow, Head, Snapshot, Store, StoreError, StoredBatch};

pub use verify::{VerifyFailure, VerifyReport};

/// Snapshot after a command once this many movements are not covered by the snapshot.
pub const SNAPSHOT_TAIL_MIN: u64 = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Parse(ParseErrors),
    #[error("{}", format_rejection(.file, .lines, .rejection))]
    Rejected {
        file: String,
        lines: Vec<u32>,
        rejection: Rejection,
    },
    #[error("storage ({backend}): {source}")]
    Store {
        backend: &'static str,
        source: StoreError,
    },
    /// The stored history cannot be read back into a ledger.
    #[error("stored history is damaged: {0}")]
    Damaged(String),
    #[error("{0}")]
    Usage(String),
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

/// Opens the store a `--db` value names.
pub fn open_store(db: &str) -> Result<Box<dyn Store>, AppError> {
    match DbSpec::parse(db) {
        DbSpec::Sqlite(path) => qm_store_sqlite::SqliteStore::open(path)
            .map(|s| Box::new(s) as Box<dyn Store>)
            .map_err(|source| AppError::Store {
                backend: "sqlite",
                source,
            }),
        DbSpec::Postgres(url) => qm_store_postgres::PgStore::connect(url)
            .map(|s| Box::new(s) as Box<dyn Store>)
            .map_err(|source| AppError::Store {
                backend: "postgres",
                source,
            }),
    }
}

/// An open database: the durable journal and the ledger folded from it.
pub struct App {
    store: Box<dyn Store>,
    ledger: Ledger,
    /// The batch the ledger is at.
    head: Head,
    /// Seq of the snapshot the ledger was loaded from (0: none).
    snapshot_seq: u64,
    /// Movements in the ledger when it was loaded from the snapshot.
    snapshot_movements: u64,
    /// Who records batches (`QM_USER`, else `USER`).
    user: String,
}

impl App {
    /// Opens a database named by a `--db` value and brings the ledger up to date.
    pub fn open(db: &str) -> Result<App, AppError> {
        App::with_store(open_store(db)?)
    }

    pub fn with_store(store: Box<dyn Store>) -> Result<App, AppError> {
        let user = std::env::var("QM_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into());
        let mut app = App {
            store,
            ledger: Ledger::new(),
            head: Head::default(),
            snapshot_seq: 0,
            snapshot_movements: 0,
            user,
        };
        app.load()?;
        Ok(app)
    }

    fn store_err(&self, source: StoreError) -> AppError {
        AppError::Store {
            backend: self.store.backend(),
            source,
        }
    }

    /// Loads the snapshot if it is sound, then replays the tail.
    fn load(&mut self) -> Result<(), AppError> {
        self.ledger = Ledger::new();
        self.head = Head::default();
        self.snapshot_seq = 0;
        self.snapshot_movements = 0;
        // A snapshot that cannot be read is ignored (the journal is the truth; `verify` reports it).
        let snap = match self.store.load_snapshot() {
            Ok(s) => s,
            Err(StoreError::Format(_)) => None,
            Err(e) => return Err(self.store_err(e)),
        };
        if let Some(snap) = snap {
            if let Some(ledger) = self.usable_snapshot(&snap)? {
                self.ledger = ledger;
                self.head = Head {
                    seq: snap.seq,
                    hash: snap.head_hash,
                };
                self.snapshot_seq = snap.seq;
                self.snapshot_movements = self.ledger.movement_count();
            }
        }
        self.catch_up()
    }

    /// A snapshot is used only when its checksum holds and it sits on this journal's chain.
    fn usable_snapshot(&mut self, snap: &Snapshot) -> Result<Option<Ledger>, AppError> {
        if qm_store::snapshot_checksum(snap.seq, snap.head_hash, &snap.bytes) != snap.checksum {
            return Ok(None);
        }
        let at = self
            .store
            .read_batch(snap.seq)
            .map_err(|e| self.store_err(e))?;
        if at.is_none_or(|b| b.hash != snap.head_hash) {
            return Ok(None);
        }
        match Ledger::decode_snapshot(&snap.bytes) {
            Ok(l) if l.seq() == snap.seq => Ok(Some(l)),
            _ => Ok(None),
        }
    }

    /// Replays every batch after the ledger's head.
    fn catch_up(&mut self) -> Result<(), AppError> {
        let mut ledger = std::mem::take(&mut self.ledger);
        let mut head = self.head;
        let mut failure: Option<AppError> = None;
        let r = self.store.read_batches(head.seq, &mut |b| {
            match replay_batch(&mut ledger, head, &b) {
                Ok(()) => {
                    head = Head {
                        seq: b.seq,
                        hash: b.hash,
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    return Err(StoreError::Backend("stop".into()));
                }
            }
            Ok(())
        });
        self.ledger = ledger;
        self.head = head;
        if let Some(e) = failure {
            return Err(e);
        }
        r.map_err(|e| self.store_err(e))
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn head(&self) -> Head {
        self.head
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Applies one file's text as one atomic batch.
    pub fn apply_text(&mut self, file: &str, text: &str) -> Result<Applied, AppError> {
        self.apply_bytes(file, text.as_bytes())
    }

    /// Applies one file's bytes as one atomic batch; a line that is not UTF-8 is rejected
    /// with its number, like any other bad line.
    pub fn apply_bytes(&mut self, file: &str, bytes: &[u8]) -> Result<Applied, AppError> {
        let mut lines = Vec::new();
        let mut records = Vec::new();
        qm_interchange::parse_bytes_with(file, bytes, ERRORS_MAX_DEFAULT, |line, r| {
            lines.push(line);
            records.push(r);
        })
        .map_err(AppError::Parse)?;
        self.apply_records(file, &records, &lines)
    }

    /// Applies parsed records as one atomic batch; `lines` gives each record's line for errors.
    pub fn apply_records(
        &mut self,
        file: &str,
        records: &[Record],
        lines: &[u32],
    ) -> Result<Applied, AppError> {
        let head = self.store.begin_append().map_err(|e| self.store_err(e))?;
        let result = self.apply_locked(head, file, records, lines);
        if result.is_err() || matches!(result, Ok(Applied { batch: None, .. })) {
            // Nothing to write: release the lock. (A failed commit has already released it.)
            let _ = self.store.abort_append();
        }
        result
    }

    fn apply_locked(
        &mut self,
        head: Head,
        file: &str,
        records: &[Record],
        lines: &[u32],
    ) -> Result<Applied, AppError> {
        if head.seq != self.head.seq || head.hash != self.head.hash {
            if head.seq < self.head.seq {
                return Err(AppError::Damaged(format!(
                    "the journal ends at batch {} but this process has read up to batch {}",
                    head.seq, self.head.seq
                )));
            }
            self.catch_up()?;
        }
        let originals = self.load_originals(records)?;
        let receipt = match self.ledger.apply(records, &originals) {
            Ok(r) => r,
            Err(rejection) => {
                return Err(AppError::Rejected {
                    file: file.to_owned(),
                    lines: lines.to_vec(),
                    rejection,
                })
            }
        };
        if receipt.new_records.is_empty() {
            return Ok(Applied {
                batch: None,
                new_records: 0,
                duplicates: receipt.duplicates,
            });
        }
        let mut body = String::with_capacity(receipt.new_records.len() * 160);
        for &i in &receipt.new_records {
            qm_interchange::write_record(&records[i], &mut body);
            body.push('\n');
        }
        let batch = StoredBatch::seal(
            self.head,
            now_nanos(),
            self.user.clone(),
            body,
            receipt.new_records.len() as u64,
        );
        if let Err(e) = self.store.commit_append(&batch) {
            // The ledger holds a batch the journal does not: rebuild it from the journal.
            let err = self.store_err(e);
            self.load()?;
            return Err(err);
        }
        self.head = Head {
            seq: batch.seq,
            hash: batch.hash,
        };
        Ok(Applied {
            batch: Some(batch.seq),
            new_records: receipt.new_records.len(),
            duplicates: receipt.duplicates,
        })
    }

    /// Every non-zero balance now: the base of the analysts' balances written with a snapshot.
    fn balance_rows(&self) -> Vec<BalanceRow> {
        self.ledger
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

    /// Loads, from the journal, the committed movements whose ids the batch reuses.
    fn load_originals(&mut self, records: &[Record]) -> Result<Originals, AppError> {
        let mut originals = Originals::default();
        let seqs = self.ledger.duplicate_candidates(records);
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
            let Some(b) = self.store.read_batch(seq).map_err(|e| self.store_err(e))? else {
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

    /// Writes a snapshot if enough history has accumulated since the last one.
    pub fn maybe_snapshot(&mut self) -> Result<bool, AppError> {
        let tail = self
            .ledger
            .movement_count()
            .saturating_sub(self.snapshot_movements);
        if self.head.seq == self.snapshot_seq || tail < SNAPSHOT_TAIL_MIN {
            return Ok(false);
        }
        self.snapshot()?;
        Ok(true)
    }

    /// Writes a snapshot of the current state.
    pub fn snapshot(&mut self) -> Result<(), AppError> {
        if self.head.seq == 0 {
            return Ok(());
        }
        let bytes = self.ledger.encode_snapshot();
        let snap = Snapshot {
            seq: self.head.seq,
            head_hash: self.head.hash,
            checksum: qm_store::snapshot_checksum(self.head.seq, self.head.hash, &bytes),
            bytes,
        };
        let balances = self.balance_rows();
        self.store
            .save_snapshot(&snap, &balances)
            .map_err(|e| self.store_err(e))?;
        self.ledger.compact_ids();
        self.snapshot_seq = self.head.seq;
        self.snapshot_movements = self.ledger.movement_count();
        Ok(())
    }

    /// Writes the whole history as interchange records.
    pub fn export(&mut self, out: &mut dyn Write) -> Result<(), AppError> {
        let backend = self.store.backend();
        let mut io_err: Option<std::io::Error> = None;
        self.store
            .read_batches(0, &mut |b| {
                if let Err(e) = out.write_all(b.body.as_bytes()) {
                    io_err = Some(e);
                    return Err(StoreError::Backend("stop".into()));
                }
                Ok(())
            })
            .map_err(|source| match io_err.take() {
                Some(e) => AppError::Usage(format!("writing the export: {e}")),
                None => AppError::Store { backend, source },
            })?;
        out.flush()
            .map_err(|e| AppError::Usage(format!("writing the export: {e}")))
    }

    /// Checks the stored history: see [`verify`].
    pub fn verify(&mut self) -> Result<VerifyReport, VerifyFailure> {
        verify::verify(&mut *self.store)
    }

    pub fn store(&mut self) -> &mut dyn Store {
        &mut *self.store
    }

    /// Closes the database and leaves the ledger's memory to the operating system: freeing
    /// millions of small allocations one by one would cost a process that is about to exit
    /// a noticeable part of its run time.
    pub fn close(self) {
        let App { store, ledger, .. } = self;
        drop(store);
        std::mem::forget(ledger);
    }
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
/// batch verbatim (same sequence numbers, times, authors and hashes), then a snapshot and the
/// analysts' balances at the target. The source is verified first and the target after.
pub fn migrate(from: &str, to: &str, progress: &mut dyn FnMut(u64)) -> Result<Migrated, AppError> {
    let mut source = open_store(from)?;
    verify::verify(&mut *source).map_err(|f| AppError::Damaged(format!("{from}: {f}")))?;
    let mut target = open_store(to)?;
    let backend = target.backend();
    let store_err = |source: StoreError| AppError::Store { backend, source };
    let head = target.begin_append().map_err(store_err)?;
    if head.seq != 0 {
        let _ = target.abort_append();
        return Err(AppError::Usage(format!(
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
            target.commit_append(&b).map_err(store_err)
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
    let mut app = App::open(to)?;
    app.snapshot()?;
    verify::verify(&mut *app.store)
        .map_err(|f| AppError::Damaged(format!("{to} after the migration: {f}")))?;
    Ok(moved)
}
