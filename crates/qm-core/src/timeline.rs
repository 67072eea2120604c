//! The history of one (holder, item, lot) balance, ordered by effective time.
//!
//! A B+tree whose leaves hold `(time, delta)` entries, one per distinct effective time, and
//! whose internal nodes keep, for each child, the sum of its deltas and the minimum running
//! balance inside it. That makes the three questions the ledger asks logarithmic in the
//! key's history, whatever order movements arrive in:
//!
//! - `balance_at(t)`: the balance counting every entry at or before `t`;
//! - `min_from(t)`: the lowest balance at any time at or after `t` (is a late withdrawal safe?);
//! - `add(t, delta)`: record a movement, late or not, without reposting anything;
//! - `lowest_in(from, to)`: the lowest balance at any instant of a span (is a floor kept?).
//!
//! Overflow-proof: a timeline keeps its *volume*, the sum of the absolute values of its
//! entries, and [`Timeline::try_add`] refuses (changing nothing) an add that would take it past
//! [`VOLUME_MAX`]. Every running balance and every subtree sum is at most the volume in
//! absolute value, so no sum inside the tree can wrap.
//!
//! Appending at the end (the common case) fills leaves completely; inserts in the middle split
//! leaves in half.

use crate::limits::VOLUME_MAX;
use crate::Time;

/// The largest single delta [`Timeline::try_add`] takes: with the volume at most
/// [`VOLUME_MAX`] before an add, no partial sum can pass `i64::MAX` while the add is applied
/// and checked.
pub const DELTA_MAX: u64 = 1 << 61;

/// An add refused because the timeline's volume would pass [`VOLUME_MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumeExceeded;

/// Entries per leaf.
const LEAF_MAX: usize = 64;
/// Children per internal node.
const NODE_MAX: usize = 32;
/// Entries a leaf keeps when it is filled in time order (a snapshot's bulk load, or appends
/// past a full leaf): the room left is where late entries go without a split. A split of a
/// full, freshly loaded tree cascades up the path (every node on it full too), at several
/// allocations a level; a fill of 7/8, like a database index's, leaves room for most.
const LEAF_FILL: usize = LEAF_MAX / 8 * 7;
/// Children an internal node keeps when it is filled in time order.
const NODE_FILL: usize = NODE_MAX / 8 * 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    time: Time,
    delta: i64,
}

/// Summary of a subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Agg {
    /// Sum of all deltas.
    sum: i64,
    /// Lowest running balance after any entry, relative to the balance before the subtree;
    /// `i64::MAX` when the subtree is empty.
    min: i64,
    /// Earliest time at which `min` is reached.
    min_at: Time,
}

impl Agg {
    const EMPTY: Agg = Agg {
        sum: 0,
        min: i64::MAX,
        min_at: 0,
    };

    fn of_entries(entries: &[Entry]) -> Agg {
        let mut agg = Agg::EMPTY;
        for e in entries {
            agg.sum += e.delta;
            if agg.sum < agg.min {
                agg.min = agg.sum;
                agg.min_at = e.time;
            }
        }
        agg
    }

    /// The summary after adding `delta` at `t` inside the subtree, where that follows from
    /// the summary alone (no pass over the subtree's entries); `None` otherwise.
    ///
    /// - A deposit (`delta >= 0`) after the lowest point leaves it where it is: balances before
    ///   `t` are unchanged, those from `t` on only rise, and a new entry at `t` starts from a
    ///   balance at or above the lowest (the one after the entry before it).
    /// - A withdrawal (`delta <= 0`) at or before a lowest point below zero lowers it by
    ///   `-delta` at the same time: every balance from `t` on falls by the same amount, those
    ///   before `t` stay strictly above the old lowest (it is the earliest), and a new entry at
    ///   `t` starts from one of those or from zero, both above the old lowest.
    ///
    /// These are the common cases: stock arriving late at a holder whose low point is past,
    /// and a source (whose balance only falls) sending late.
    fn after_add(self, t: Time, delta: i64) -> Option<Agg> {
        if self.min == i64::MAX {
            return None;
        }
        if delta >= 0 && self.min_at < t {
            return Some(Agg {
                sum: self.sum + delta,
                ..self
            });
        }
        if delta <= 0 && self.min < 0 && self.min_at >= t {
            return Some(Agg {
                sum: self.sum + delta,
                min: self.min + delta,
                min_at: self.min_at,
            });
        }
        None
    }

    /// The summary after a new entry of `delta` at `t`, after every entry of the subtree.
    fn after_append(self, t: Time, delta: i64) -> Agg {
        let sum = self.sum + delta;
        if sum < self.min {
            Agg {
                sum,
                min: sum,
                min_at: t,
            }
        } else {
            Agg { sum, ..self }
        }
    }

    fn of_children(aggs: &[Agg]) -> Agg {
        let mut agg = Agg::EMPTY;
        for a in aggs {
            if a.min != i64::MAX && agg.sum + a.min < agg.min {
                agg.min = agg.sum + a.min;
                agg.min_at = a.min_at;
            }
            agg.sum += a.sum;
        }
        agg
    }
}

#[derive(Debug, Clone)]
enum Node {
    Leaf(Vec<Entry>),
    Internal(Box<Internal>),
}

#[derive(Debug, Clone)]
struct Internal {
    /// `keys[i]` (for i >= 1) is the lowest time child `i` may hold; `keys[0]` is unused.
    keys: Vec<Time>,
    aggs: Vec<Agg>,
    children: Vec<Node>,
}

impl Internal {
    /// The child that holds (or would hold) time `t`.
    fn route(&self, t: Time) -> usize {
        // Last i >= 1 with keys[i] <= t, else 0.
        self.keys[1..].partition_point(|&k| k <= t)
    }
}

/// What [`Timeline::add`] did, so that it can be undone exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A new entry was created at that time.
    Created,
    /// The delta was merged into an existing entry at that time.
    Merged,
}

/// The history of one balance.
#[derive(Debug, Clone)]
pub struct Timeline {
    root: Node,
    /// Sum of every delta: the balance at the end of time.
    total: i64,
    /// Number of entries (distinct times).
    len: u64,
    /// Time of the last entry, `Time::MIN` when empty.
    last: Time,
    /// Sum of the absolute values of the entries: a bound on every running balance.
    volume: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            root: Node::Leaf(Vec::new()),
            total: 0,
            len: 0,
            last: Time::MIN,
            volume: 0,
        }
    }
}

enum Split {
    None,
    /// The node split; this new right sibling starts at `key`.
    Right {
        key: Time,
        node: Node,
    },
}

impl Timeline {
    /// Builds a timeline from entries sorted by strictly increasing time (the tests' bulk
    /// load; a snapshot is loaded through [`Timeline::try_from_sorted`]).
    #[cfg(test)]
    pub(crate) fn from_sorted(times: &[Time], deltas: &[i64]) -> Timeline {
        assert_eq!(times.len(), deltas.len());
        debug_assert!(times.windows(2).all(|w| w[0] < w[1]));
        let mut entries = times.iter().copied().zip(deltas.iter().copied());
        let built = Timeline::try_from_sorted(times.len(), || {
            Ok::<_, std::convert::Infallible>(entries.next().expect("as many deltas as times"))
        });
        match built {
            Ok(t) => t,
            Err(never) => match never {},
        }
    }

    /// Builds a timeline of `n` entries, each taken from `next` in strictly increasing time
    /// (loading a snapshot: the entries go straight into the leaves, with no copy of them
    /// all in between). The first error from `next` stops the build.
    pub(crate) fn try_from_sorted<E>(
        n: usize,
        mut next: impl FnMut() -> Result<(Time, i64), E>,
    ) -> Result<Timeline, E> {
        let mut t = Timeline::default();
        if n == 0 {
            return Ok(t);
        }
        // Bottom-up bulk load: leaves filled to LEAF_FILL (one leaf of exactly the entries
        // when they fit one), then internal levels filled to NODE_FILL.
        let (fill, cap) = if n <= LEAF_MAX {
            (LEAF_MAX, n)
        } else {
            (LEAF_FILL, LEAF_MAX)
        };
        let mut level: Vec<(Time, Agg, Node)> = Vec::with_capacity(n.div_ceil(fill));
        let mut volume = 0u64;
        let mut last = Time::MIN;
        let mut left = n;
        while left > 0 {
            let take = left.min(fill);
            let mut entries: Vec<Entry> = Vec::with_capacity(cap);
            for _ in 0..take {
                let (time, delta) = next()?;
                volume = volume.saturating_add(delta.unsigned_abs());
                last = time;
                entries.push(Entry { time, delta });
            }
            left -= take;
            level.push((
                entries[0].time,
                Agg::of_entries(&entries),
                Node::Leaf(entries),
            ));
        }
        while level.len() > 1 {
            let fill = if level.len() <= NODE_MAX {
                NODE_MAX
            } else {
                NODE_FILL
            };
            let mut next = Vec::with_capacity(level.len() / fill + 1);
            let mut it = level.into_iter().peekable();
            while it.peek().is_some() {
                let group: Vec<(Time, Agg, Node)> = it.by_ref().take(fill).collect();
                let first = group[0].0;
                let mut node = Internal {
                    keys: Vec::with_capacity(NODE_MAX + 1),
                    aggs: Vec::with_capacity(NODE_MAX + 1),
                    children: Vec::with_capacity(NODE_MAX + 1),
                };
                for (k, a, n) in group {
                    node.keys.push(k);
                    node.aggs.push(a);
                    node.children.push(n);
                }
                let agg = Agg::of_children(&node.aggs);
                next.push((first, agg, Node::Internal(Box::new(node))));
            }
            level = next;
        }
        let (_, agg, root) = level.pop().expect("non-empty");
        t.root = root;
        t.total = agg.sum;
        t.len = n as u64;
        t.last = last;
        t.volume = volume;
        Ok(t)
    }

    /// Whether entries decoded from outside (a snapshot) are within the volume bound.
    pub fn within_volume(&self) -> bool {
        self.volume <= VOLUME_MAX
    }

    /// The sum of the absolute values of the entries.
    pub fn volume(&self) -> u64 {
        self.volume
    }

    /// The balance after every entry: the balance at the end of time.
    pub fn total(&self) -> i64 {
        self.total
    }

    /// Number of distinct times.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Time of the latest entry.
    pub fn last_time(&self) -> Option<Time> {
        (self.len > 0).then_some(self.last)
    }

    /// Adds `delta` at time `t`, unless that would take the volume past [`VOLUME_MAX`]: then
    /// nothing changes.
    pub fn try_add(&mut self, t: Time, delta: i64) -> Result<Added, VolumeExceeded> {
        assert!(
            delta.unsigned_abs() <= DELTA_MAX,
            "a delta of {delta} is past DELTA_MAX: callers bound quantities first"
        );
        let before = self.volume;
        let added = self.add(t, delta);
        if self.volume > VOLUME_MAX {
            self.undo_add(t, delta, added);
            debug_assert_eq!(self.volume, before);
            return Err(VolumeExceeded);
        }
        Ok(added)
    }

    /// Adds `delta` at time `t`. The caller makes sure the volume stays bounded (see
    /// [`Timeline::try_add`]).
    pub fn add(&mut self, t: Time, delta: i64) -> Added {
        // Past the last entry (movements recorded in effective-time order, the common case)
        // the entry goes at the end of the rightmost leaf: no routing keys to read and no
        // search of the leaf, whose lines are the cache misses of an add.
        let at = if self.len > 0 && t > self.last {
            At::End
        } else {
            At::Search
        };
        let (added, split, old) = add_rec(&mut self.root, t, delta, at);
        self.volume = self.volume - old.unsigned_abs() + (old + delta).unsigned_abs();
        if let Split::Right { key, node } = split {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let left_agg = agg_of(&left);
            let right_agg = agg_of(&node);
            self.root = Node::Internal(Box::new(Internal {
                keys: vec![Time::MIN, key],
                aggs: vec![left_agg, right_agg],
                children: vec![left, node],
            }));
        }
        self.total += delta;
        if added == Added::Created {
            self.len += 1;
            self.last = self.last.max(t);
        }
        added
    }

    /// Undoes an [`add`](Self::add) of `delta` at `t` that returned `added`.
    /// Undos must come in reverse order of the adds.
    pub fn undo_add(&mut self, t: Time, delta: i64, added: Added) {
        let current = undo_rec(&mut self.root, t, delta, added);
        self.volume = self.volume - current.unsigned_abs() + (current - delta).unsigned_abs();
        self.total -= delta;
        if added == Added::Created {
            self.len -= 1;
            if self.last == t {
                self.last = last_time_of(&self.root).unwrap_or(Time::MIN);
            }
        }
    }

    /// The balance counting every entry at or before `t`.
    pub fn balance_at(&self, t: Time) -> i64 {
        if t >= self.last {
            return self.total;
        }
        let mut node = &self.root;
        let mut acc = 0i64;
        loop {
            match node {
                Node::Leaf(entries) => {
                    for e in entries {
                        if e.time > t {
                            break;
                        }
                        acc += e.delta;
                    }
                    return acc;
                }
                Node::Internal(n) => {
                    let i = n.route(t);
                    acc += n.aggs[..i].iter().map(|a| a.sum).sum::<i64>();
                    node = &n.children[i];
                }
            }
        }
    }

    /// The lowest balance at any entry at or after `t`, with the earliest time it is reached;
    /// `None` when no entry is at or after `t`.
    pub fn min_from(&self, t: Time) -> Option<(i64, Time)> {
        if self.len == 0 || t > self.last {
            return None;
        }
        let mut best: Option<(i64, Time)> = None;
        let mut node = &self.root;
        let mut base = 0i64;
        loop {
            match node {
                Node::Leaf(entries) => {
                    let mut acc = base;
                    let mut tail: Option<(i64, Time)> = None;
                    for e in entries {
                        acc += e.delta;
                        if e.time >= t && tail.is_none_or(|(b, _)| acc < b) {
                            tail = Some((acc, e.time));
                        }
                    }
                    // Entries of this leaf come before those of the later siblings already
                    // considered, so on a tie the leaf's (earlier) time wins.
                    if let Some((bal, at)) = tail {
                        if best.is_none_or(|(b, _)| bal <= b) {
                            best = Some((bal, at));
                        }
                    }
                    return best;
                }
                Node::Internal(n) => {
                    let i = n.route(t);
                    let before: i64 = n.aggs[..i].iter().map(|a| a.sum).sum();
                    // Later siblings, scanned right to left so that ties keep the earliest time.
                    let mut after_base = base + before + n.aggs[i].sum;
                    let mut later: Vec<(i64, Time)> = Vec::new();
                    for a in &n.aggs[i + 1..] {
                        if a.min != i64::MAX {
                            later.push((after_base + a.min, a.min_at));
                        }
                        after_base += a.sum;
                    }
                    for (bal, at) in later.into_iter().rev() {
                        if best.is_none_or(|(b, _)| bal <= b) {
                            best = Some((bal, at));
                        }
                    }
                    base += before;
                    node = &n.children[i];
                }
            }
        }
    }

    /// The lowest balance at any instant `t` with `from <= t < to`, and the earliest such
    /// instant: the balance at `from` itself, or after an entry inside the span. `None` when
    /// the span is empty.
    pub fn lowest_in(&self, from: Time, to: Time) -> Option<(i64, Time)> {
        if from >= to {
            return None;
        }
        let mut best = (self.balance_at(from), from);
        if let Some((b, at)) = min_between(&self.root, 0, from, to) {
            if b < best.0 {
                best = (b, at);
            }
        }
        Some(best)
    }

    /// The earliest entry at or after `from` after which the balance is below `limit`, with
    /// that balance; `None` when there is none. Logarithmic: subtrees whose lowest balance is
    /// not below the limit are skipped whole.
    pub fn first_below(&self, from: Time, limit: i64) -> Option<(Time, i64)> {
        if self.len == 0 || from > self.last {
            return None;
        }
        first_below_rec(&self.root, 0, from, limit)
    }

    /// Every entry in time order, as (time, delta).
    pub fn entries(&self) -> Vec<(Time, i64)> {
        let mut out = Vec::with_capacity(self.len as usize);
        collect(&self.root, &mut out);
        out
    }

    /// Calls `f` on every entry in time order.
    pub fn for_each(&self, f: &mut dyn FnMut(Time, i64)) {
        for_each_rec(&self.root, f);
    }
}

fn for_each_rec(node: &Node, f: &mut dyn FnMut(Time, i64)) {
    match node {
        Node::Leaf(entries) => entries.iter().for_each(|e| f(e.time, e.delta)),
        Node::Internal(n) => n.children.iter().for_each(|c| for_each_rec(c, f)),
    }
}

fn collect(node: &Node, out: &mut Vec<(Time, i64)>) {
    for_each_rec(node, &mut |t, d| out.push((t, d)));
}

fn agg_of(node: &Node) -> Agg {
    match node {
        Node::Leaf(entries) => Agg::of_entries(entries),
        Node::Internal(n) => Agg::of_children(&n.aggs),
    }
}

fn last_time_of(node: &Node) -> Option<Time> {
    match node {
        Node::Leaf(entries) => entries.last().map(|e| e.time),
        Node::Internal(n) => n.children.iter().rev().find_map(last_time_of),
    }
}

/// Where an add goes.
#[derive(Clone, Copy)]
enum At {
    /// After every entry of the subtree.
    End,
    /// Wherever `t` falls.
    Search,
}

/// Adds `delta` at `t` under `node`: what it did, whether the node split, and the delta the
/// entry at `t` had before (0 for a new entry).
fn add_rec(node: &mut Node, t: Time, delta: i64, at: At) -> (Added, Split, i64) {
    match node {
        Node::Leaf(entries) => {
            let pos = match at {
                At::End => entries.len(),
                At::Search => entries.partition_point(|e| e.time < t),
            };
            if pos < entries.len() && entries[pos].time == t {
                let old = entries[pos].delta;
                entries[pos].delta += delta;
                return (Added::Merged, Split::None, old);
            }
            if entries.len() < LEAF_MAX {
                entries.insert(pos, Entry { time: t, delta });
                return (Added::Created, Split::None, 0);
            }
            if pos == entries.len() {
                // Appending past a full leaf: start a new one with this one's last entries,
                // leaving it filled to LEAF_FILL (room for late entries).
                let mut right = tail(entries, LEAF_FILL, LEAF_MAX);
                right.push(Entry { time: t, delta });
                let key = right[0].time;
                return (
                    Added::Created,
                    Split::Right {
                        key,
                        node: Node::Leaf(right),
                    },
                    0,
                );
            }
            let mut right = tail(entries, LEAF_MAX / 2, LEAF_MAX);
            if pos < LEAF_MAX / 2 {
                entries.insert(pos, Entry { time: t, delta });
            } else {
                right.insert(pos - LEAF_MAX / 2, Entry { time: t, delta });
            }
            let key = right[0].time;
            (
                Added::Created,
                Split::Right {
                    key,
                    node: Node::Leaf(right),
                },
                0,
            )
        }
        Node::Internal(n) => {
            let i = match at {
                At::End => n.children.len() - 1,
                At::Search => n.route(t),
            };
            let (added, split, old) = add_rec(&mut n.children[i], t, delta, at);
            let Split::Right { key, node: new } = split else {
                n.aggs[i] = match at {
                    At::End => n.aggs[i].after_append(t, delta),
                    At::Search => n.aggs[i]
                        .after_add(t, delta)
                        .unwrap_or_else(|| agg_of(&n.children[i])),
                };
                return (added, Split::None, old);
            };
            n.aggs[i] = agg_of(&n.children[i]);
            let new_agg = agg_of(&new);
            n.keys.insert(i + 1, key);
            n.aggs.insert(i + 1, new_agg);
            n.children.insert(i + 1, new);
            if n.children.len() <= NODE_MAX {
                return (added, Split::None, old);
            }
            // Split this node: keep it filled to NODE_FILL when the split came from the
            // rightmost child (appends), halve it otherwise.
            let at = if i + 2 == n.children.len() {
                NODE_FILL
            } else {
                n.children.len() / 2
            };
            let right = Internal {
                keys: tail(&mut n.keys, at, NODE_MAX + 1),
                aggs: tail(&mut n.aggs, at, NODE_MAX + 1),
                children: tail(&mut n.children, at, NODE_MAX + 1),
            };
            let key = right.keys[0];
            (
                added,
                Split::Right {
                    key,
                    node: Node::Internal(Box::new(right)),
                },
                old,
            )
        }
    }
}

/// Moves `v[at..]` into a new vector of capacity `cap` (one allocation, unlike a
/// `split_off` then a `reserve`).
fn tail<T>(v: &mut Vec<T>, at: usize, cap: usize) -> Vec<T> {
    let mut right = Vec::with_capacity(cap.max(v.len() - at));
    right.extend(v.drain(at..));
    right
}

/// Undoes an add under `node`; gives back the entry's delta before the undo.
fn undo_rec(node: &mut Node, t: Time, delta: i64, added: Added) -> i64 {
    match node {
        Node::Leaf(entries) => {
            let pos = entries.partition_point(|e| e.time < t);
            assert!(
                pos < entries.len() && entries[pos].time == t,
                "undo of an entry that is not there"
            );
            let current = entries[pos].delta;
            match added {
                Added::Created => {
                    assert_eq!(current, delta, "undo out of order");
                    entries.remove(pos);
                }
                Added::Merged => entries[pos].delta -= delta,
            }
            current
        }
        Node::Internal(n) => {
            let i = n.route(t);
            let current = undo_rec(&mut n.children[i], t, delta, added);
            n.aggs[i] = agg_of(&n.children[i]);
            current
        }
    }
}

fn first_below_rec(node: &Node, base: i64, from: Time, limit: i64) -> Option<(Time, i64)> {
    match node {
        Node::Leaf(entries) => {
            let mut acc = base;
            for e in entries {
                acc += e.delta;
                if e.time >= from && acc < limit {
                    return Some((e.time, acc));
                }
            }
            None
        }
        Node::Internal(n) => {
            let mut acc = base;
            for i in 0..n.children.len() {
                let end = n.keys.get(i + 1).copied();
                let a = n.aggs[i];
                let reaches_from = end.is_none_or(|e| e > from);
                if reaches_from && a.min != i64::MAX && acc + a.min < limit {
                    if let Some(hit) = first_below_rec(&n.children[i], acc, from, limit) {
                        return Some(hit);
                    }
                }
                acc += a.sum;
            }
            None
        }
    }
}

/// The lowest running balance after an entry with `lo < time < hi`, and the earliest time it
/// is reached; `base` is the balance before `node`'s first entry.
fn min_between(node: &Node, base: i64, lo: Time, hi: Time) -> Option<(i64, Time)> {
    let mut best: Option<(i64, Time)> = None;
    let mut keep = |cand: Option<(i64, Time)>| {
        if let Some((b, at)) = cand {
            if best.is_none_or(|(x, _)| b < x) {
                best = Some((b, at));
            }
        }
    };
    match node {
        Node::Leaf(entries) => {
            let mut acc = base;
            for e in entries {
                if e.time >= hi {
                    break;
                }
                acc += e.delta;
                if e.time > lo {
                    keep(Some((acc, e.time)));
                }
            }
        }
        Node::Internal(n) => {
            let mut acc = base;
            for i in 0..n.children.len() {
                let start = if i == 0 { Time::MIN } else { n.keys[i] };
                if start >= hi {
                    break;
                }
                let end = n.keys.get(i + 1).copied(); // exclusive; None: unbounded
                let before_lo = end.is_some_and(|e| e <= lo.saturating_add(1));
                if !before_lo {
                    let inside = start > lo && end.is_some_and(|e| e <= hi);
                    if inside {
                        let a = n.aggs[i];
                        if a.min != i64::MAX {
                            keep(Some((acc + a.min, a.min_at)));
                        }
                    } else {
                        keep(min_between(&n.children[i], acc, lo, hi));
                    }
                }
                acc += n.aggs[i].sum;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain model: (time, delta) pairs; answers by sorting and summing.
    fn model_balance(m: &[(Time, i64)], t: Time) -> i64 {
        m.iter().filter(|(at, _)| *at <= t).map(|(_, d)| d).sum()
    }

    fn model_min_from(m: &[(Time, i64)], t: Time) -> Option<(i64, Time)> {
        let mut sorted = m.to_vec();
        sorted.sort_by_key(|(at, _)| *at);
        let mut best: Option<(i64, Time)> = None;
        let mut acc = 0;
        for (i, &(at, d)) in sorted.iter().enumerate() {
            acc += d;
            let last_at_this_time = sorted.get(i + 1).is_none_or(|(next, _)| *next != at);
            if at >= t && last_at_this_time && best.is_none_or(|(b, _)| acc < b) {
                best = Some((acc, at));
            }
        }
        best
    }

    fn model_first_below(m: &[(Time, i64)], from: Time, limit: i64) -> Option<(Time, i64)> {
        let mut times: Vec<Time> = m.iter().map(|(t, _)| *t).filter(|t| *t >= from).collect();
        times.sort();
        times.dedup();
        times
            .into_iter()
            .map(|t| (t, model_balance(m, t)))
            .find(|&(_, b)| b < limit)
    }

    fn model_lowest_in(m: &[(Time, i64)], from: Time, to: Time) -> Option<(i64, Time)> {
        if from >= to {
            return None;
        }
        let mut best = (model_balance(m, from), from);
        let mut times: Vec<Time> = m
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| *t > from && *t < to)
            .collect();
        times.sort();
        times.dedup();
        for t in times {
            let b = model_balance(m, t);
            if b < best.0 {
                best = (b, t);
            }
        }
        Some(best)
    }

    /// Every summary an internal node keeps equals the one computed from its child's
    /// entries (the summaries [`Agg::after_add`] derives without looking at them included).
    fn recomputed(node: &Node) -> Agg {
        match node {
            Node::Leaf(entries) => Agg::of_entries(entries),
            Node::Internal(n) => {
                let aggs: Vec<Agg> = n.children.iter().map(recomputed).collect();
                assert_eq!(
                    aggs, n.aggs,
                    "a kept summary differs from its child's entries"
                );
                Agg::of_children(&aggs)
            }
        }
    }

    fn check_against_model(ops: &[(Time, i64)], probes: &[Time]) {
        let mut tl = Timeline::default();
        let mut model: Vec<(Time, i64)> = Vec::new();
        for &(t, d) in ops {
            tl.add(t, d);
            model.push((t, d));
        }
        recomputed(&tl.root);
        let mut distinct: Vec<Time> = model.iter().map(|(t, _)| *t).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(tl.len(), distinct.len() as u64);
        assert_eq!(tl.total(), model.iter().map(|(_, d)| d).sum::<i64>());
        for &p in probes {
            assert_eq!(
                tl.balance_at(p),
                model_balance(&model, p),
                "balance_at({p})"
            );
            assert_eq!(tl.min_from(p), model_min_from(&model, p), "min_from({p})");
        }
        for w in probes.windows(2) {
            let (a, b) = (w[0].min(w[1]), w[0].max(w[1]));
            assert_eq!(
                tl.lowest_in(a, b),
                model_lowest_in(&model, a, b),
                "lowest_in({a}, {b})"
            );
        }
        for &p in probes {
            assert_eq!(
                tl.first_below(p, 0),
                model_first_below(&model, p, 0),
                "first_below({p})"
            );
            assert_eq!(
                tl.first_below(p, 3),
                model_first_below(&model, p, 3),
                "first_below({p}, 3)"
            );
        }
        let volume: u64 = tl.entries().iter().map(|(_, d)| d.unsigned_abs()).sum();
        assert_eq!(tl.volume(), volume);
        // Bulk loading the same entries answers the same.
        let entries = tl.entries();
        let (ts, ds): (Vec<Time>, Vec<i64>) = entries.iter().copied().unzip();
        let mut bulk = Timeline::from_sorted(&ts, &ds);
        recomputed(&bulk.root);
        for &p in probes {
            assert_eq!(bulk.balance_at(p), tl.balance_at(p));
            assert_eq!(bulk.min_from(p), tl.min_from(p));
        }
        // And takes the same adds again (late ones into its slack) as the built one does.
        for &(t, d) in ops {
            tl.add(t, d);
            bulk.add(t, d);
        }
        recomputed(&bulk.root);
        assert_eq!(bulk.entries(), tl.entries());
        for &p in probes {
            assert_eq!(bulk.balance_at(p), tl.balance_at(p));
            assert_eq!(bulk.min_from(p), tl.min_from(p));
        }
    }

    fn leaves(node: &Node) -> usize {
        match node {
            Node::Leaf(_) => 1,
            Node::Internal(n) => n.children.iter().map(leaves).sum(),
        }
    }

    #[test]
    fn time_ordered_trees_leave_room_for_late_entries() {
        // Built by appends, or bulk loaded from the same entries (a snapshot): a late entry
        // between every two leaves' first entries finds room without a split.
        let mut built = Timeline::default();
        for i in 0..20_000 {
            built.add(i * 10, 1);
        }
        let (ts, ds): (Vec<Time>, Vec<i64>) = built.entries().into_iter().unzip();
        let bulk = Timeline::from_sorted(&ts, &ds);
        for mut tl in [built, bulk] {
            let before = leaves(&tl.root);
            assert!(before >= 20_000 / LEAF_MAX, "{before} leaves");
            // One late entry per LEAF_FILL entries lands once in every leaf but the last
            // (which appends fill to LEAF_MAX).
            for i in 0..20_000 / LEAF_FILL as i64 - 1 {
                tl.add(i * LEAF_FILL as i64 * 10 + 5, 1);
            }
            recomputed(&tl.root);
            assert_eq!(leaves(&tl.root), before, "a late entry split a leaf");
        }
        // A timeline that fits one leaf is loaded into exactly its entries.
        let small = Timeline::from_sorted(&[1, 2, 3], &[1, 1, 1]);
        let Node::Leaf(entries) = &small.root else {
            panic!("one leaf")
        };
        assert_eq!(entries.capacity(), 3);
    }

    #[test]
    fn appends_and_late_inserts_match_the_model_across_many_levels() {
        // 20,000 entries: three levels deep, with late inserts all over.
        let mut ops = Vec::new();
        for i in 0..5_000i64 {
            ops.push((i * 10, if i % 3 == 0 { -2 } else { 3 }));
        }
        for i in 0..1_500i64 {
            ops.push(((i * 7919) % 50_000 + 5, -1));
        }
        let probes: Vec<Time> = (0..60).map(|i| i * 1003 - 7).collect();
        check_against_model(&ops, &probes);
    }

    #[test]
    fn undo_restores_every_answer() {
        let mut tl = Timeline::default();
        for i in 0..5_000 {
            tl.add(i * 2, 1);
        }
        let before = tl.entries();
        let mut log = Vec::new();
        for i in 0..2_000 {
            let t = (i * 37) % 10_001;
            let d = if i % 2 == 0 { 5 } else { -3 };
            log.push((t, d, tl.add(t, d)));
        }
        for (t, d, added) in log.into_iter().rev() {
            tl.undo_add(t, d, added);
        }
        assert_eq!(tl.entries(), before);
        assert_eq!(tl.total(), 5_000);
        assert_eq!(tl.last_time(), Some(9_998));
        assert_eq!(tl.min_from(0), Some((1, 0)));
    }

    #[test]
    fn try_add_refuses_past_the_volume_bound_and_changes_nothing() {
        let mut tl = Timeline::default();
        let big = DELTA_MAX as i64;
        tl.try_add(1, big).unwrap();
        tl.try_add(2, -big).unwrap();
        assert_eq!(tl.volume(), VOLUME_MAX);
        let before = tl.entries();
        assert_eq!(tl.try_add(3, 1), Err(VolumeExceeded));
        assert_eq!(tl.try_add(1, 1), Err(VolumeExceeded));
        assert_eq!(tl.entries(), before);
        assert_eq!(tl.volume(), VOLUME_MAX);
        // Merging towards zero lowers the volume and is always allowed.
        tl.try_add(1, -5).unwrap();
        assert_eq!(tl.volume(), VOLUME_MAX - 5);
        assert_eq!(tl.total(), -5);
    }

    #[test]
    fn ties_report_the_earliest_time() {
        let mut tl = Timeline::default();
        tl.add(10, 5);
        tl.add(20, -5);
        tl.add(30, 5);
        tl.add(40, -5);
        assert_eq!(tl.min_from(0), Some((0, 20)));
        assert_eq!(tl.min_from(21), Some((0, 40)));
        assert_eq!(tl.min_from(41), None);
    }

    #[test]
    fn entries_before_every_other_keep_the_summaries_exact() {
        // A tree of deposits (every low point at its first entry, above zero), then
        // withdrawals and deposits earlier than anything in it, then the same after it.
        let mut ops: Vec<(Time, i64)> = (100..1000).map(|t| (t, 3)).collect();
        ops.extend([
            (50, -1),
            (40, -2),
            (30, 5),
            (20, -7),
            (1500, -4000),
            (1400, 2),
        ]);
        ops.extend((1001..1300).map(|t| (t, -1)));
        ops.extend([(1200, 6), (10, -3)]);
        check_against_model(&ops, &[0, 5, 25, 45, 99, 500, 1000, 1250, 1450, 2000]);
    }

    proptest! {
        #[test]
        fn random_histories_match_the_model(
            ops in proptest::collection::vec((0i64..400, -5i64..6), 0..600),
            probes in proptest::collection::vec(-5i64..405, 1..20),
        ) {
            check_against_model(&ops, &probes);
        }

        /// Mostly deposits or mostly withdrawals, in time order with late ones among them:
        /// the shapes whose summaries are derived without a pass over the entries.
        #[test]
        fn one_sided_histories_match_the_model(
            deposits in any::<bool>(),
            ops in proptest::collection::vec((0i64..2000, 0i64..6, 0u8..10), 0..900),
            probes in proptest::collection::vec(-5i64..2005, 1..20),
        ) {
            let sign = if deposits { 1 } else { -1 };
            let ops: Vec<(Time, i64)> = ops
                .iter()
                .enumerate()
                .map(|(i, &(late, d, flip))| {
                    // Nine in ten in time order, one in ten at a random earlier time; one in
                    // ten the other way.
                    let t = if flip == 0 { late.min(i as i64 * 2) } else { i as i64 * 2 };
                    (t, if flip == 1 { -sign * d } else { sign * d })
                })
                .collect();
            check_against_model(&ops, &probes);
        }
    }
}
