//! The storage interface.
//!
//! The journal is the truth: an append-only sequence of batches, each holding the canonical
//! interchange lines of the records it added, checksummed and hash-chained to the batch
//! before. Everything else a backend keeps (snapshots of the in-memory state, tables for
//! analysts) is derived from it and can be checked against it.
//!
//! Architecture invariant: this crate knows nothing of SQL, JSON parsing or the ledger rules.
//! Backends implement [`Store`]; `conformance` (feature `conformance`, test support only: it
//! writes its journals' canonical lines with `qm-interchange`) is the suite each of them must
//! pass, the analysts' views included (through [`ViewRows`], which a backend's tests fill
//! from SQL).
//!
//! Besides the journal, a backend keeps tables the application derives from the ledger and
//! hands it with each commit ([`Derived`]: the figures of every transfer line), written in
//! the commit's own transaction so that they are exact after every commit.

#[cfg(feature = "conformance")]
pub mod conformance;

use std::fmt;

/// A 32-byte BLAKE3 hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    pub const ZERO: Hash = Hash([0; 32]);
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &self.to_hex()[..16])
    }
}

/// The last committed batch: where the next append goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Head {
    /// Sequence number of the last batch; 0 when the journal is empty. Batches are numbered 1, 2, 3...
    pub seq: u64,
    /// Its hash; [`Hash::ZERO`] when the journal is empty.
    pub hash: Hash,
}

/// One committed batch, exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBatch {
    pub seq: u64,
    /// Wall-clock time of the commit, nanoseconds since the Unix epoch (the "recorded time").
    pub recorded_at: i64,
    /// Who recorded it.
    pub recorded_by: String,
    /// The canonical interchange lines of the records this batch added, each ending in `\n`.
    pub body: String,
    /// Number of records in `body`.
    pub records: u64,
    pub prev_hash: Hash,
    pub hash: Hash,
}

impl StoredBatch {
    /// Seals a batch: computes its hash from its content and the previous hash.
    pub fn seal(
        prev: Head,
        recorded_at: i64,
        recorded_by: String,
        body: String,
        records: u64,
    ) -> StoredBatch {
        let seq = prev.seq + 1;
        let hash = batch_hash(prev.hash, seq, recorded_at, &recorded_by, records, &body);
        StoredBatch {
            seq,
            recorded_at,
            recorded_by,
            body,
            records,
            prev_hash: prev.hash,
            hash,
        }
    }

    /// The hash this batch should have, recomputed from its content.
    pub fn expected_hash(&self) -> Hash {
        batch_hash(
            self.prev_hash,
            self.seq,
            self.recorded_at,
            &self.recorded_by,
            self.records,
            &self.body,
        )
    }
}

/// The chain rule: hash = BLAKE3(prev_hash, seq, recorded_at, recorded_by, records, body),
/// every variable-length field prefixed by its length.
pub fn batch_hash(
    prev: Hash,
    seq: u64,
    recorded_at: i64,
    recorded_by: &str,
    records: u64,
    body: &str,
) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"qm-batch-v1");
    h.update(&prev.0);
    h.update(&seq.to_le_bytes());
    h.update(&recorded_at.to_le_bytes());
    h.update(&(recorded_by.len() as u64).to_le_bytes());
    h.update(recorded_by.as_bytes());
    h.update(&records.to_le_bytes());
    h.update(&(body.len() as u64).to_le_bytes());
    h.update(body.as_bytes());
    Hash(*h.finalize().as_bytes())
}

/// A checksum of a snapshot's bytes, bound to the batch it was taken at.
pub fn snapshot_checksum(seq: u64, head_hash: Hash, bytes: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(b"qm-snapshot-v1");
    h.update(&seq.to_le_bytes());
    h.update(&head_hash.0);
    h.update(bytes);
    Hash(*h.finalize().as_bytes())
}

/// A saved image of the in-memory state after batch `seq`, so start-up need not replay history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub seq: u64,
    /// The hash of batch `seq`, tying the snapshot to one history.
    pub head_hash: Hash,
    /// [`snapshot_checksum`] of the fields above and the bytes.
    pub checksum: Hash,
    pub bytes: Vec<u8>,
}

/// One row of the analysts' balances: the balance of a (holder, item, lot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceRow {
    pub holder: String,
    pub item: String,
    /// Empty when the item is not lot-tracked (the `balances` view shows NULL there; a lot is
    /// never the empty string).
    pub lot: String,
    pub qty: i64,
}

/// One row of the analysts' `transfer_lines`: a line of a transfer (one item of its
/// commitment) and its figures after every batch, as the ledger computes them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransferLineRow {
    pub transfer: String,
    pub item: String,
    /// The transfer's donor and recipient orgs.
    pub donor: String,
    pub recipient: String,
    /// What the transfer record commits of the item.
    pub line_qty: i64,
    /// `line_qty` less what cancellations took off.
    pub committed: i64,
    pub cancelled: i64,
    /// What allocations earmarked, less what cancellations released (a dispatch uses an
    /// earmark up but does not lower this).
    pub allocated: i64,
    /// Left a depot of the donor under the transfer.
    pub dispatched: i64,
    /// Arrived at a holder of the recipient under the transfer.
    pub delivered: i64,
    /// Dispatched, and neither arrived nor gone to a sink.
    pub in_transit: i64,
}

/// What the application derives from the ledger for analysts and hands the store with a
/// commit, to be written in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Derived {
    /// With [`Store::commit_append`]: the lines, after the batch, of every transfer the batch
    /// touched; each replaces the row of its (transfer, item) and the other rows stay. With
    /// [`Store::commit_derived`]: every line of every transfer, replacing the table whole.
    /// Each (transfer, item) at most once.
    pub transfer_lines: Vec<TransferLineRow>,
}

impl Derived {
    /// Nothing derived: a batch that touched no transfer.
    pub const EMPTY: Derived = Derived {
        transfer_lines: Vec::new(),
    };
}

/// Whether the derived tables (`transfer_lines`) hold what the journal says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedState {
    /// Exact after the last batch.
    Current,
    /// Exact only after batch `at`: later batches were stored without their derived rows (a
    /// copy made by `migrate`, an upgrade that brought the table in, or a writer of an older
    /// version). The application rewrites them whole ([`Store::commit_derived`]) the next
    /// time a writer opens the ledger.
    Stale { at: u64 },
    /// The schema has no derived tables: an older one, read as it is by a read-only open.
    Absent,
}

/// How a store is opened. Only [`OpenMode::Create`] may bring a ledger into being: a command
/// that only reads must fail on a mistyped path rather than answer for an empty ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpenMode {
    /// For commands that write: opens the ledger, creating it (the file, or the schema in an
    /// empty PostgreSQL database) when there is none, and upgrades an older schema.
    Create,
    /// An existing ledger, to read and write; upgrades an older schema. Fails with
    /// [`StoreError::NoLedger`] when there is none.
    ReadWrite,
    /// An existing ledger, only to read: writes nothing at all (no schema upgrade, no
    /// persistent setting) and works without write access to the ledger, so an archive on
    /// read-only media can be read. Appends and snapshots fail. Fails with
    /// [`StoreError::NoLedger`] when there is none.
    ReadOnly,
}

impl OpenMode {
    /// Whether the store may write (append, snapshot, upgrade its schema).
    pub fn writes(self) -> bool {
        !matches!(self, OpenMode::ReadOnly)
    }
}

/// One value of an analysts' view, as the views' conformance check compares them across
/// backends. The views use no other types: times are RFC 3339 text, serials JSON text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ViewValue {
    Null,
    Integer(i64),
    Text(String),
}

/// The result of one query over the analysts' views.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewRows {
    /// The result's column names, in order.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<ViewValue>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// There is no ledger where one was to be opened and the [`OpenMode`] does not create
    /// one, or the place cannot hold one (a directory, a device).
    #[error("no ledger at {place}{}", .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    NoLedger {
        /// The file, or the database's URL without its password.
        place: String,
        /// Why, when the place is there but cannot hold a ledger (`None`: nothing is there).
        reason: Option<String>,
    },
    /// The head moved since `begin_append` (another writer won), or an append does not follow the head.
    #[error("append conflict: expected to follow batch {expected}, but the journal is at batch {actual}")]
    Conflict { expected: u64, actual: u64 },
    /// The stored data is not what this version can read (newer schema, corrupt rows).
    #[error("storage format: {0}")]
    Format(String),
    /// Any error of the underlying engine or file system.
    #[error("{0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A durable journal of batches. Implemented by the embedded and the PostgreSQL backends.
///
/// Appending is a three-step protocol that serialises writers across processes:
/// [`Store::begin_append`] takes the journal's write lock and returns the head as it is now
/// (other processes may have appended since this one last read); the caller catches up with
/// [`Store::read_batches`], checks its batch against the new state, and either
/// [`Store::commit_append`]s it (durable when it returns) or [`Store::abort_append`]s. (To
/// rewrite the derived tables whole instead, it ends the protocol with
/// [`Store::commit_derived`].)
///
/// A store is `Send`: a server moves it between threads (one thread at a time uses it).
pub trait Store: Send {
    /// Which backend this is, for messages (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// The last committed batch, without locking.
    fn head(&mut self) -> Result<Head>;

    /// Calls `f` with every batch whose seq is greater than `after`, in order.
    fn read_batches(
        &mut self,
        after: u64,
        f: &mut dyn FnMut(StoredBatch) -> Result<()>,
    ) -> Result<()>;

    /// One batch by its sequence number.
    fn read_batch(&mut self, seq: u64) -> Result<Option<StoredBatch>>;

    /// Takes the write lock (waiting for other writers) and returns the current head.
    fn begin_append(&mut self) -> Result<Head>;

    /// Writes `batch` (which must follow the head returned by `begin_append`), moves the
    /// anchor to it and writes `derived` (the rows of the transfers it touched) in one
    /// transaction, durably, then releases the lock. The derived tables stay exact when they
    /// were exact before. `None`: the batch is stored without its derived rows (a verbatim
    /// copy, as `migrate` makes), and the derived tables are stale from it on, until
    /// [`Store::commit_derived`].
    fn commit_append(&mut self, batch: &StoredBatch, derived: Option<&Derived>) -> Result<()>;

    /// Instead of a batch: replaces the derived tables whole with `derived` (every line of
    /// every transfer after the head `begin_append` returned), marks them exact after it, and
    /// commits, durably, then releases the lock.
    fn commit_derived(&mut self, derived: &Derived) -> Result<()>;

    /// Releases the lock without writing.
    fn abort_append(&mut self) -> Result<()>;

    /// The newest snapshot, if any.
    fn load_snapshot(&mut self) -> Result<Option<Snapshot>>;

    /// Stores a snapshot, replacing older ones, and in the same transaction replaces the base
    /// of the analysts' balances with `balances`: every non-zero balance after batch
    /// `snapshot.seq`. (The `balances` view adds the journal's batches after the base, so it
    /// is exact after every commit without a row written per batch.)
    fn save_snapshot(&mut self, snapshot: &Snapshot, balances: &[BalanceRow]) -> Result<()>;

    /// The head as recorded apart from the journal rows (in the same transaction as each
    /// append), so that `verify` notices batches removed from the end of the journal, which
    /// the hash chain alone cannot show.
    fn anchor(&mut self) -> Result<Head>;

    /// Waits up to `timeout` until the journal holds a batch after `after`, and returns the
    /// head then (which may still be `after` when the time ran out). The default polls
    /// [`Store::head`]; a backend with notifications (PostgreSQL's LISTEN/NOTIFY) overrides it.
    fn wait_for_batches(&mut self, after: u64, timeout: std::time::Duration) -> Result<Head> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let head = self.head()?;
            let now = std::time::Instant::now();
            if head.seq > after || now >= deadline {
                return Ok(head);
            }
            std::thread::sleep(std::time::Duration::from_millis(20).min(deadline - now));
        }
    }

    /// The current non-zero balances as the analysts' `balances` view gives them (base plus
    /// the journal after it), for `verify`.
    fn read_balances(&mut self) -> Result<Vec<BalanceRow>>;

    /// How this store was opened.
    fn mode(&self) -> OpenMode;

    /// Whether the derived tables are exact after the last batch (read without locking).
    fn derived_state(&mut self) -> Result<DerivedState>;

    /// Every row of the analysts' `transfer_lines`, sorted by (transfer, item) in byte order,
    /// for `verify`; empty when the schema has none ([`DerivedState::Absent`]).
    fn read_transfer_lines(&mut self) -> Result<Vec<TransferLineRow>>;
}
