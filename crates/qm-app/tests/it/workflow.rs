//! The shipment workflow through the facade, on every backend from the same test code: the
//! same records give the same refusals, the same figures, the same figures again after a
//! restart (snapshot and tail) and after an export into either backend; writers racing for
//! one earmark never overcommit a depot; a what-if stores nothing.

use qm_app::{App, AppError};
use qm_core::Time;
use qm_report::TransferFilter;

use crate::support::*;

fn at(t: &str) -> Time {
    qm_interchange::parse_time(t).unwrap()
}

const STOCK: &str = r#"{"type":"movement","id":"s1","time":"2025-01-01","item":"SHELL","qty":200,"from":"PROD","to":"DEPOT","lot":"L1"}
"#;

const WORKFLOW: &str = r#"{"type":"transfer","id":"T1","time":"2025-02-01","donor":"US","recipient":"UA","lines":[{"item":"SHELL","qty":120}]}
{"type":"allocate","id":"A1","time":"2025-02-02","transfer":"T1","item":"SHELL","qty":100,"from":"DEPOT","lot":"L1"}
{"type":"movement","id":"d1","time":"2025-02-03","item":"SHELL","qty":60,"from":"DEPOT","to":"HUB","lot":"L1","transfer":"T1"}
{"type":"movement","id":"d2","time":"2025-02-05","item":"SHELL","qty":40,"from":"HUB","to":"BDE","lot":"L1","transfer":"T1"}
"#;

/// The donor view and standing pauses as one comparable text.
fn figures(app: &App, as_of: &str) -> String {
    let state = app.read().unwrap();
    let summary = state
        .transfers_summary(&TransferFilter::default(), at(as_of))
        .unwrap();
    let pauses = state.pauses(at(as_of)).unwrap();
    let review = state.review_report(Some("US"), at(as_of)).unwrap();
    let shell = review.items.iter().find(|i| i.item == "SHELL").unwrap();
    format!(
        "{}\n{}\nSHELL on hand {} earmarked {} available {}",
        serde_json::to_string(&summary).unwrap(),
        serde_json::to_string(&pauses).unwrap(),
        shell.on_hand,
        shell.earmarked,
        shell.available
    )
}

#[test]
fn the_workflow_gives_the_same_answers_on_every_backend() {
    let seen = std::cell::RefCell::new(Vec::<String>::new());
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        app.apply_text("stock.jsonl", STOCK).unwrap();
        app.apply_text("wf.jsonl", WORKFLOW).unwrap();
        // The floor of 50: 200 on hand, 100 earmarked, 60 dispatched: a further 60 would take
        // the available 100 to 40.
        let more = r#"{"type":"allocate","id":"A2","time":"2025-02-04","transfer":"T1","item":"SHELL","qty":20,"from":"DEPOT","lot":"L1"}
{"type":"allocate","id":"A3","time":"2025-02-04","transfer":"T1","item":"SHELL","qty":1,"from":"DEPOT","lot":"NOPE"}
"#;
        match app.apply_text("more.jsonl", more) {
            Err(e @ AppError::Rejected { .. }) => {
                let text = e.to_string();
                assert!(
                    text.contains(r#"more.jsonl:2: field "qty": available stock (balance less earmarks) of "SHELL" lot "NOPE" at "DEPOT" would go negative at 2025-02-04T00:00:00Z: short by 1"#),
                    "{text}"
                );
                assert!(
                    !text.contains("more.jsonl:1:"),
                    "the first line is fine: {text}"
                );
            }
            other => panic!("expected a rejection, got {other:?}"),
        }
        app.apply_text(
            "pause.jsonl",
            r#"{"type":"pause","id":"P1","time":"2025-03-01","reason":"stockpile review","by":"OSD","recipient":"UA","review_by":"2025-04-01"}
"#,
        )
        .unwrap();
        let late = r#"{"type":"allocate","id":"A2","time":"2025-03-02","transfer":"T1","item":"SHELL","qty":20,"from":"DEPOT","lot":"L1"}
"#;
        let e = app.apply_text("late.jsonl", late).unwrap_err().to_string();
        assert!(e.contains(r#"late.jsonl:1: field "transfer": pause "P1" stands at 2025-03-02T00:00:00Z (since 2025-03-01T00:00:00Z, to be reviewed by 2025-04-01T00:00:00Z): stockpile review"#), "{e}");
        // Dated before the pause, recorded after it: accepted.
        app.apply_text("early.jsonl", &late.replace("2025-03-02", "2025-02-20"))
            .unwrap();
        app.apply_text(
            "cancel.jsonl",
            r#"{"type":"cancel","id":"C1","time":"2025-03-05","transfer":"T1","reason":"review"}
"#,
        )
        .unwrap();
        let answer = format!(
            "{}\n{}",
            figures(&app, "2025-02-10"),
            figures(&app, "2025-06-01")
        );
        // The same after a restart from the snapshot and the tail.
        app.snapshot().unwrap();
        app.apply_text(
            "tail.jsonl",
            &mv(
                "s2",
                "2025-05-01",
                "SHELL",
                1,
                "PROD",
                "DEPOT",
                r#","lot":"L1""#,
            ),
        )
        .unwrap();
        let answer_then = format!(
            "{}\n{}",
            figures(&app, "2025-02-10"),
            figures(&app, "2025-06-01")
        );
        drop(app);
        let reopened = db.open();
        assert_eq!(
            format!(
                "{}\n{}",
                figures(&reopened, "2025-02-10"),
                figures(&reopened, "2025-06-01")
            ),
            answer_then
        );
        // The whole history as one file, into an empty database of either backend.
        let exported = export(&reopened);
        for target in [sqlite(), postgres()] {
            let mut copy = target.open();
            copy.apply_text("export.jsonl", &exported).unwrap();
            assert_eq!(export(&copy), exported);
            assert_eq!(
                format!(
                    "{}\n{}",
                    figures(&copy, "2025-02-10"),
                    figures(&copy, "2025-06-01")
                ),
                answer_then
            );
            copy.verify().unwrap();
        }
        reopened.verify().unwrap();
        seen.borrow_mut().push(answer);
    });
    let seen = seen.into_inner();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], seen[1], "both backends give the same answers");
    // Worked by hand: 120 committed, 100 allocated, then 20 more (before the pause); 60
    // dispatched and 40 delivered; the cancellation takes the undispatched 60 off and releases
    // the 60 earmarked above the new commitment of 60.
    assert!(seen[0].contains(r#""committed":60,"cancelled":60,"allocated":60,"dispatched":60,"delivered":40,"in_transit":20"#), "{}", seen[0]);
    assert!(
        seen[0].contains("SHELL on hand 140 earmarked 40 available 100"),
        "{}",
        seen[0]
    );
}

#[test]
fn writers_racing_for_one_depots_stock_never_earmark_more_than_it_holds() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut a = db.open();
        a.apply_text("setup.jsonl", SETUP).unwrap();
        a.apply_text("stock.jsonl", STOCK).unwrap();
        a.apply_text(
            "t.jsonl",
            r#"{"type":"transfer","id":"T1","time":"2025-02-01","donor":"US","recipient":"UA","lines":[{"item":"SHELL","qty":200}]}
{"type":"transfer","id":"T2","time":"2025-02-01","donor":"US","recipient":"UA","lines":[{"item":"SHELL","qty":200}]}
"#,
        )
        .unwrap();
        let mut b = db.open();
        // A earmarks 120 of the 150 above the floor; B, which has not seen it, asks for 60.
        a.apply_text(
            "a.jsonl",
            r#"{"type":"allocate","id":"A1","time":"2025-02-02","transfer":"T1","item":"SHELL","qty":120,"from":"DEPOT","lot":"L1"}
"#,
        )
        .unwrap();
        let e = b
            .apply_text(
                "b.jsonl",
                r#"{"type":"allocate","id":"B1","time":"2025-02-02","transfer":"T2","item":"SHELL","qty":60,"from":"DEPOT","lot":"L1"}
"#,
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("below its floor of 50: short by 30"), "{e}");
        assert_eq!(b.head().seq, 4, "B caught up on A's approval first");
        b.verify().unwrap();
    });
}

#[test]
fn a_what_if_stores_nothing_on_every_backend() {
    on_every_backend(|fresh: &dyn Fn() -> Db| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        app.apply_text("stock.jsonl", STOCK).unwrap();
        let head = app.head();
        let dir = tempfile::tempdir().unwrap();
        let proposal = dir.path().join("proposal.jsonl");
        std::fs::write(&proposal, WORKFLOW).unwrap();
        let r = app
            .what_if(
                proposal.to_str().unwrap(),
                Some("US"),
                at("2025-03-01"),
                &qm_report::ReviewOptions {
                    horizon: 12,
                    depots: false,
                    since: None,
                },
            )
            .unwrap();
        let shell = r.items.iter().find(|i| i.item == "SHELL").unwrap();
        assert_eq!(
            (shell.on_hand, shell.earmarked, shell.available),
            (140, 40, 100)
        );
        assert_eq!(shell.before.as_ref().unwrap().available, 200);
        assert_eq!(app.head(), head, "nothing committed");
        let snapshot_before = app.read().unwrap().ledger().encode_snapshot();
        drop(app);
        let reopened = db.open();
        assert_eq!(reopened.head(), head);
        assert_eq!(
            reopened.read().unwrap().ledger().encode_snapshot(),
            snapshot_before
        );
        assert!(reopened.read().unwrap().ledger().transfers().is_empty());
    });
}
