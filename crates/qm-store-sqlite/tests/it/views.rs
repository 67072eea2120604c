//! The analysts' views: `movements` and `records`, expanded from the journal bodies by SQL,
//! and `balances`, the snapshot's base plus the movements after it.

use qm_store::{snapshot_checksum, BalanceRow, Snapshot, Store};
use qm_store_sqlite::SqliteStore;
use rusqlite::types::Value;

use crate::{append, movement};

#[test]
fn views_expand_the_journal_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("ledger.qm")).unwrap();
    let first = concat!(
        "{\"type\":\"org\",\"id\":\"us\",\"name\":\"United States\"}\n",
        "{\"type\":\"movement\",\"id\":\"m1\",\"time\":\"2024-03-01T10:00:00Z\",\"item\":\"155MM-M795\",\"qty\":120,\"from\":\"US-DEPOT-1\",\"to\":\"PL-HUB-1\",\"lot\":\"L2023-07\"}\n",
    );
    let second = concat!(
        "{\"type\":\"movement\",\"id\":\"m2\",\"time\":\"2024-03-02T00:00:00Z\",\"item\":\"JAVELIN\",\"qty\":2,\"from\":\"PL-HUB-1\",\"to\":\"UA-UNIT-7\",\"serials\":[\"J-1\",\"J-2\"],\"kind\":\"transfer\",\"transfer\":\"PDA-12\",\"note\":\"line one, \\\"quoted\\\" \\u00e9\"}\n",
        "{\"type\":\"holder\",\"id\":\"UA-UNIT-7\",\"name\":\"Unit 7\",\"org\":\"ua\",\"kind\":\"unit\"}\n",
    );
    let b1 = append(&mut s, "alice", first);
    let b2 = append(&mut s, "bob", second);

    let conn = s.connection();
    let mut stmt = conn
        .prepare(
            "SELECT batch, recorded_at, recorded_by, id, time, item, qty, from_holder, to_holder, \
             lot, serials, kind, transfer, note FROM movements ORDER BY batch, id",
        )
        .unwrap();
    let rows: Vec<Vec<Value>> = stmt
        .query_map([], |r| (0..14).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(
        rows,
        vec![
            vec![
                Value::Integer(1),
                Value::Integer(b1.recorded_at),
                text("alice"),
                text("m1"),
                text("2024-03-01T10:00:00Z"),
                text("155MM-M795"),
                Value::Integer(120),
                text("US-DEPOT-1"),
                text("PL-HUB-1"),
                text("L2023-07"),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ],
            vec![
                Value::Integer(2),
                Value::Integer(b2.recorded_at),
                text("bob"),
                text("m2"),
                text("2024-03-02T00:00:00Z"),
                text("JAVELIN"),
                Value::Integer(2),
                text("PL-HUB-1"),
                text("UA-UNIT-7"),
                Value::Null,
                text("[\"J-1\",\"J-2\"]"),
                text("transfer"),
                text("PDA-12"),
                text("line one, \"quoted\" \u{e9}"),
            ],
        ]
    );

    let mut stmt = conn
        .prepare("SELECT batch, line, type, json FROM records ORDER BY batch, line")
        .unwrap();
    let records: Vec<(i64, i64, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let lines: Vec<&str> = first.lines().chain(second.lines()).collect();
    assert_eq!(
        records,
        vec![
            (1, 1, "org".to_string(), lines[0].to_string()),
            (1, 2, "movement".to_string(), lines[1].to_string()),
            (2, 1, "movement".to_string(), lines[2].to_string()),
            (2, 2, "holder".to_string(), lines[3].to_string()),
        ]
    );
    // Plain SQL over the view, as an analyst would write it.
    let to_ua: i64 = conn
        .query_row(
            "SELECT sum(qty) FROM movements WHERE to_holder LIKE 'UA-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(to_ua, 2);
}

#[test]
fn the_transfers_view_sums_movements_per_transfer_and_item() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("ledger.qm")).unwrap();
    let mv = |id: &str, time: &str, qty: u64, transfer: &str| {
        let t = if transfer.is_empty() {
            String::new()
        } else {
            format!(",\"transfer\":\"{transfer}\"")
        };
        format!("{{\"type\":\"movement\",\"id\":\"{id}\",\"time\":\"{time}\",\"item\":\"SHELL\",\"qty\":{qty},\"from\":\"D\",\"to\":\"U\"{t}}}\n")
    };
    append(
        &mut s,
        "a",
        &(mv("m1", "2025-01-01T00:00:00Z", 10, "PDA-1")
            + &mv("m2", "2025-01-05T00:00:00Z", 5, "PDA-1")),
    );
    append(
        &mut s,
        "a",
        &(mv("m3", "2025-02-01T00:00:00Z", 7, "PDA-2") + &mv("m4", "2025-02-02T00:00:00Z", 1, "")),
    );
    let rows: Vec<(String, i64, i64, String, String)> = s
        .connection()
        .prepare("SELECT transfer, movements, qty, first_time, last_time FROM transfers ORDER BY transfer")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (
                "PDA-1".into(),
                2,
                15,
                "2025-01-01T00:00:00Z".into(),
                "2025-01-05T00:00:00Z".into()
            ),
            (
                "PDA-2".into(),
                1,
                7,
                "2025-02-01T00:00:00Z".into(),
                "2025-02-01T00:00:00Z".into()
            ),
        ]
    );
}

#[test]
fn views_of_an_empty_body_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("ledger.qm")).unwrap();
    append(&mut s, "tester", "");
    let n: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

fn row(holder: &str, item: &str, lot: &str, qty: i64) -> BalanceRow {
    BalanceRow {
        holder: holder.into(),
        item: item.into(),
        lot: lot.into(),
        qty,
    }
}

#[test]
fn balances_are_the_base_plus_the_journal_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let mut a = SqliteStore::open(&path).unwrap();
    let mut b = SqliteStore::open(&path).unwrap();
    let serials = "{\"type\":\"movement\",\"id\":\"m3\",\"time\":\"2025-01-02T00:00:00Z\",\"item\":\"fuze\",\"qty\":2,\"from\":\"depot\",\"to\":\"unit\",\"serials\":[\"F-1\",\"F-2\"]}\n";
    let b1 = append(
        &mut a,
        "a",
        &(movement("m1", "shell", 10, "plant", "depot", Some("L1"))
            + &movement("m2", "fuze", 3, "plant", "depot", None)),
    );
    append(&mut b, "b", serials);
    let before_base = vec![
        row("depot", "fuze", "", 1),
        row("depot", "shell", "L1", 10),
        row("plant", "fuze", "", -3),
        row("plant", "shell", "L1", -10),
        row("unit", "fuze", "", 2),
    ];
    assert_eq!(
        a.read_balances().unwrap(),
        before_base,
        "no base yet: the whole journal"
    );

    // A snapshot at batch 1 brings its base; batch 2 is then added on top of it by the view.
    let base = vec![
        row("depot", "shell", "L1", 10),
        row("plant", "shell", "L1", -10),
        row("depot", "fuze", "", 3),
        row("plant", "fuze", "", -3),
    ];
    let snapshot = Snapshot {
        seq: b1.seq,
        head_hash: b1.hash,
        checksum: snapshot_checksum(b1.seq, b1.hash, b"s"),
        bytes: b"s".to_vec(),
    };
    a.save_snapshot(&snapshot, &base).unwrap();
    assert_eq!(a.read_balances().unwrap(), before_base);
    assert_eq!(
        b.read_balances().unwrap(),
        before_base,
        "another handle sees the same"
    );

    // A balance back at zero disappears; one taken below zero stays.
    append(
        &mut b,
        "b",
        &movement("m4", "fuze", 1, "depot", "unit", None),
    );
    let after = vec![
        row("depot", "shell", "L1", 10),
        row("plant", "fuze", "", -3),
        row("plant", "shell", "L1", -10),
        row("unit", "fuze", "", 3),
    ];
    assert_eq!(a.read_balances().unwrap(), after);

    let conn = a.connection();
    let qty: i64 = conn
        .query_row(
            "SELECT qty FROM balances WHERE holder = 'unit' AND item = 'fuze' AND lot = ''",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(qty, 3, "a point query through the view");
    let err = conn
        .execute("INSERT INTO balances VALUES ('x', 'y', 'z', 1)", [])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot modify balances because it is a view"),
        "{err}"
    );
    let base_seq: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'balances_base_seq'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(base_seq, 1);

    // The next snapshot replaces the base whole.
    let head = a.head().unwrap();
    let snapshot = Snapshot {
        seq: head.seq,
        head_hash: head.hash,
        checksum: snapshot_checksum(head.seq, head.hash, b"t"),
        bytes: b"t".to_vec(),
    };
    a.save_snapshot(&snapshot, &after).unwrap();
    assert_eq!(a.read_balances().unwrap(), after);
    let base_rows: i64 = a
        .connection()
        .query_row("SELECT count(*) FROM balances_base", [], |r| r.get(0))
        .unwrap();
    assert_eq!(base_rows, 4);
}
