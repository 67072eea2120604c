//! `qm bench --workflow` and `qm bench --review` run end to end on tiny sizes and print the
//! figures they promise. Nothing here is timed or compares speeds: the benchmarks are
//! commands, run at full size by hand (see `ARCHITECTURE.md`).

use crate::support::run_in;

#[test]
fn the_workflow_bench_prints_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &[
            "bench",
            "--workflow",
            "--ingest",
            "20k",
            "--rounds",
            "1",
            "--history",
            "50k",
            "--json",
        ],
        None,
        &[],
    );
    let f = r.ok().json();
    let ingest = &f["workflow_ingest_20000"];
    assert_eq!(ingest["movements"], 20_000);
    assert!(ingest["transfers"].as_u64().unwrap() > 100, "{ingest}");
    assert!(ingest["ratio"].as_f64().unwrap() > 0.0);
    assert_eq!(ingest["workflow_rounds_s"].as_array().unwrap().len(), 2);
    for key in ["late_allocate", "late_pause", "late_allocate_after_pauses"] {
        assert!(f[key]["count"].as_u64().unwrap() > 0, "{key}: {f}");
        assert!(f[key]["p50_us"].as_f64().unwrap() > 0.0, "{key}: {f}");
    }
    assert!(f["late_allocate_hot_key"]["first_us"].as_f64().unwrap() > 0.0);
    assert_eq!(f["workflow_core_apply"]["movements"], 50_000);
}

#[test]
fn the_review_bench_agrees_with_sql_and_prints_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    for workload in ["uniform", "workflow"] {
        let r = run_in(
            dir.path(),
            &[
                "bench",
                "--review",
                "--history",
                "30k",
                "--review-items",
                "300",
                "--review-workload",
                workload,
                "--json",
            ],
            None,
            &[],
        );
        let f = r.ok().json();
        assert_eq!(f["review_build"]["movements"], 30_000, "{f}");
        assert_eq!(f["review_compute"]["items"], 300, "{f}");
        assert!(f["review_process"]["output_bytes"].as_u64().unwrap() > 0);
        assert_eq!(f["review_what_if"]["proposal_records"], 100, "{f}");
        assert_eq!(f["review_what_if"]["items_changed"], 50, "{f}");
        for key in [
            "review_sql_view",
            "review_sql_table",
            "review_aggregates_only",
            "review_aggregates_only_past",
        ] {
            assert_eq!(f[key]["agrees"], true, "{key}: {f}");
        }
    }
}
