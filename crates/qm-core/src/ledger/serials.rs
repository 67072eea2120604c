//! Serial-tracked pieces: each serial's own history of movements, ordered by effective time.
//! A serial is at one holder at any time and moves only from where it is: after a batch,
//! every serial it moved has its whole history checked as one chain, from a source.

use hashbrown::HashMap;

use super::master::{HolderIdx, ItemIdx, Master};
use super::{Effects, Errors, Outcome};
use crate::codec::{Enc, R, W};
use crate::rejection::Violation;
use crate::{HolderKind, SnapshotError, Time};

/// One movement of a serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialMove {
    pub time: Time,
    pub from: HolderIdx,
    pub to: HolderIdx,
}

/// A serial-tracked piece and its own history, ordered by time.
#[derive(Debug, Clone)]
pub struct Serial {
    pub item: ItemIdx,
    pub serial: Box<str>,
    pub history: Vec<SerialMove>,
}

impl Serial {
    /// Where the serial is after its last movement.
    pub fn location(&self) -> Option<HolderIdx> {
        self.history.last().map(|m| m.to)
    }

    /// Where the serial is at time `t` (after every movement at or before `t`).
    pub fn location_at(&self, t: Time) -> Option<HolderIdx> {
        let pos = self.history.partition_point(|m| m.time <= t);
        pos.checked_sub(1).map(|p| self.history[p].to)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Serials {
    pub(crate) serials: Vec<Serial>,
    pub(crate) serial_index: HashMap<(ItemIdx, Box<str>), u32>,
    /// (serial, position) of every history insert of the batch.
    undo: Vec<(u32, usize)>,
    mark: usize,
}

impl Serials {
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
        self.mark = self.serials.len();
    }

    pub(crate) fn commit(&mut self) {
        self.undo.clear();
    }

    pub(crate) fn rollback(&mut self) {
        for (serial, pos) in std::mem::take(&mut self.undo).into_iter().rev() {
            if (serial as usize) < self.mark {
                self.serials[serial as usize].history.remove(pos);
            }
        }
        for s in self.serials.drain(self.mark..) {
            self.serial_index.remove(&(s.item, s.serial));
        }
    }

    pub(crate) fn find(&self, item: ItemIdx, serial: &str) -> Option<&Serial> {
        let i = self.serial_index.get(&(item, Box::<str>::from(serial)))?;
        Some(&self.serials[*i as usize])
    }

    /// Two movements of one serial at one instant would leave its place ambiguous.
    pub(crate) fn check_instants(
        &self,
        item: ItemIdx,
        item_code: &str,
        serials: &[String],
        time: Time,
    ) -> Result<(), Outcome> {
        for sn in serials {
            if let Some(s) = self.find(item, sn) {
                if s.history.iter().any(|x| x.time == time) {
                    return Err((
                        "serials",
                        Violation::SerialSameInstant {
                            item: item_code.to_owned(),
                            serial: sn.clone(),
                            at: time,
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    /// Records the movement of each serial (checked as chains after the batch).
    pub(crate) fn apply_move(
        &mut self,
        item: ItemIdx,
        serials: &[String],
        mv: SerialMove,
        index: usize,
        effects: &mut Effects,
    ) {
        for sn in serials {
            let idx = match self
                .serial_index
                .get(&(item, Box::<str>::from(sn.as_str())))
            {
                Some(&i) => i,
                None => {
                    let i = self.serials.len() as u32;
                    self.serials.push(Serial {
                        item,
                        serial: sn.as_str().into(),
                        history: Vec::new(),
                    });
                    self.serial_index.insert((item, sn.as_str().into()), i);
                    i
                }
            };
            let history = &mut self.serials[idx as usize].history;
            let pos = history.partition_point(|x| x.time <= mv.time);
            history.insert(pos, mv);
            self.undo.push((idx, pos));
            effects.serial_moves.insert((idx, mv.time), index);
        }
    }

    /// After the whole batch: the history of every serial it moved is one chain, from a
    /// source, each movement leaving from where the one before arrived.
    pub(crate) fn check_chains(&self, master: &Master, effects: &Effects, errors: &mut Errors) {
        let mut serials: Vec<u32> = effects.serial_moves.keys().map(|&(s, _)| s).collect();
        serials.sort_unstable();
        serials.dedup();
        for s in serials {
            let serial = &self.serials[s as usize];
            let h = &serial.history;
            for p in 0..h.len() {
                let here = p.checked_sub(1).map(|q| h[q].to);
                let ok = match here {
                    Some(x) => h[p].from == x,
                    None => master.holder(h[p].from).kind == HolderKind::Source,
                };
                if ok {
                    continue;
                }
                let name = |x: HolderIdx| master.holder(x).id.clone();
                let item = master.item(serial.item).code.clone();
                if let Some(&index) = effects.serial_moves.get(&(s, h[p].time)) {
                    errors.push(
                        index,
                        "serials",
                        Violation::SerialNotAt {
                            item,
                            serial: serial.serial.to_string(),
                            holder: name(h[p].from),
                            at: h[p].time,
                            actually_at: here.map(name),
                        },
                    );
                } else {
                    // An earlier movement of this batch contradicts a recorded later one.
                    let index = p
                        .checked_sub(1)
                        .and_then(|q| effects.serial_moves.get(&(s, h[q].time)))
                        .or_else(|| {
                            effects
                                .serial_moves
                                .iter()
                                .filter(|((x, _), _)| *x == s)
                                .map(|(_, i)| i)
                                .min()
                        })
                        .copied()
                        .expect("a serial checked here was moved by the batch");
                    errors.push(
                        index,
                        "serials",
                        Violation::SerialLaterMove {
                            item,
                            serial: serial.serial.to_string(),
                            at: h[p].time,
                            later_from: name(h[p].from),
                        },
                    );
                }
                break;
            }
        }
    }

    pub(crate) fn encode(&self, w: &mut W<'_>) {
        w.u(self.serials.len() as u64);
        for s in &self.serials {
            w.u(s.item as u64);
            w.s(&s.serial);
            w.u(s.history.len() as u64);
            for m in &s.history {
                w.i(m.time);
                w.u(m.from as u64);
                w.u(m.to as u64);
            }
        }
    }

    pub(crate) fn decode(r: &mut R<'_>, master: &Master) -> Result<Serials, SnapshotError> {
        let mut out = Serials::default();
        let n = r.len()?;
        out.serials.reserve(n);
        for _ in 0..n {
            let item = r.idx(master.items.len())?;
            let serial = Box::<str>::dec(r)?;
            let len = r.len()?;
            let mut history = Vec::with_capacity(len);
            for _ in 0..len {
                let time = r.i()?;
                let from = r.idx(master.holders.len())?;
                let to = r.idx(master.holders.len())?;
                if history.last().is_some_and(|m: &SerialMove| m.time >= time) {
                    return r.err("serial history out of order");
                }
                history.push(SerialMove { time, from, to });
            }
            let i = out.serials.len() as u32;
            if out.serial_index.insert((item, serial.clone()), i).is_some() {
                return r.err("serial listed twice");
            }
            out.serials.push(Serial {
                item,
                serial,
                history,
            });
        }
        Ok(out)
    }
}
