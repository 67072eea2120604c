//! Micro benchmark of appends to the PostgreSQL backend, against the plain SQL ledger a user
//! would write by hand.
//!
//! `cargo run --release -p qm-store-postgres --example pg_append_bench -- URL [--batches N] [--keep]`
//!
//! Works in a new database `qm_bench_<random>` on the server of URL (dropped at the end
//! unless `--keep`). Both ledgers get the same realistic movements (2,000 items, 500
//! holders of which 10 are sources, every non-source balance stays non-negative), in
//! batches of 10,000 movements, each batch one durable transaction:
//! - Quartermaster: one journal row per batch (the JSON Lines body), through `PgStore` (no
//!   balance row is written per batch: the balances base is written with snapshots);
//! - plain: one `plain_movements` row per movement, inserted 10,000 per statement, with a
//!   row trigger keeping `plain_balances` and refusing a non-source balance below zero.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use qm_store::{OpenMode, Store, StoredBatch};
use qm_store_postgres::PgStore;
use qm_testkit::url_with_dbname;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const ITEMS: usize = 2_000;
const HOLDERS: usize = 500;
const SOURCES: usize = 10;
const MOVEMENTS_PER_BATCH: usize = 10_000;
const TIME_START: i64 = 1_709_287_200; // 2024-03-01T10:00:00Z

/// One generated movement, by index into the item and holder names.
#[derive(Clone, Copy)]
struct Movement {
    /// Which item moves.
    item: u16,
    /// The holder it leaves.
    from: u16,
    /// The holder it reaches.
    to: u16,
    /// How many.
    qty: u32,
}

/// Names of items, holders and lots, made once.
struct Names {
    /// Item codes, e.g. `155MM-M0795`.
    items: Vec<String>,
    /// The lot of each item's stock; empty for bulk items.
    lots: Vec<String>,
    /// Holder ids: sources first (`US-PROD-3`), then depots, hubs and units.
    holders: Vec<String>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut batches = 100usize;
    let mut keep = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--batches" => {
                batches = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--batches N")
            }
            "--keep" => keep = true,
            _ if url.is_none() => url = Some(arg),
            _ => usage(),
        }
    }
    let Some(url) = url else { usage() };

    let mut admin = Client::connect(&url, NoTls).expect("connecting to the server");
    let db = format!("qm_bench_{:08x}", rand::random::<u32>());
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("CREATE DATABASE");
    let db_url = url_with_dbname(&url, &db);
    println!("database {db}: {batches} batches of {MOVEMENTS_PER_BATCH} movements");

    let names = names();
    let movements = generate(batches * MOVEMENTS_PER_BATCH);

    let qm = bench_quartermaster(&db_url, &names, &movements);
    let plain = bench_plain(&db_url, &names, &movements);
    println!();
    println!(
        "quartermaster {:.0} movements/s, plain SQL ledger {:.0} movements/s: {:.1}x",
        qm,
        plain,
        qm / plain
    );
    sizes_and_queries(&db_url, movements.len());

    if keep {
        println!("kept database {db}");
    } else {
        admin
            .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
            .expect("DROP DATABASE");
    }
}

fn usage() -> ! {
    eprintln!("usage: append_bench URL [--batches N] [--keep]");
    std::process::exit(2);
}

/// Appends every batch through `PgStore`; returns movements per second.
fn bench_quartermaster(url: &str, names: &Names, movements: &[Movement]) -> f64 {
    let mut store = PgStore::connect(url, OpenMode::Create).expect("PgStore::connect");
    let (mut begin, mut seal, mut journal, mut commit, mut total) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    let mut body_bytes = 0usize;
    for (b, chunk) in movements.chunks(MOVEMENTS_PER_BATCH).enumerate() {
        let body = render_body(names, b * MOVEMENTS_PER_BATCH, chunk);
        body_bytes += body.len();

        let started = Instant::now();
        let head = store.begin_append().expect("begin_append");
        let locked = Instant::now();
        let batch = StoredBatch::seal(head, now_ns(), "bench".into(), body, chunk.len() as u64);
        let sealed = Instant::now();
        store
            .commit_append(&batch, Some(&qm_store::Derived::EMPTY))
            .expect("commit_append");
        let done = Instant::now();
        let t = store.last_commit_timings();
        begin += locked - started;
        seal += sealed - locked;
        journal += t.journal;
        commit += t.commit;
        total += done - started;
    }
    let n = movements.len() as f64;
    let per_batch =
        |d: Duration| d.as_secs_f64() * 1e3 / (movements.len() / MOVEMENTS_PER_BATCH) as f64;
    println!();
    println!(
        "quartermaster: {} movements in {:.2} s: {:.0} movements/s",
        movements.len(),
        total.as_secs_f64(),
        n / total.as_secs_f64()
    );
    println!(
        "  average line {:.0} bytes; per batch of {MOVEMENTS_PER_BATCH}:",
        body_bytes as f64 / n
    );
    println!("  begin (lock + head)         {:7.2} ms", per_batch(begin));
    println!("  seal (BLAKE3 of the body)   {:7.2} ms", per_batch(seal));
    println!(
        "  journal insert (+ check)    {:7.2} ms",
        per_batch(journal)
    );
    println!("  notify + commit (WAL flush) {:7.2} ms", per_batch(commit));
    n / total.as_secs_f64()
}

const PLAIN_SCHEMA: &str = r#"
CREATE TABLE plain_holders (id TEXT PRIMARY KEY, kind TEXT NOT NULL);
CREATE TABLE plain_movements (
    id          TEXT PRIMARY KEY,
    time        TIMESTAMPTZ NOT NULL,
    item        TEXT NOT NULL,
    qty         BIGINT NOT NULL CHECK (qty > 0),
    from_holder TEXT NOT NULL,
    to_holder   TEXT NOT NULL,
    lot         TEXT NOT NULL
);
CREATE TABLE plain_balances (
    holder TEXT NOT NULL,
    item   TEXT NOT NULL,
    lot    TEXT NOT NULL,
    qty    BIGINT NOT NULL,
    PRIMARY KEY (holder, item, lot)
);
CREATE FUNCTION plain_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    left_qty BIGINT;
BEGIN
    INSERT INTO plain_balances VALUES (NEW.to_holder, NEW.item, NEW.lot, NEW.qty)
        ON CONFLICT (holder, item, lot) DO UPDATE SET qty = plain_balances.qty + EXCLUDED.qty;
    INSERT INTO plain_balances VALUES (NEW.from_holder, NEW.item, NEW.lot, -NEW.qty)
        ON CONFLICT (holder, item, lot) DO UPDATE SET qty = plain_balances.qty + EXCLUDED.qty
        RETURNING qty INTO left_qty;
    IF left_qty < 0 AND (SELECT kind FROM plain_holders WHERE id = NEW.from_holder) <> 'source' THEN
        RAISE EXCEPTION 'movement %: % of % at % would go negative', NEW.id, NEW.lot, NEW.item, NEW.from_holder;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER plain_apply AFTER INSERT ON plain_movements FOR EACH ROW EXECUTE FUNCTION plain_apply();
"#;

/// Inserts every movement as a row of the hand-written ledger; returns movements per second.
fn bench_plain(url: &str, names: &Names, movements: &[Movement]) -> f64 {
    let mut client = Client::connect(url, NoTls).expect("connecting");
    client.batch_execute(PLAIN_SCHEMA).expect("plain schema");
    for (i, holder) in names.holders.iter().enumerate() {
        let kind = if i < SOURCES { "source" } else { "depot" };
        client
            .execute(
                "INSERT INTO plain_holders VALUES ($1, $2)",
                &[holder, &kind],
            )
            .expect("holders");
    }
    let insert = client
        .prepare(
            "INSERT INTO plain_movements
             SELECT id, time::timestamptz, item, qty, from_holder, to_holder, lot
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::text[])
                  AS t(id, time, item, qty, from_holder, to_holder, lot)",
        )
        .expect("prepare");
    let mut total = Duration::ZERO;
    for (b, chunk) in movements.chunks(MOVEMENTS_PER_BATCH).enumerate() {
        let first = b * MOVEMENTS_PER_BATCH;
        let ids: Vec<String> = (0..chunk.len()).map(|i| movement_id(first + i)).collect();
        let times: Vec<String> = (0..chunk.len())
            .map(|i| rfc3339(movement_time(first + i)))
            .collect();
        let items: Vec<&str> = chunk
            .iter()
            .map(|m| names.items[m.item as usize].as_str())
            .collect();
        let qtys: Vec<i64> = chunk.iter().map(|m| i64::from(m.qty)).collect();
        let froms: Vec<&str> = chunk
            .iter()
            .map(|m| names.holders[m.from as usize].as_str())
            .collect();
        let tos: Vec<&str> = chunk
            .iter()
            .map(|m| names.holders[m.to as usize].as_str())
            .collect();
        let lots: Vec<&str> = chunk
            .iter()
            .map(|m| names.lots[m.item as usize].as_str())
            .collect();

        let started = Instant::now();
        let mut tx = client.transaction().expect("BEGIN");
        tx.execute(&insert, &[&ids, &times, &items, &qtys, &froms, &tos, &lots])
            .expect("insert movements");
        tx.commit().expect("COMMIT");
        total += started.elapsed();
    }
    let n = movements.len() as f64;
    println!();
    println!(
        "plain SQL ledger (row trigger): {} movements in {:.2} s: {:.0} movements/s, {:.1} ms per batch",
        movements.len(),
        total.as_secs_f64(),
        n / total.as_secs_f64(),
        total.as_secs_f64() * 1e3 / (movements.len() / MOVEMENTS_PER_BATCH) as f64
    );
    n / total.as_secs_f64()
}

/// Storage per movement, and what the analysts' views cost to read.
fn sizes_and_queries(url: &str, movements: usize) {
    let mut client = Client::connect(url, NoTls).expect("connecting");
    client.batch_execute("VACUUM ANALYZE").expect("VACUUM");
    let size = |client: &mut Client, tables: &str| -> f64 {
        let sql = format!("SELECT sum(pg_total_relation_size(t))::float8 FROM unnest('{{{tables}}}'::regclass[]) t");
        client.query_one(&sql, &[]).expect("sizes").get::<_, f64>(0)
    };
    let n = movements as f64;
    println!();
    println!("bytes per movement, with indexes:");
    println!(
        "  quartermaster journal   {:6.1}",
        size(&mut client, "qm_journal") / n
    );
    println!(
        "  plain movements         {:6.1}",
        size(&mut client, "plain_movements") / n
    );
    println!(
        "  plain balances          {:6.1}",
        size(&mut client, "plain_balances") / n
    );

    println!();
    println!("reading (one run each, warm cache):");
    for (what, sql) in [
        (
            "SELECT count(*) FROM movements",
            "SELECT count(*) FROM movements",
        ),
        (
            "review: sum(qty) GROUP BY item over the movements view",
            "SELECT item, sum(qty) FROM movements GROUP BY item",
        ),
        (
            "same GROUP BY over plain_movements",
            "SELECT item, sum(qty) FROM plain_movements GROUP BY item",
        ),
        (
            "SELECT count(*) FROM records",
            "SELECT count(*) FROM records",
        ),
        (
            "movements of the last batch",
            "SELECT count(*) FROM movements WHERE batch = (SELECT max(seq) FROM qm_journal)",
        ),
        (
            "SELECT count(*) FROM balances",
            "SELECT count(*) FROM balances",
        ),
    ] {
        let started = Instant::now();
        let rows = client.query(sql, &[]).expect(sql).len();
        println!(
            "  {what:<60} {:8.1} ms ({rows} rows)",
            started.elapsed().as_secs_f64() * 1e3
        );
    }
}

fn names() -> Names {
    let categories = [
        "155MM", "120MM", "GMLRS", "JAVELIN", "STINGER", "AIM9X", "HELLFIRE", "NVD", "M113",
        "RADIO",
    ];
    let items: Vec<String> = (0..ITEMS)
        .map(|i| format!("{}-M{:04}", categories[i % categories.len()], i))
        .collect();
    let lots = (0..ITEMS)
        .map(|i| {
            if i % 4 == 0 {
                format!("L{}-{:02}", 2020 + i % 5, i % 12 + 1)
            } else {
                String::new()
            }
        })
        .collect();
    let holders = (0..HOLDERS)
        .map(|h| match h {
            h if h < SOURCES => format!("US-PROD-{h}"),
            h if h < 60 => format!("US-DEPOT-{h}"),
            h if h < 120 => format!("PL-HUB-{h}"),
            h => format!("UA-UNIT-{h}"),
        })
        .collect();
    Names {
        items,
        lots,
        holders,
    }
}

/// Movements that keep every non-source balance non-negative: a third come from a source,
/// the rest move part of what some holder has.
fn generate(n: usize) -> Vec<Movement> {
    let mut rng = SmallRng::seed_from_u64(42);
    let mut balance = vec![0i64; HOLDERS * ITEMS];
    // Per item, non-source holders that had stock at some point (some may have none now).
    let mut holding: HashMap<u16, Vec<u16>> = HashMap::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let item = rng.gen_range(0..ITEMS) as u16;
        let list = holding.entry(item).or_default();
        let mut from = None;
        if !list.is_empty() && !rng.gen_ratio(1, 3) {
            let at = rng.gen_range(0..list.len());
            let h = list[at];
            if balance[h as usize * ITEMS + item as usize] > 0 {
                from = Some(h);
            } else {
                list.swap_remove(at);
            }
        }
        let (from, qty) = match from {
            Some(h) => {
                let has = balance[h as usize * ITEMS + item as usize];
                (h, rng.gen_range(1..=has.min(200)) as u32)
            }
            None => (rng.gen_range(0..SOURCES) as u16, rng.gen_range(1..=500u32)),
        };
        let to = loop {
            let to = rng.gen_range(SOURCES..HOLDERS) as u16;
            if to != from {
                break to;
            }
        };
        balance[from as usize * ITEMS + item as usize] -= i64::from(qty);
        let to_balance = &mut balance[to as usize * ITEMS + item as usize];
        if *to_balance == 0 {
            list.push(to);
        }
        *to_balance += i64::from(qty);
        out.push(Movement {
            item,
            from,
            to,
            qty,
        });
    }
    out
}

fn movement_id(i: usize) -> String {
    format!("m{i:08}")
}

fn movement_time(i: usize) -> i64 {
    TIME_START + i as i64 * 30
}

fn render_body(names: &Names, first: usize, movements: &[Movement]) -> String {
    let mut body = String::with_capacity(movements.len() * 160);
    for (i, m) in movements.iter().enumerate() {
        let lot = &names.lots[m.item as usize];
        write!(
            body,
            r#"{{"type":"movement","id":"{}","time":"{}","item":"{}","qty":{},"from":"{}","to":"{}""#,
            movement_id(first + i),
            rfc3339(movement_time(first + i)),
            names.items[m.item as usize],
            m.qty,
            names.holders[m.from as usize],
            names.holders[m.to as usize],
        )
        .expect("writing to a String");
        if !lot.is_empty() {
            write!(body, r#","lot":"{lot}""#).expect("writing to a String");
        }
        body.push_str("}\n");
    }
    body
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the Unix epoch (civil-from-days, H. Hinnant).
fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn now_ns() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    since.as_nanos() as i64
}
