//! The analysts' views: `movements`, `records` and `balances`, read with plain SQL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use qm_store::{BalanceRow, Store, StoredBatch};

use crate::support::{OpenPg, TestDb};

const RECORDED_AT: i64 = 1_709_287_200_123_456_789; // 2024-03-01T10:00:00.123456789Z

const BATCH_1: &str = concat!(
    r#"{"type":"org","id":"US","name":"United States"}"#,
    "\n",
    r#"{"type":"item","code":"155MM-M795","name":"155 mm M795","category":"artillery","tracking":"lot"}"#,
    "\n",
    r#"{"type":"movement","id":"m1","time":"2024-03-01T10:00:00Z","item":"155MM-M795","qty":120,"from":"US-PROD","to":"US-DEPOT-1","lot":"L2023-07","kind":"production","note":"line \"A\", shift 2"}"#,
    "\n",
);
const BATCH_2: &str = concat!(
    r#"{"type":"movement","id":"m2","time":"2024-03-02","item":"JAVELIN","qty":2,"from":"US-DEPOT-1","to":"PL-HUB-1","serials":["J-1","J-2"],"transfer":"PDA-7"}"#,
    "\n",
    r#"{"type":"movement","id":"m3","time":"2024-03-03T12:30:00+02:00","item":"155MM-M795","qty":20,"from":"US-DEPOT-1","to":"PL-HUB-1","lot":"L2023-07"}"#,
    "\n",
);

fn row(holder: &str, item: &str, lot: &str, qty: i64) -> BalanceRow {
    BalanceRow {
        holder: holder.into(),
        item: item.into(),
        lot: lot.into(),
        qty,
    }
}

/// One row of the `movements` view.
#[derive(Debug, Clone, PartialEq)]
struct Movement {
    batch: i64,
    recorded_at: SystemTime,
    recorded_by: String,
    id: String,
    time: SystemTime,
    item: String,
    qty: i64,
    from_holder: String,
    to_holder: String,
    lot: Option<String>,
    serials: Option<Vec<String>>,
    kind: Option<String>,
    transfer: Option<String>,
    note: Option<String>,
}

fn secs(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

#[test]
fn the_views_expand_the_journal() {
    let db = TestDb::new();
    let mut store = db.open();
    let mut head = store.begin_append().unwrap();
    // The expected balances, which the view computes from the journal itself.
    for (body, _balances) in [
        (
            BATCH_1,
            vec![
                row("US-PROD", "155MM-M795", "L2023-07", -120),
                row("US-DEPOT-1", "155MM-M795", "L2023-07", 120),
            ],
        ),
        (
            BATCH_2,
            vec![
                row("US-DEPOT-1", "JAVELIN", "", 0),
                row("PL-HUB-1", "JAVELIN", "", 2),
                row("US-DEPOT-1", "155MM-M795", "L2023-07", 100),
                row("PL-HUB-1", "155MM-M795", "L2023-07", 20),
            ],
        ),
    ] {
        let records = body.lines().count() as u64;
        let batch = StoredBatch::seal(
            head,
            RECORDED_AT + head.seq as i64,
            "clerk@depot-1".into(),
            body.into(),
            records,
        );
        store.commit_append(&batch).unwrap();
        head = store.begin_append().unwrap();
    }
    store.abort_append().unwrap();

    let mut sql = db.sql();
    // A bare date means midnight UTC whatever the session's time zone.
    sql.batch_execute("SET TimeZone = 'America/New_York'")
        .unwrap();
    let rows = sql
        .query(
            "SELECT batch, recorded_at, recorded_by, id, time, item, qty, from_holder, to_holder,
                    lot, serials, kind, transfer, note
             FROM movements ORDER BY batch, id",
            &[],
        )
        .unwrap();
    let got: Vec<Movement> = rows
        .iter()
        .map(|r| Movement {
            batch: r.get(0),
            recorded_at: r.get(1),
            recorded_by: r.get(2),
            id: r.get(3),
            time: r.get(4),
            item: r.get(5),
            qty: r.get(6),
            from_holder: r.get(7),
            to_holder: r.get(8),
            lot: r.get(9),
            serials: r.get(10),
            kind: r.get(11),
            transfer: r.get(12),
            note: r.get(13),
        })
        .collect();
    // Recorded time is kept to the microsecond.
    let recorded = |seq: u64| UNIX_EPOCH + Duration::from_micros((RECORDED_AT as u64 + seq) / 1000);
    let s = String::from;
    let m1 = Movement {
        batch: 1,
        recorded_at: recorded(0),
        recorded_by: s("clerk@depot-1"),
        id: s("m1"),
        time: secs(1_709_287_200),
        item: s("155MM-M795"),
        qty: 120,
        from_holder: s("US-PROD"),
        to_holder: s("US-DEPOT-1"),
        lot: Some(s("L2023-07")),
        serials: None,
        kind: Some(s("production")),
        transfer: None,
        note: Some(s("line \"A\", shift 2")),
    };
    let m2 = Movement {
        batch: 2,
        recorded_at: recorded(1),
        id: s("m2"),
        time: secs(1_709_337_600), // 2024-03-02T00:00:00Z
        item: s("JAVELIN"),
        qty: 2,
        from_holder: s("US-DEPOT-1"),
        to_holder: s("PL-HUB-1"),
        lot: None,
        serials: Some(vec![s("J-1"), s("J-2")]),
        kind: None,
        transfer: Some(s("PDA-7")),
        note: None,
        ..m1.clone()
    };
    let m3 = Movement {
        id: s("m3"),
        time: secs(1_709_461_800), // 2024-03-03T10:30:00Z
        item: s("155MM-M795"),
        qty: 20,
        lot: Some(s("L2023-07")),
        serials: None,
        transfer: None,
        ..m2.clone()
    };
    assert_eq!(got, vec![m1, m2, m3]);

    // A filter on batch reads only that part of the journal.
    let in_batch_2: i64 = sql
        .query_one("SELECT count(*) FROM movements WHERE batch = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(in_batch_2, 2);

    let records: Vec<(i64, String, String)> = sql
        .query("SELECT batch, type, json ->> 'id' FROM records", &[])
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get::<_, Option<String>>(2).unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(i64, String, String)> = [
        (1, "org", "US"),
        (1, "item", ""),
        (1, "movement", "m1"),
        (2, "movement", "m2"),
        (2, "movement", "m3"),
    ]
    .iter()
    .map(|&(b, t, id)| (b, t.to_string(), id.to_string()))
    .collect();
    assert_eq!(records, expected, "records come in batch and line order");
    let item_code: String = sql
        .query_one(
            "SELECT json ->> 'code' FROM records WHERE type = 'item'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(item_code, "155MM-M795");

    // Transfers: per transfer and item, from the movements that name one.
    let transfers: Vec<(String, String, i64, i64)> = sql
        .query(
            "SELECT transfer, item, movements, qty FROM transfers ORDER BY transfer, item",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(transfers, vec![(s("PDA-7"), s("JAVELIN"), 1, 2)]);

    let balances: Vec<(String, String, Option<String>, i64)> = sql
        .query(
            "SELECT holder, item, lot, qty FROM balances ORDER BY holder, item",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let lot = Some(String::from("L2023-07"));
    assert_eq!(
        balances,
        vec![
            (s("PL-HUB-1"), s("155MM-M795"), lot.clone(), 20),
            (s("PL-HUB-1"), s("JAVELIN"), None, 2),
            (s("US-DEPOT-1"), s("155MM-M795"), lot.clone(), 100),
            // The test journal sends Javelins the depot never received: the view shows it.
            (s("US-DEPOT-1"), s("JAVELIN"), None, -2),
            (s("US-PROD"), s("155MM-M795"), lot, -120),
        ]
    );
}

#[test]
fn the_views_of_an_empty_journal_are_empty() {
    let db = TestDb::new();
    drop(db.open());
    let mut sql = db.sql();
    for view in ["movements", "records", "balances"] {
        let n: i64 = sql
            .query_one(&format!("SELECT count(*) FROM {view}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{view}");
    }
}
