//! Measures saving and loading a large snapshot through `PgStore`, by chunk size.
//!
//! `cargo run --release -p qm-store-postgres --example snapshot_bench -- URL [--mib N]`
//!
//! Works in a new database `qm_bench_<random>` (dropped at the end). For each chunk size it
//! saves and loads an N MiB snapshot (default 256) of incompressible bytes and of
//! compressible ones, with the schema's lz4 compression and without compression (each save
//! into an emptied table after a checkpoint, so every chunk is new).

use std::time::Instant;

use postgres::{Client, NoTls};
use qm_store::{snapshot_checksum, Hash, OpenMode, Snapshot, Store};
use qm_store_postgres::{PgConfig, PgStore};
use qm_testkit::url_with_dbname;
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut mib = 256usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mib" => mib = args.next().and_then(|n| n.parse().ok()).expect("--mib N"),
            _ if url.is_none() => url = Some(arg),
            _ => {
                eprintln!("usage: snapshot_bench URL [--mib N]");
                std::process::exit(2);
            }
        }
    }
    let url = url.expect("usage: snapshot_bench URL [--mib N]");
    let mut admin = Client::connect(&url, NoTls).expect("connecting to the server");
    let db = format!("qm_bench_{:08x}", rand::random::<u32>());
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("CREATE DATABASE");
    let db_url = url_with_dbname(&url, &db);

    let len = mib << 20;
    let mut random = vec![0u8; len];
    SmallRng::seed_from_u64(1).fill_bytes(&mut random);
    // Compressible: little-endian counters and repeated names, like a state image.
    let mut structured = Vec::with_capacity(len);
    let mut i = 0u64;
    while structured.len() < len {
        structured.extend_from_slice(&(i / 7).to_le_bytes());
        structured.extend_from_slice(b"UA-UNIT-");
        structured.extend_from_slice(&((i % 500) as u32).to_le_bytes());
        i += 1;
    }
    structured.truncate(len);

    println!("snapshot of {mib} MiB; times are save / load");
    let mut sql = Client::connect(&db_url, NoTls).expect("connecting");
    drop(PgStore::connect(&db_url, OpenMode::Create).expect("migrating"));
    for storage in ["lz4", "none"] {
        if storage == "none" {
            sql.batch_execute(
                "ALTER TABLE qm_snapshot_chunk ALTER COLUMN bytes SET STORAGE EXTERNAL",
            )
            .expect("no compression");
        }
        for chunk_mib in [1usize, 8, 64] {
            if chunk_mib > mib {
                continue;
            }
            let config = PgConfig {
                snapshot_chunk_bytes: chunk_mib << 20,
            };
            let mut store =
                PgStore::connect_with(&db_url, OpenMode::Create, config).expect("connect");
            for (kind, bytes) in [("random", &random), ("structured", &structured)] {
                let head_hash = Hash([1; 32]);
                let snapshot = Snapshot {
                    seq: 1,
                    head_hash,
                    checksum: snapshot_checksum(1, head_hash, bytes),
                    bytes: bytes.clone(),
                };
                // Start from an empty table, so that the size below is this snapshot's.
                sql.batch_execute("TRUNCATE qm_snapshot_chunk; CHECKPOINT")
                    .expect("TRUNCATE");
                let started = Instant::now();
                store.save_snapshot(&snapshot, &[]).expect("save");
                let saved = started.elapsed();
                let started = Instant::now();
                let loaded = store.load_snapshot().expect("load").expect("a snapshot");
                let load = started.elapsed();
                assert_eq!(loaded.bytes.len(), len);
                let stored: i64 = sql
                    .query_one("SELECT pg_total_relation_size('qm_snapshot_chunk')", &[])
                    .expect("size")
                    .get(0);
                println!(
                    "  compression {storage:4}  chunks {chunk_mib:3} MiB  {kind:10}  {:6.2} s / {:5.2} s  ({:6.0} / {:4.0} MiB/s, stored {} MiB)",
                    saved.as_secs_f64(),
                    load.as_secs_f64(),
                    mib as f64 / saved.as_secs_f64(),
                    mib as f64 / load.as_secs_f64(),
                    stored >> 20
                );
            }
        }
    }
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .expect("DROP DATABASE");
}
