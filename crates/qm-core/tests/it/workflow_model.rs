//! The workflow against a plain, slow model of `workflow.md`, on random batches of transfers,
//! allocations, cancellations, pauses, resumptions and movements (many late, many reusing
//! ids, identically or not). Every accept/reject must agree, and at the end every line's
//! figures, every depot's earmarks and the donor's available stock at several as-of times.
//!
//! The model keeps the accepted records in lists and recomputes every figure from them by
//! summing, at every time that matters (each record's time and each floor's start): no
//! timelines, no indexes. Its rules are the spec's, with the project's documented choices
//! (docs/interchange.md): records of a batch apply kind by kind (transfers, pauses,
//! resumptions, allocations, movements, cancellations); a cancellation without a qty takes
//! the undispatched remainder as recorded, never lowers the commitment below what is
//! dispatched at any time, and releases allocations above the new commitment at its time
//! and at every later time they would stand above it (a later allocation at its own time),
//! from the newest earmark first, each as far as it stands from then on. A batch applies its
//! declarations (transfers here) first, then every other record in file order, each judged
//! on what is recorded before it; balances, earmarks and commitments are checked on the final
//! state.

use proptest::prelude::*;
use qm_core::*;

use crate::dsl::{parse_batch, secs};
use crate::rules::Harness;

const SETUP: &str = "org us; org ua
holder src us source; holder d1 us depot; holder d2 us depot; holder hub us transit; holder lost us sink
holder u1 ua unit; holder gone ua sink
item drone bulk category=uav; item shell bulk category=artillery";

fn org_of(h: &str) -> &'static str {
    match h {
        "u1" | "gone" => "ua",
        _ => "us",
    }
}

fn kind_of(h: &str) -> HolderKind {
    match h {
        "src" => HolderKind::Source,
        "d1" | "d2" => HolderKind::Depot,
        "hub" => HolderKind::Transit,
        "u1" => HolderKind::Unit,
        _ => HolderKind::Sink,
    }
}

fn category_of(item: &str) -> &'static str {
    if item == "drone" {
        "uav"
    } else {
        "artillery"
    }
}

/// A release a cancellation made: (transfer, depot, item, time, qty).
type Release = (String, String, String, Time, u64);

#[derive(Default, Clone)]
struct Model {
    floors: Vec<Floor>,
    transfers: Vec<Transfer>,
    pauses: Vec<Pause>,
    resumes: Vec<Resume>,
    allocations: Vec<Allocate>,
    movements: Vec<Movement>,
    cancels: Vec<Cancel>,
    /// (cancel id, item, qty cancelled)
    cancelled: Vec<(String, String, u64)>,
    releases: Vec<Release>,
    /// Earmarks (transfer, depot, item) in the order they were first made.
    earmark_order: Vec<(String, String, String)>,
    /// Transfer ids movements used while no such transfer was declared.
    labels: Vec<String>,
    /// The pauses of the batch being applied, with their line in it.
    batch_pauses: Vec<(String, usize)>,
}

impl Model {
    fn transfer(&self, id: &str) -> Option<&Transfer> {
        self.transfers.iter().find(|t| t.id == id)
    }

    fn balance(&self, holder: &str, item: &str, t: Time) -> i64 {
        self.movements
            .iter()
            .filter(|m| m.item == item && m.time <= t)
            .map(|m| {
                if m.to == holder {
                    m.qty as i64
                } else if m.from == holder {
                    -(m.qty as i64)
                } else {
                    0
                }
            })
            .sum()
    }

    fn is_dispatch(&self, m: &Movement) -> Option<&Transfer> {
        let t = self.transfer(m.transfer.as_deref()?)?;
        (kind_of(&m.from) == HolderKind::Depot && org_of(&m.from) == t.donor).then_some(t)
    }

    /// What transfer `tr` has earmarked at (depot, item) at `t`.
    fn earmark(&self, tr: &str, depot: &str, item: &str, t: Time) -> i64 {
        let alloc: i64 = self
            .allocations
            .iter()
            .filter(|a| a.transfer == tr && a.from == depot && a.item == item && a.time <= t)
            .map(|a| a.qty as i64)
            .sum();
        let dispatched: i64 = self
            .movements
            .iter()
            .filter(|m| {
                m.transfer.as_deref() == Some(tr)
                    && m.from == depot
                    && m.item == item
                    && m.time <= t
                    && self.is_dispatch(m).is_some()
            })
            .map(|m| m.qty as i64)
            .sum();
        let released: i64 = self
            .releases
            .iter()
            .filter(|r| r.0 == tr && r.1 == depot && r.2 == item && r.3 <= t)
            .map(|r| r.4 as i64)
            .sum();
        alloc - dispatched - released
    }

    fn depot_earmarked(&self, depot: &str, item: &str, t: Time) -> i64 {
        self.transfers
            .iter()
            .map(|tr| self.earmark(&tr.id, depot, item, t))
            .sum()
    }

    fn org_available(&self, org: &str, item: &str, t: Time) -> i64 {
        ["d1", "d2"]
            .into_iter()
            .filter(|d| org_of(d) == org)
            .map(|d| self.balance(d, item, t) - self.depot_earmarked(d, item, t))
            .sum()
    }

    fn floor(&self, org: &str, item: &str, t: Time) -> Option<u64> {
        let mut best: Option<&Floor> = None;
        for f in &self.floors {
            let applies = f.org == org && f.item == item && f.time.is_none_or(|ft| ft <= t);
            if applies && best.is_none_or(|b| f.time >= b.time) {
                best = Some(f);
            }
        }
        best.map(|f| f.min_qty)
    }

    /// (committed, cancelled, allocated, dispatched, delivered, in_transit) of a line at `t`.
    fn figures(&self, tr: &Transfer, item: &str, t: Time) -> [u64; 6] {
        if t < tr.time {
            return [0; 6];
        }
        let qty = tr
            .lines
            .iter()
            .find(|l| l.item == item)
            .map_or(0, |l| l.qty);
        let cancelled: u64 = self
            .cancels
            .iter()
            .filter(|c| c.transfer == tr.id && c.time <= t)
            .flat_map(|c| self.cancelled.iter().filter(move |x| x.0 == c.id))
            .filter(|x| x.1 == item)
            .map(|x| x.2)
            .sum();
        let allocated: u64 = self
            .allocations
            .iter()
            .filter(|a| a.transfer == tr.id && a.item == item && a.time <= t)
            .map(|a| a.qty)
            .sum::<u64>()
            - self
                .releases
                .iter()
                .filter(|r| r.0 == tr.id && r.2 == item && r.3 <= t)
                .map(|r| r.4)
                .sum::<u64>();
        let mut dispatched = 0;
        let mut delivered = 0;
        let mut sunk = 0;
        for m in &self.movements {
            if m.transfer.as_deref() != Some(&tr.id) || m.item != item || m.time > t {
                continue;
            }
            if self.is_dispatch(m).is_some() {
                dispatched += m.qty;
            }
            let (fo, to) = (org_of(&m.from), org_of(&m.to));
            if to == tr.recipient && fo != tr.recipient {
                delivered += m.qty;
            } else if kind_of(&m.to) == HolderKind::Sink && fo != tr.recipient {
                sunk += m.qty;
            }
        }
        let in_transit = dispatched.saturating_sub(delivered + sunk);
        [
            qty - cancelled,
            cancelled,
            allocated,
            dispatched,
            delivered,
            in_transit,
        ]
    }

    fn pause_stands(&self, p: &Pause, t: Time) -> bool {
        let until = self
            .resumes
            .iter()
            .find(|r| r.pause == p.id)
            .map(|r| r.time);
        p.time <= t && until.is_none_or(|u| t < u)
    }

    fn paused(&self, tr: &Transfer, item: &str, t: Time, line: usize) -> bool {
        self.pauses.iter().any(|p| {
            let later_in_batch = self
                .batch_pauses
                .iter()
                .any(|(id, l)| *id == p.id && *l > line);
            !later_in_batch
                && self.pause_stands(p, t)
                && p.items.as_ref().is_none_or(|i| i.iter().any(|x| x == item))
                && p.categories
                    .as_ref()
                    .is_none_or(|c| c.iter().any(|x| x == category_of(item)))
                && p.donor.as_ref().is_none_or(|d| *d == tr.donor)
                && p.recipient.as_ref().is_none_or(|r| *r == tr.recipient)
                && p.transfer.as_ref().is_none_or(|x| *x == tr.id)
        })
    }

    /// Every time that matters from `from` on: `from`, every record's time, every floor start.
    fn times_from(&self, from: Time) -> Vec<Time> {
        let mut ts: Vec<Time> = vec![from];
        ts.extend(self.movements.iter().map(|m| m.time));
        ts.extend(self.allocations.iter().map(|a| a.time));
        ts.extend(self.cancels.iter().map(|c| c.time));
        ts.extend(self.transfers.iter().map(|t| t.time));
        ts.extend(self.floors.iter().filter_map(|f| f.time));
        ts.retain(|&t| t >= from);
        ts.sort();
        ts.dedup();
        ts
    }

    /// Applies a batch to a copy; `None` when it is rejected.
    fn apply(&self, batch: &[Record]) -> Option<Model> {
        let mut m = self.clone();
        m.batch_pauses.clear();
        // Declarations first, then the rest in file order.
        let mut order: Vec<(usize, &Record)> = batch
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind().is_declaration())
            .collect();
        order.sort_by_key(|(i, r)| (r.kind(), *i));
        order.extend(
            batch
                .iter()
                .enumerate()
                .filter(|(_, r)| !r.kind().is_declaration()),
        );
        let mut dispatch_earmarks: Vec<(String, String, String, Time)> = Vec::new();
        let mut touched_lines: Vec<(String, String, Time)> = Vec::new();
        let mut new_movements = 0usize;
        {
            for (line, r) in order {
                match r {
                    Record::Floor(f) => m.floors.push(f.clone()),
                    Record::Transfer(t) => {
                        if let Some(old) = m.transfer(&t.id) {
                            if old != t {
                                return None;
                            }
                            continue;
                        }
                        if t.donor == t.recipient || m.labels.contains(&t.id) {
                            return None;
                        }
                        m.transfers.push(t.clone());
                    }
                    Record::Pause(p) => {
                        if let Some(old) = m.pauses.iter().find(|x| x.id == p.id) {
                            if old != p {
                                return None;
                            }
                            continue;
                        }
                        if p.transfer.as_ref().is_some_and(|t| m.transfer(t).is_none()) {
                            return None;
                        }
                        m.pauses.push(p.clone());
                        m.batch_pauses.push((p.id.clone(), line));
                    }
                    Record::Resume(x) => {
                        if let Some(old) = m.resumes.iter().find(|y| y.id == x.id) {
                            if old != x {
                                return None;
                            }
                            continue;
                        }
                        let p = m.pauses.iter().find(|p| p.id == x.pause)?;
                        if x.time < p.time || m.resumes.iter().any(|y| y.pause == x.pause) {
                            return None;
                        }
                        m.resumes.push(x.clone());
                    }
                    Record::Allocate(a) => {
                        if let Some(old) = m.allocations.iter().find(|y| y.id == a.id) {
                            if old != a {
                                return None;
                            }
                            continue;
                        }
                        let t = m.transfer(&a.transfer)?.clone();
                        if a.time < t.time
                            || !t.lines.iter().any(|l| l.item == a.item)
                            || kind_of(&a.from) != HolderKind::Depot
                            || org_of(&a.from) != t.donor
                            || m.paused(&t, &a.item, a.time, line)
                        {
                            return None;
                        }
                        // Judged on what is recorded before it: the depot covers it at its
                        // time and after, and the donor stays at or above its floor.
                        let times = m.times_from(a.time);
                        if times.iter().any(|&at| {
                            m.balance(&a.from, &a.item, at)
                                - m.depot_earmarked(&a.from, &a.item, at)
                                < a.qty as i64
                        }) {
                            return None;
                        }
                        let donor = t.donor.clone();
                        let breach = times.iter().any(|&at| {
                            m.floor(&donor, &a.item, at).is_some_and(|f| {
                                (m.org_available(&donor, &a.item, at) as i128 - a.qty as i128)
                                    < f as i128
                            })
                        });
                        if breach && a.override_.is_none() {
                            return None;
                        }
                        let key = (a.transfer.clone(), a.from.clone(), a.item.clone());
                        if !m.earmark_order.contains(&key) {
                            m.earmark_order.push(key);
                        }
                        m.allocations.push(a.clone());
                        touched_lines.push((a.transfer.clone(), a.item.clone(), a.time));
                    }
                    Record::Movement(mv) => {
                        if let Some(old) = m.movements.iter().find(|y| y.id == mv.id) {
                            if old != mv {
                                return None;
                            }
                            continue;
                        }
                        if mv.from == mv.to
                            || kind_of(&mv.from) == HolderKind::Sink
                            || kind_of(&mv.to) == HolderKind::Source
                        {
                            return None;
                        }
                        if let Some(t) = m.is_dispatch(mv).cloned() {
                            let key = (t.id.clone(), mv.from.clone(), mv.item.clone());
                            if !t.lines.iter().any(|l| l.item == mv.item)
                                || m.paused(&t, &mv.item, mv.time, line)
                            {
                                return None;
                            }
                            if !m.earmark_order.contains(&key) {
                                m.earmark_order.push(key.clone());
                            }
                            dispatch_earmarks.push((key.0, key.1, key.2, mv.time));
                        }
                        if let Some(label) = &mv.transfer {
                            if m.transfer(label).is_none() && !m.labels.contains(label) {
                                m.labels.push(label.clone());
                            }
                        }
                        m.movements.push(mv.clone());
                        new_movements += 1;
                    }
                    Record::Cancel(c) => {
                        if let Some(old) = m.cancels.iter().find(|y| y.id == c.id) {
                            if old != c {
                                return None;
                            }
                            continue;
                        }
                        let t = m.transfer(&c.transfer)?.clone();
                        if c.time < t.time || (c.qty.is_some() && c.item.is_none()) {
                            return None;
                        }
                        let items: Vec<String> = match &c.item {
                            Some(i) if t.lines.iter().any(|l| &l.item == i) => vec![i.clone()],
                            Some(_) => return None,
                            None => t.lines.iter().map(|l| l.item.clone()).collect(),
                        };
                        let end = Time::MAX;
                        for item in items {
                            let [committed, _, _, dispatched, _, _] = m.figures(&t, &item, end);
                            let remainder = committed.saturating_sub(dispatched);
                            let q = c.qty.unwrap_or(remainder);
                            if q > remainder {
                                return None;
                            }
                            let earmarks: Vec<(String, String, String)> = m
                                .earmark_order
                                .iter()
                                .rev()
                                .filter(|k| k.0 == t.id && k.2 == item)
                                .cloned()
                                .collect();
                            // At the cancellation's time and every later time, release what
                            // the allocations (less the releases so far) stand above the new
                            // commitment, dated then.
                            for at in m.times_from(c.time) {
                                let [committed, _, allocated, ..] = m.figures(&t, &item, at);
                                let mut to_release =
                                    allocated.saturating_sub(committed.saturating_sub(q));
                                for k in &earmarks {
                                    if to_release == 0 {
                                        break;
                                    }
                                    let lowest = m
                                        .times_from(at)
                                        .into_iter()
                                        .map(|x| m.earmark(&k.0, &k.1, &k.2, x))
                                        .min()
                                        .unwrap_or(0);
                                    let take = to_release.min(lowest.max(0) as u64);
                                    if take > 0 {
                                        m.releases.push((
                                            k.0.clone(),
                                            k.1.clone(),
                                            k.2.clone(),
                                            at,
                                            take,
                                        ));
                                        to_release -= take;
                                    }
                                }
                            }
                            m.cancelled.push((c.id.clone(), item.clone(), q));
                            touched_lines.push((t.id.clone(), item, c.time));
                        }
                        m.cancels.push(c.clone());
                    }
                    _ => unreachable!("the generator makes workflow records and movements only"),
                }
            }
        }
        let _ = new_movements;
        // Balances of non-sources never negative, at any time.
        for h in ["d1", "d2", "hub", "u1"] {
            for item in ["drone", "shell"] {
                if m.times_from(Time::MIN)
                    .into_iter()
                    .any(|t| m.balance(h, item, t) < 0)
                {
                    return None;
                }
            }
        }
        // Lines: allocations within the commitment at and after each touched time.
        for (tr, item, from) in &touched_lines {
            let t = m.transfer(tr).unwrap();
            for at in m.times_from(*from) {
                let [committed, _, allocated, ..] = m.figures(t, item, at);
                if allocated > committed {
                    return None;
                }
            }
        }
        for (tr, depot, item, from) in &dispatch_earmarks {
            if m.times_from(*from)
                .into_iter()
                .any(|at| m.earmark(tr, depot, item, at) < 0)
            {
                return None;
            }
        }
        Some(m)
    }
}

/// What every case starts from: stock at both depots and two transfers.
const PRELUDE: &str = "mv s1 1 drone 400 src>d1; mv s2 1 drone 300 src>d2; mv s3 1 shell 200 src>d1
mv s4 1 shell 100 src>d2; xfer t0 2 us>ua drone:300,shell:100; xfer t1 3 us>ua drone:200,shell:80";

fn l_transfers(l: &Ledger) -> Vec<String> {
    l.transfers().iter().map(|t| t.record.id.clone()).collect()
}

/// Every line's figures of a transfer at several times.
fn l_figures(l: &Ledger, id: &str) -> Vec<LineFigures> {
    let t = l.transfer(id).unwrap();
    t.lines
        .iter()
        .flat_map(|line| {
            [5, 15, 30, 45, 60, 1000]
                .map(|at| line.figures(t.record.time, Some(secs(&at.to_string()))))
        })
        .collect()
}

/// One random record, as a line of the test notation: mostly records that can be valid, so
/// that every rule is exercised on both sides.
fn record() -> impl Strategy<Value = String> {
    let t = || 1i64..60;
    let item = || prop_oneof![3 => Just("drone"), 1 => Just("shell")];
    let qty = || 1u64..25;
    let depot = || prop_oneof![Just("d1"), Just("d2")];
    let tr = || prop_oneof![4 => Just("t0"), 3 => Just("t1"), 1 => Just("t2")];
    prop_oneof![
        // Stock in, between depots, and out of them.
        2 => (0u8..60, t(), item(), qty(), depot()).prop_map(|(n, t, i, q, d)| format!("mv m{n} {t} {i} {q} src>{d}")),
        1 => (0u8..60, t(), item(), qty(), prop_oneof![Just("d1>d2"), Just("d2>d1"), Just("d1>lost")]).prop_map(|(n, t, i, q, dd)| format!("mv m{n} {t} {i} {q} {dd}")),
        // Dispatches, onward movements and deliveries under a transfer.
        5 => (0u8..60, 20i64..60, item(), 1u64..10, depot(), tr()).prop_map(|(n, t, i, q, d, x)| format!("mv m{n} {t} {i} {q} {d}>hub transfer={x}")),
        2 => (0u8..60, t(), item(), qty(), depot(), tr()).prop_map(|(n, t, i, q, d, x)| format!("mv m{n} {t} {i} {q} {d}>u1 transfer={x}")),
        3 => (0u8..60, t(), item(), 1u64..10, tr(), prop_oneof![4 => Just("u1"), 1 => Just("lost"), 1 => Just("gone")]).prop_map(|(n, t, i, q, x, to)| format!("mv m{n} {t} {i} {q} hub>{to} transfer={x}")),
        1 => (0u8..60, t(), item(), qty()).prop_map(|(n, t, i, q)| format!("mv m{n} {t} {i} {q} u1>gone")),
        // Transfers, allocations, cancellations.
        1 => (1i64..30, 1u64..60, 1u64..60).prop_map(|(t, a, b)| format!("xfer t2 {t} us>ua drone:{a},shell:{b}")),
        8 => (0u8..30, 1i64..40, tr(), item(), 1u64..15, depot(), proptest::bool::weighted(0.3)).prop_map(|(n, t, x, i, q, d, o)| {
            format!("alloc a{n} {t} {x} {i} {q} {d}{}", if o { " override=urgent" } else { "" })
        }),
        2 => (0u8..8, t(), tr(), proptest::option::of((item(), proptest::option::of(1u64..15)))).prop_map(|(n, t, x, iq)| match iq {
            None => format!("cancel c{n} {t} {x}"),
            Some((i, None)) => format!("cancel c{n} {t} {x} {i}"),
            Some((i, Some(q))) => format!("cancel c{n} {t} {x} {i} {q}"),
        }),
        // Pauses of every scope, and resumptions.
        2 => (0u8..4, 1i64..40, prop_oneof![
            3 => Just("items=shell".to_string()),
            2 => Just("categories=artillery".to_string()),
            1 => Just("donor=us".to_string()),
            1 => Just("recipient=ua".to_string()),
            3 => tr().prop_map(|x| format!("transfer={x}")),
            2 => Just("items=drone donor=us".to_string()),
        ]).prop_map(|(n, t, s)| format!("pause p{n} {t} {s}")),
        1 => (4u8..8, 1i64..40, 0i64..20, item()).prop_map(|(n, t, d, i)| format!("pause p{n} {t} items={i}; resume r{n} {} p{n}", t + d)),
        2 => (0u8..4, 20i64..60, proptest::bool::weighted(0.2)).prop_map(|(n, t, other)| format!("resume r{n} {t} p{}", (n + other as u8) % 4)),
        // Floors.
        1 => (item(), 0u64..600, proptest::option::of(1i64..60)).prop_map(|(i, q, t)| match t {
            Some(t) => format!("floor {i} us {q} {t}"),
            None => format!("floor {i} us {q}"),
        }),
    ]
}

fn batches() -> impl Strategy<Value = Vec<Vec<String>>> {
    proptest::collection::vec(proptest::collection::vec(record(), 1..3), 1..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_ledger_agrees_with_the_model_of_the_workflow(batches in batches()) {
        let mut h = Harness::new();
        h.apply(&parse_batch(SETUP)).unwrap();
        let mut model = Model::default();
        let mut accepted = [0usize; RecordKind::ALL.len()];
        let mut oks = Vec::new();
        for (n, lines) in std::iter::once(&vec![PRELUDE.to_string()]).chain(&batches).enumerate() {
            let batch = parse_batch(&lines.join("\n"));
            let ours = h.apply(&batch);
            let theirs = model.apply(&batch);
            prop_assert_eq!(
                ours.is_ok(),
                theirs.is_some(),
                "batch {} {:?}: ledger says {:?}", n, lines, ours.as_ref().err()
            );
            oks.push(theirs.is_some());
            if let Some(m) = theirs {
                for r in &batch {
                    accepted[r.kind() as usize] += 1;
                }
                model = m;
            }
        }
        let _ = accepted;
        // The whole history as one batch (what `qm export` then `qm apply` does) rebuilds the
        // same state: file order is recording order.
        let mut history: Vec<Record> = parse_batch(SETUP);
        for (lines, ok) in std::iter::once(&vec![PRELUDE.to_string()]).chain(&batches).zip(&oks) {
            if *ok {
                history.extend(parse_batch(&lines.join("\n")));
            }
        }
        let mut again = Harness::new();
        let replayed = again.apply(&history);
        prop_assert!(replayed.is_ok(), "the history as one batch: {:?}", replayed.err());
        for t in l_transfers(&h.ledger) {
            prop_assert_eq!(l_figures(&again.ledger, &t), l_figures(&h.ledger, &t), "{}", t);
        }
        let l = &h.ledger;
        for t in &model.transfers {
            let state = l.transfer(&t.id).expect("the transfer is in the ledger");
            for line in &t.lines {
                let li = state.line_of(l.item_idx(&line.item).unwrap()).unwrap();
                for at in [5, 15, 30, 45, 60] {
                    let f = state.lines[li].figures(t.time, Some(secs(&at.to_string())));
                    let ours = [f.committed, f.cancelled, f.allocated, f.dispatched, f.delivered, f.in_transit];
                    prop_assert_eq!(ours, model.figures(t, &line.item, secs(&at.to_string())), "{} {} at {}", t.id, line.item, at);
                }
            }
        }
        prop_assert_eq!(l.transfers().len(), model.transfers.len());
        let us = l.org_idx("us").unwrap();
        for item in ["drone", "shell"] {
            for at in [5i64, 15, 30, 45, 60] {
                let t = secs(&at.to_string());
                for d in ["d1", "d2"] {
                    let key = l.keys().position(|k| {
                        l.holders()[k.holder as usize].id == d && l.items()[k.item as usize].code == item
                    });
                    let ours = key.map_or(0, |k| l.key_earmarked(k as KeyIdx, Some(t)));
                    prop_assert_eq!(ours, model.depot_earmarked(d, item, t), "earmarked at {} {} at {}", d, item, at);
                }
                let ours = l.org_stock(us, l.item_idx(item).unwrap()).map_or(0, |os| os.available.balance_at(t));
                prop_assert_eq!(ours, model.org_available("us", item, t), "available {} at {}", item, at);
                // The org's aggregates are the sums of its holders' balances.
                let sum = |kind: HolderKind| -> i64 {
                    l.keys()
                        .filter(|k| {
                            l.items()[k.item as usize].code == item
                                && l.holders()[k.holder as usize].kind == kind
                                && l.holder_org(k.holder) == us
                        })
                        .map(|k| k.timeline.balance_at(t))
                        .sum()
                };
                let os = l.org_stock(us, l.item_idx(item).unwrap());
                prop_assert_eq!(os.map_or(0, |o| o.on_hand_at(t)), sum(HolderKind::Depot));
                prop_assert_eq!(os.map_or(0, |o| o.in_transit.balance_at(t)), sum(HolderKind::Transit));
            }
        }
    }
}

/// The property test is only as good as its generator: most records it makes must be
/// acceptable, so that every rule is exercised on both sides.
#[test]
fn the_generator_exercises_every_workflow_rule() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(40));
    let accepted = std::cell::RefCell::new([0usize; RecordKind::ALL.len()]);
    runner
        .run(&batches(), |batches| {
            let mut h = Harness::new();
            h.apply(&parse_batch(SETUP)).unwrap();
            h.apply(&parse_batch(PRELUDE)).unwrap();
            for lines in &batches {
                let batch = parse_batch(&lines.join("\n"));
                if h.apply(&batch).is_ok() {
                    for r in &batch {
                        accepted.borrow_mut()[r.kind() as usize] += 1;
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    let accepted = accepted.into_inner();
    eprintln!("accepted per kind: {accepted:?}");
    for (k, min) in [
        (RecordKind::Allocate, 60),
        (RecordKind::Movement, 60),
        (RecordKind::Cancel, 15),
        (RecordKind::Pause, 15),
        (RecordKind::Resume, 5),
        (RecordKind::Floor, 10),
    ] {
        assert!(
            accepted[k as usize] >= min,
            "{k:?}: only {} accepted in 40 cases",
            accepted[k as usize]
        );
    }
}

#[test]
fn the_model_agrees_on_a_worked_example() {
    // Stock 50 at d1; a transfer of 30, allocated 30, dispatched 20, cancelled (whole
    // remainder): committed 20, allocated 20, the other 10 released.
    let mut m = Model::default();
    for lines in [
        "mv m1 1 drone 50 src>d1",
        "xfer t0 2 us>ua drone:30,shell:5; alloc a1 3 t0 drone 30 d1",
        "mv m2 4 drone 20 d1>hub transfer=t0; cancel c1 5 t0",
    ] {
        m = m.apply(&parse_batch(lines)).expect("accepted");
    }
    let t = m.transfer("t0").unwrap().clone();
    assert_eq!(m.figures(&t, "drone", secs("9")), [20, 10, 20, 20, 0, 20]);
    assert_eq!(m.figures(&t, "shell", secs("9")), [0, 5, 0, 0, 0, 0]);
    assert_eq!(m.depot_earmarked("d1", "drone", secs("9")), 0);
    assert_eq!(m.org_available("us", "drone", secs("9")), 30);
}

#[test]
fn the_model_releases_a_later_allocation_for_a_late_cancellation() {
    // Allocated 20 at 20, dispatched 15 at 30, then a cancellation of 12 dated 15: committed
    // 18 from 15 on, 2 of the allocation released at its own time.
    let mut m = Model::default();
    for lines in [
        "mv m1 1 drone 50 src>d1",
        "xfer t0 10 us>ua drone:30; alloc a1 20 t0 drone 20 d1; mv m2 30 drone 15 d1>hub transfer=t0",
        "cancel c1 15 t0 drone 12",
    ] {
        m = m.apply(&parse_batch(lines)).expect("accepted");
    }
    let t = m.transfer("t0").unwrap().clone();
    assert_eq!(m.figures(&t, "drone", secs("16")), [18, 12, 0, 0, 0, 0]);
    assert_eq!(m.figures(&t, "drone", secs("20")), [18, 12, 18, 0, 0, 0]);
    assert_eq!(m.depot_earmarked("d1", "drone", secs("30")), 3);
    // Below what is dispatched later: refused.
    assert!(m.apply(&parse_batch("cancel c2 15 t0 drone 4")).is_none());
}
