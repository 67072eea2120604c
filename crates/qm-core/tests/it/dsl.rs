//! A compact notation for batches, so a test case is a few lines.
//!
//! ```text
//! org o1; holder src o1 source; holder d1 o1 depot; item ammo lot
//! mv m1 10 ammo 5 src>d1 lot=L1
//! mv m2 20 pac3 2 src>d1 serials=a,b
//! ---            (starts the next batch)
//! ```
//! Times are plain integers (seconds since the epoch).

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
                category: "test".into(),
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
                        (k, _) => panic!("unknown option {k}"),
                    }
                }
                Record::Movement(m)
            }
            other => panic!("unknown statement {other}"),
        };
        out.push(rec);
    }
    out
}

pub fn secs(t: &str) -> Time {
    t.parse::<i64>().expect("time in seconds") * 1_000_000_000
}
