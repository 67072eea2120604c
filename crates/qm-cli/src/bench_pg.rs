//! `qm bench --pg URL`: durable ingest through `qm apply` on PostgreSQL, against the ledger a
//! user would write by hand (one INSERT row per movement, batched 10k per transaction, with
//! a trigger keeping a balances table and refusing a non-source balance below zero), on the
//! same workload in the same run. `URL` must name an empty database.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context};
use postgres::{Client, NoTls};
use qm_core::{HolderKind, Record};

const PLAIN_SCHEMA: &str = r#"
DROP TABLE IF EXISTS plain_movements, plain_balances, plain_holders;
DROP FUNCTION IF EXISTS plain_apply();
CREATE TABLE plain_holders (id TEXT PRIMARY KEY, kind TEXT NOT NULL);
CREATE TABLE plain_movements (
    id          TEXT PRIMARY KEY,
    time        TIMESTAMPTZ NOT NULL,
    item        TEXT NOT NULL,
    qty         BIGINT NOT NULL CHECK (qty > 0),
    from_holder TEXT NOT NULL REFERENCES plain_holders,
    to_holder   TEXT NOT NULL REFERENCES plain_holders
);
CREATE TABLE plain_balances (
    holder TEXT NOT NULL,
    item   TEXT NOT NULL,
    qty    BIGINT NOT NULL,
    PRIMARY KEY (holder, item)
);
CREATE FUNCTION plain_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    left_qty BIGINT;
BEGIN
    INSERT INTO plain_balances VALUES (NEW.to_holder, NEW.item, NEW.qty)
        ON CONFLICT (holder, item) DO UPDATE SET qty = plain_balances.qty + EXCLUDED.qty;
    INSERT INTO plain_balances VALUES (NEW.from_holder, NEW.item, -NEW.qty)
        ON CONFLICT (holder, item) DO UPDATE SET qty = plain_balances.qty + EXCLUDED.qty
        RETURNING qty INTO left_qty;
    IF left_qty < 0 AND (SELECT kind FROM plain_holders WHERE id = NEW.from_holder) <> 'source' THEN
        RAISE EXCEPTION 'movement % would take % at % below zero', NEW.id, NEW.item, NEW.from_holder;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER plain_apply BEFORE INSERT ON plain_movements FOR EACH ROW EXECUTE FUNCTION plain_apply();
"#;

/// Returns (qm movements/s, plain movements/s).
pub fn run(url: &str, dir: &Path, n: u64) -> anyhow::Result<(f64, f64)> {
    let (files, master, records) = crate::bench::write_workload(dir, n)?;
    let exe = std::env::current_exe()?;
    let status = std::process::Command::new(&exe)
        .args(["--db", url, "apply"])
        .arg(&master)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("applying the master data to {url} failed (is the database empty?)");
    }
    crate::out::err(&format!(
        "applying {} files of 10k movements with `qm --db postgres://... apply`...",
        files.len()
    ));
    let t = Instant::now();
    let status = std::process::Command::new(&exe)
        .args(["--db", url, "apply"])
        .args(&files)
        .stdout(std::process::Stdio::null())
        .status()?;
    let qm_secs = t.elapsed().as_secs_f64();
    if !status.success() {
        bail!("qm apply on PostgreSQL failed");
    }

    let mut client = Client::connect(url, NoTls).with_context(|| format!("connecting to {url}"))?;
    client.batch_execute(PLAIN_SCHEMA)?;
    let mut holders = Vec::new();
    let mut batches: Vec<Vec<qm_core::Movement>> = Vec::new();
    for r in records {
        match r {
            Record::Holder(h) => holders.push((
                h.id,
                if h.kind == HolderKind::Source {
                    "source"
                } else {
                    "depot"
                },
            )),
            Record::Movement(m) => {
                if batches.last().is_none_or(|b| b.len() == 10_000) {
                    batches.push(Vec::with_capacity(10_000));
                }
                batches.last_mut().expect("a batch").push(m);
            }
            _ => {}
        }
    }
    for (id, kind) in &holders {
        client.execute("INSERT INTO plain_holders VALUES ($1, $2)", &[id, kind])?;
    }
    let insert = client.prepare(
        "INSERT INTO plain_movements
         SELECT id, to_timestamp(t / 1e9), item, qty, from_holder, to_holder
         FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[], $5::text[], $6::text[])
              AS u(id, t, item, qty, from_holder, to_holder)",
    )?;
    let t = Instant::now();
    for b in &batches {
        let ids: Vec<&str> = b.iter().map(|m| m.id.as_str()).collect();
        let times: Vec<i64> = b.iter().map(|m| m.time).collect();
        let items: Vec<&str> = b.iter().map(|m| m.item.as_str()).collect();
        let qtys: Vec<i64> = b.iter().map(|m| m.qty as i64).collect();
        let froms: Vec<&str> = b.iter().map(|m| m.from.as_str()).collect();
        let tos: Vec<&str> = b.iter().map(|m| m.to.as_str()).collect();
        let mut tx = client.transaction()?;
        tx.execute(&insert, &[&ids, &times, &items, &qtys, &froms, &tos])?;
        tx.commit()?;
    }
    let plain_secs = t.elapsed().as_secs_f64();
    client.batch_execute(
        "DROP TABLE plain_movements, plain_balances, plain_holders; DROP FUNCTION plain_apply();",
    )?;
    Ok((n as f64 / qm_secs, n as f64 / plain_secs))
}
