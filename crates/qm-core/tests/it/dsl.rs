//! A compact notation for batches, so a test case is a few lines.
//!
//! ```text
//! org o1; holder src o1 source; holder d1 o1 depot; item ammo lot
//! mv m1 10 ammo 5 src>d1 lot=L1
//! mv m2 20 pac3 2 src>d1 serials=a,b
//! ---            (starts the next batch)
//! xfer t1 10 us>ua drone:30,pac3:2 authority=PDA-1
//! alloc a1 11 t1 drone 30 d1 lot=L1 override=reason
//! cancel c1 30 t1 drone 5          (or: cancel c1 30 t1 drone; cancel c1 30 t1)
//! pause p1 5 items=drone,pac3 categories=uav donor=us recipient=ua transfer=t1 review=40
//! resume r1 40 p1
//! ```
//! Times are plain integers (seconds since the epoch). An item may name its category:
//! `item drone bulk category=uav` (default `test`); a movement its transfer: `transfer=t1`.

use qm_core::*;

pub fn parse_batches(text: &str) -> Vec<Vec<Record>> {
    text.split("---").map(parse_batch).collect()
}

pub fn parse_batch(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    for stmt in text
        .split([';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let w: Vec<&str> = stmt.split_whitespace().collect();
        let rec = match w[0] {
            "org" => Record::Org(Org {
                id: w[1].into(),
                name: w[1].to_uppercase(),
                kind: None,
            }),
            "holder" => Record::Holder(Holder {
                id: w[1].into(),
                name: w[1].to_uppercase(),
                org: w[2].into(),
                kind: HolderKind::parse(w[3]).expect("holder kind"),
                country: None,
                lat: None,
                lon: None,
            }),
            "item" => Record::Item(Item {
                code: w[1].into(),
                name: w[1].to_uppercase(),
                category: opt(&w[3..], "category").unwrap_or("test").into(),
                tracking: Tracking::parse(w[2]).expect("tracking"),
                unit: None,
                sensitive: None,
                unit_value: None,
                inventory_interval_days: None,
            }),
            "floor" => Record::Floor(Floor {
                item: w[1].into(),
                org: w[2].into(),
                min_qty: w[3].parse().unwrap(),
                time: w.get(4).map(|t| secs(t)),
            }),
            "mv" => {
                let (from, to) = w[5].split_once('>').expect("from>to");
                let mut m = Movement {
                    id: w[1].into(),
                    time: secs(w[2]),
                    item: w[3].into(),
                    qty: w[4].parse().unwrap(),
                    from: from.into(),
                    to: to.into(),
                    lot: None,
                    serials: None,
                    kind: None,
                    transfer: None,
                    note: None,
                };
                for opt in &w[6..] {
                    match opt.split_once('=').expect("key=value") {
                        ("lot", v) => m.lot = Some(v.into()),
                        ("serials", v) => {
                            m.serials = Some(v.split(',').map(String::from).collect())
                        }
                        ("note", v) => m.note = Some(v.into()),
                        ("transfer", v) => m.transfer = Some(v.into()),
                        (k, _) => panic!("unknown option {k}"),
                    }
                }
                Record::Movement(m)
            }
            "xfer" => {
                let (donor, recipient) = w[3].split_once('>').expect("donor>recipient");
                Record::Transfer(Transfer {
                    id: w[1].into(),
                    time: secs(w[2]),
                    donor: donor.into(),
                    recipient: recipient.into(),
                    lines: w[4]
                        .split(',')
                        .map(|l| {
                            let (item, qty) = l.split_once(':').expect("item:qty");
                            TransferLine {
                                item: item.into(),
                                qty: qty.parse().unwrap(),
                                value: None,
                            }
                        })
                        .collect(),
                    authority: opt(&w[5..], "authority").map(Into::into),
                    note: None,
                })
            }
            "alloc" => Record::Allocate(Allocate {
                id: w[1].into(),
                time: secs(w[2]),
                transfer: w[3].into(),
                item: w[4].into(),
                qty: w[5].parse().unwrap(),
                from: w[6].into(),
                lot: opt(&w[7..], "lot").map(Into::into),
                override_: opt(&w[7..], "override").map(|r| Override {
                    reason: r.into(),
                    by: "approver".into(),
                }),
            }),
            "cancel" => Record::Cancel(Cancel {
                id: w[1].into(),
                time: secs(w[2]),
                transfer: w[3].into(),
                item: w.get(4).map(|s| s.to_string()),
                qty: w.get(5).map(|q| q.parse().unwrap()),
                reason: None,
                by: None,
            }),
            "pause" => {
                let list = |k: &str| {
                    opt(&w[3..], k).map(|v| v.split(',').map(String::from).collect::<Vec<_>>())
                };
                Record::Pause(Pause {
                    id: w[1].into(),
                    time: secs(w[2]),
                    reason: opt(&w[3..], "reason").unwrap_or("stockpile review").into(),
                    by: "official".into(),
                    items: list("items"),
                    categories: list("categories"),
                    donor: opt(&w[3..], "donor").map(Into::into),
                    recipient: opt(&w[3..], "recipient").map(Into::into),
                    transfer: opt(&w[3..], "transfer").map(Into::into),
                    review_by: opt(&w[3..], "review").map(secs),
                })
            }
            "resume" => Record::Resume(Resume {
                id: w[1].into(),
                time: secs(w[2]),
                pause: w[3].into(),
                reason: None,
                by: None,
            }),
            other => panic!("unknown statement {other}"),
        };
        out.push(rec);
    }
    out
}

/// The value of a `key=value` option among `words`.
fn opt<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words
        .iter()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

pub fn secs(t: &str) -> Time {
    t.parse::<i64>().expect("time in seconds") * 1_000_000_000
}
