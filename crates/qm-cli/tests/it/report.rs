//! `qm report`: every format written by the real binary on a coalition scenario (two donors,
//! two recipients, depots, hubs passing stock on to each other, brigades, sinks, values,
//! plans, threat reports, a cancellation and a pause), and the HTML page opened in headless
//! Chromium: it renders, its charts and tables are there, the page logs nothing to the
//! console, and a screenshot is taken (`target/tmp/qm-report.png`) for people to look at.
//!
//! The Chromium test fails, never skips, when Chromium is missing: `scripts/test` installs
//! Debian's `chromium` where `/usr/bin/chromium` is absent (`QM_CHROMIUM` names another).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

/// The scenario's as-of time.
const AS_OF: &str = "2025-06-15";

/// `YYYY-MM-DD` of the `day`th day of the `k`th month after January 2024.
fn day(k: u32, day: u32) -> String {
    format!("{}-{:02}-{:02}T08:00:00Z", 2024 + k / 12, k % 12 + 1, day)
}

/// The coalition scenario: a batch of master data and opening stock, then a batch per
/// month of transfers from February 2024 to June 2025.
pub fn coalition() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut j = Jsonl::new();
    for (id, name, kind) in [
        ("US", "United States", "donor"),
        ("DE", "Germany", "donor"),
        ("UA", "Ukraine", "recipient"),
        ("MD", "Moldova", "recipient"),
    ] {
        j.push(json!({"type": "org", "id": id, "name": name, "kind": kind}));
    }
    for (id, name, org, kind) in [
        ("SRC-US", "US production", "US", "source"),
        ("SRC-DE", "German production", "DE", "source"),
        ("US-DEP-1", "Anniston Army Depot", "US", "depot"),
        ("US-DEP-2", "Letterkenny Munitions Center", "US", "depot"),
        ("DE-DEP", "Unterlüß depot", "DE", "depot"),
        ("DE-HUB", "Jasionka staging", "DE", "transit"),
        ("HUB-RZE", "Rzeszów logistics hub", "US", "transit"),
        ("UA-DEP", "Lviv central depot", "UA", "depot"),
        ("UA-BDE-47", "47th Mechanised Brigade", "UA", "unit"),
        ("UA-BDE-93", "93rd Mechanised Brigade", "UA", "unit"),
        ("UA-SPENT", "Expended in action", "UA", "sink"),
        ("MD-DEP", "Chișinău depot", "MD", "depot"),
    ] {
        j.push(json!({"type": "holder", "id": id, "name": name, "org": org, "kind": kind}));
    }
    for (code, name, category, value) in [
        ("M795", "155 mm shell M795", "artillery", "8000.00"),
        ("GMLRS", "GMLRS rocket", "artillery", "168000.00"),
        ("STINGER", "Stinger missile", "air defence", "480000.00"),
        ("PAC3", "PAC-3 MSE interceptor", "air defence", "4100000.00"),
        ("GEN5", "Generator \"5kW\" <b>&</b>", "support", "2500.00"),
    ] {
        j.push(
            json!({"type": "item", "code": code, "name": name, "category": category,
            "tracking": "bulk", "unit_value": {"amount": value, "currency": "USD"}}),
        );
    }
    for (item, org, qty) in [
        ("M795", "US", 40_000),
        ("GMLRS", "US", 2_000),
        ("PAC3", "US", 150),
        ("STINGER", "US", 400),
        ("M795", "DE", 10_000),
    ] {
        j.floor(item, org, qty);
    }
    for (id, item, qty, from, to) in [
        ("open-1", "M795", 150_000, "SRC-US", "US-DEP-1"),
        ("open-2", "M795", 30_000, "SRC-US", "US-DEP-2"),
        ("open-3", "GMLRS", 3_200, "SRC-US", "US-DEP-2"),
        ("open-4", "STINGER", 900, "SRC-US", "US-DEP-1"),
        ("open-5", "PAC3", 420, "SRC-US", "US-DEP-2"),
        ("open-6", "M795", 60_000, "SRC-DE", "DE-DEP"),
        ("open-7", "GEN5", 4_000, "SRC-DE", "DE-DEP"),
        ("open-8", "GEN5", 1_000, "SRC-US", "US-DEP-1"),
    ] {
        j.mv(id, "2024-01-05", item, qty, from, to);
    }
    j.push(
        json!({"type": "production", "id": "prod-m795", "item": "M795", "to": "US-DEP-1",
        "qty_per_month": 5000, "from_time": "2025-01-01"}),
    );
    j.push(
        json!({"type": "production", "id": "prod-m795-de", "item": "M795", "to": "DE-DEP",
        "qty_per_month": 1500, "from_time": "2025-03-01", "partner": "US"}),
    );
    j.push(
        json!({"type": "consumption", "id": "cons-gmlrs", "item": "GMLRS", "org": "US",
        "qty_per_month": 90, "from_time": "2025-06-01"}),
    );
    j.push(
        json!({"type": "consumption", "id": "cons-m795", "item": "M795", "org": "US",
        "qty_per_month": 2500, "from_time": "2025-06-01"}),
    );
    files.push(("00-master.jsonl".to_owned(), j.text()));

    // A transfer a month, each line allocated on day 3, dispatched on day 5 to a hub,
    // delivered on day 14 (the last months' still on the way), passed on to a brigade on
    // day 20 and partly expended.
    for k in 1..=17u32 {
        let mut j = Jsonl::new();
        let package = |j: &mut Jsonl,
                       donor: &str,
                       recipient: &str,
                       lines: &[(&str, u64, &str)],
                       route: &[&str],
                       to: &str| {
            let id = format!("{donor}-{recipient}-{}", &day(k, 1)[..7]);
            j.push(json!({"type": "transfer", "id": id, "time": day(k, 1), "donor": donor,
                "recipient": recipient, "authority": format!("Package {k}"),
                "lines": lines.iter().map(|(item, qty, _)| json!({"item": item, "qty": qty})).collect::<Vec<_>>()}));
            for (n, (item, qty, depot)) in lines.iter().enumerate() {
                // The pause on Stingers for Ukraine stands from May 2025: nothing more goes.
                if *item == "STINGER" && k >= 16 {
                    continue;
                }
                // September's shells are cut by a thousand before they are allocated.
                let qty = if k == 8 && *item == "M795" && donor == "US" {
                    j.push(json!({"type": "cancel", "id": format!("{id}-cut"), "time": day(k, 2),
                        "transfer": id, "item": item, "qty": 1000, "reason": "Reprioritised to air defence", "by": "J4"}));
                    qty - 1000
                } else {
                    *qty
                };
                let tag = format!("{id}-{n}");
                j.push(
                    json!({"type": "allocate", "id": format!("{tag}-a"), "time": day(k, 3),
                    "transfer": id, "item": item, "qty": qty, "from": depot}),
                );
                if k == 17 {
                    continue;
                }
                let mut at = *depot;
                for (hop, next) in route.iter().chain([&to]).enumerate() {
                    if k == 16 && hop > 0 {
                        break;
                    }
                    let mut m = movement(
                        &format!("{tag}-m{hop}"),
                        &day(k, 5 + 9 * hop as u32),
                        item,
                        qty,
                        at,
                        next,
                    );
                    m["transfer"] = json!(id);
                    j.push(m);
                    at = next;
                }
                if k < 16 && recipient == "UA" {
                    let bde = if k % 2 == 0 { "UA-BDE-47" } else { "UA-BDE-93" };
                    let mut m = movement(&format!("{tag}-bde"), &day(k, 24), item, qty, to, bde);
                    m["transfer"] = json!(id);
                    j.push(m);
                    let spent = qty / 3;
                    if spent > 0 && *item != "GEN5" {
                        let mut m = movement(
                            &format!("{tag}-spent"),
                            &day(k, 27),
                            item,
                            spent,
                            bde,
                            "UA-SPENT",
                        );
                        m["transfer"] = json!(id);
                        j.push(m);
                    }
                }
            }
        };
        let mut us_lines = vec![("M795", 4000 + 250 * k as u64, "US-DEP-1")];
        if k % 2 == 0 {
            us_lines.push(("GMLRS", 36, "US-DEP-2"));
        }
        if k % 3 == 1 {
            us_lines.push(("STINGER", 24, "US-DEP-1"));
        }
        if k % 4 == 2 {
            us_lines.push(("PAC3", 12, "US-DEP-2"));
        }
        package(&mut j, "US", "UA", &us_lines, &["HUB-RZE"], "UA-DEP");
        if k % 2 == 1 {
            package(
                &mut j,
                "DE",
                "UA",
                &[("M795", 2500, "DE-DEP"), ("GEN5", 120, "DE-DEP")],
                &["DE-HUB", "HUB-RZE"],
                "UA-DEP",
            );
        }
        if k % 3 == 0 {
            package(
                &mut j,
                "US",
                "MD",
                &[("GEN5", 60, "US-DEP-1"), ("M795", 400, "US-DEP-2")],
                &[],
                "MD-DEP",
            );
        }
        if k == 16 {
            j.push(
                json!({"type": "pause", "id": "pause-stinger-ua", "time": "2025-05-01",
                "reason": "Congressional notification pending", "by": "State Department",
                "items": ["STINGER"], "donor": "US", "recipient": "UA", "review_by": "2025-07-01"}),
            );
        }
        if (14..=16).contains(&k) {
            let launched = 2600 + 400 * (k as u64 - 14);
            j.push(
                json!({"type": "threat", "id": format!("threat-{k}"), "time": day(k, 28),
                "region": "UA", "launched": {"drones": launched, "ballistic_missiles": 40},
                "interceptors_used": {"PAC3": launched / 80}}),
            );
        }
        files.push((format!("{k:02}-month.jsonl"), j.text()));
    }
    files
}

/// A database holding the coalition scenario.
fn coalition_db() -> Db {
    let db = Db::new();
    let mut args = vec!["apply".to_owned()];
    for (name, text) in coalition() {
        args.push(db.file(&name, &text));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    db.qm(&args).ok();
    db
}

#[test]
fn every_format_is_written_and_unknown_orgs_are_refused() {
    let db = coalition_db();
    let out = |name: &str| db.dir().join(name).to_str().unwrap().to_owned();

    let json_path = out("report.json");
    let r = db.qm(&[
        "report", "--format", "json", "--out", &json_path, "--as-of", AS_OF,
    ]);
    r.ok();
    assert_eq!(r.stdout, format!("wrote {json_path}\n"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    // The review puts the items at risk first: PAC-3 (threat demand) and GMLRS (consumption).
    let items: Vec<&str> = v["review"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"].as_str().unwrap())
        .collect();
    assert_eq!(&items[..2], ["PAC3", "GMLRS"], "{items:?}");
    assert!(v["review"]["items"][0]["first_breach"].is_string());
    // Flows: German shells pass from one hub to the other.
    let hub_to_hub = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == "DE-HUB" && e["to"] == "HUB-RZE" && e["item"] == "M795")
        .expect("a hub-to-hub flow");
    assert_eq!(hub_to_hub["from_group"], "transit");
    assert_eq!(hub_to_hub["to_group"], "transit");
    // Eight German packages went on from the first hub (the ninth is allocated only).
    assert_eq!(hub_to_hub["qty"], 8 * 2500);
    assert_eq!(v["pauses"][0]["holds_back"][0]["item"], "STINGER");

    let dir = out("csv");
    let r = db.qm(&["report", "--format", "csv", "--out", &dir, "--as-of", AS_OF]);
    r.ok();
    for name in [
        "review.csv",
        "transfers_summary.csv",
        "donor_totals.csv",
        "pauses.csv",
    ] {
        let text = std::fs::read_to_string(Path::new(&dir).join(name)).unwrap();
        assert!(r.stdout.contains(name), "{}", r.stdout);
        assert!(text.lines().count() > 1, "{name}:\n{text}");
    }
    let review = std::fs::read_to_string(Path::new(&dir).join("review.csv")).unwrap();
    assert!(
        review.contains(r#"GEN5,"Generator ""5kW"" <b>&</b>",support,"#),
        "{review}"
    );

    let xlsx = out("report.xlsx");
    db.qm(&[
        "report", "--format", "xlsx", "--out", &xlsx, "--as-of", AS_OF, "--donor", "US",
    ])
    .ok();
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK\x03\x04"));

    // The facade's checks: unknown orgs are errors (exit 1), naming them; nothing is written.
    let nope = out("nope.html");
    for args in [
        vec!["--org", "NOPE"],
        vec!["--donor", "NOPE"],
        vec!["--recipient", "NOPE"],
    ] {
        let mut full = vec!["report", "--format", "html", "--out", &nope];
        full.extend(&args);
        let r = db.qm(&full);
        r.expect_code(1);
        assert_eq!(r.stderr, "qm: unknown org \"NOPE\"\n");
    }
    assert!(!Path::new(&nope).exists());
    // A file where a directory of CSV files is to go, a directory where a file is to go.
    let r = db.qm(&["report", "--format", "csv", "--out", &json_path]);
    r.expect_code(1);
    assert!(r.stderr.contains("is not a directory"), "{}", r.stderr);
    let r = db.qm(&["report", "--format", "html", "--out", &dir]);
    r.expect_code(1);
    assert!(r.stderr.contains("is a directory"), "{}", r.stderr);
    // Usage: a format that does not exist.
    db.qm(&["report", "--format", "pdf", "--out", &nope])
        .expect_code(2);
}

/// Debian's Chromium, or the one `QM_CHROMIUM` names.
fn chromium() -> PathBuf {
    let path = std::env::var_os("QM_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} not found: install Debian's chromium (scripts/test does: apt-get install -y chromium) or set QM_CHROMIUM",
        path.display()
    );
    path
}

/// How long one Chromium run may take before the test fails.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(40);

/// Runs headless Chromium on `page` with `args` (in a fresh profile, with the flags that
/// work on a machine without a network or a sandbox) and returns (stdout, stderr).
fn headless(page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(args)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().expect("start chromium");
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut so, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut se, &mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium took longer than {CHROMIUM_TIMEOUT:?} on {}",
                page.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(status.success(), "chromium failed ({status}):\n{err}");
    (out, err)
}

/// The console messages of `page` in Chromium's log (every level: the report has no
/// script, so any message, an error or a blocked load, is a fault).
fn console_lines<'a>(log: &'a str, page: &Path) -> Vec<&'a str> {
    let source = format!("source: file://{}", page.display());
    log.lines()
        .filter(|l| l.contains(":CONSOLE") && l.contains(&source) || l.contains("Uncaught"))
        .collect()
}

#[test]
fn the_html_report_renders_in_chromium_with_its_charts_and_no_console_errors() {
    let db = coalition_db();
    let page = db.dir().join("report.html");
    let page_s = page.to_str().unwrap();
    db.qm(&[
        "report", "--format", "html", "--out", page_s, "--as-of", AS_OF,
    ])
    .ok();
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing refers outside the file.
    for outside in [
        "http://", "https://", "src=", "<script", "<link", "@import", "url(",
    ] {
        assert!(
            !html.contains(outside),
            "the page refers outside itself: {outside}"
        );
    }

    // The check of the console finds what a faulty page logs: a blocked load, an uncaught
    // error (so that the real page's silence below means something).
    let faulty = db.dir().join("faulty.html");
    std::fs::write(
        &faulty,
        "<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'\"><img src=\"http://example.invalid/x.png\"><script>throw new Error('boom')</script>",
    )
    .unwrap();
    let (_, log) = headless(&faulty, &["--dump-dom"]);
    let found = console_lines(&log, &faulty);
    assert!(
        found.iter().any(|l| l.contains("Uncaught Error: boom"))
            && found.iter().any(|l| l.contains("Content Security Policy")),
        "the console check misses a faulty page's messages:\n{log}"
    );

    let (dom, log) = headless(&page, &["--dump-dom"]);
    assert_eq!(
        console_lines(&log, &page),
        Vec::<&str>::new(),
        "console:\n{log}"
    );
    // It rendered: the tables and the charts are in the document Chromium built.
    let count = |needle: &str| dom.matches(needle).count();
    assert!(dom.contains("<h1>Stockpile and transfers report</h1>"));
    assert!(
        dom.contains(r#"datetime="2025-06-15T00:00:00Z""#),
        "the as-of time"
    );
    assert!(dom.contains("Review of <b>every org</b>"));
    assert_eq!(
        count(r#"class="chart chart-projection""#),
        5,
        "a chart per item"
    );
    assert_eq!(
        count(r#"class="chart chart-deliveries""#),
        2,
        "a chart per recipient"
    );
    assert_eq!(
        count(r#"class="chart chart-flow""#),
        5,
        "a chart per item moved"
    );
    assert_eq!(count("<svg"), 12);
    for id in ["chart-projection-0", "chart-deliveries-1", "chart-flow-4"] {
        assert!(dom.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    // The first projection is the item at risk, its breach marked.
    let first = &dom[dom.find(r#"id="chart-projection-0""#).unwrap()..];
    assert!(first[..first.find("</svg>").unwrap()].contains(r#"class="breach""#));
    // The review and the donor view as tables, every item and row in them.
    assert!(count("<table>") >= 4, "review, donor view, totals, pauses");
    for text in [
        "PAC-3 MSE interceptor",
        "47th Mechanised Brigade",
        "Jasionka staging",
        "Congressional notification pending",
        "Germany (DE)",
    ] {
        assert!(dom.contains(text), "{text} is on the page");
    }
    // Text from records is text: the item name with markup in it shows as written.
    assert!(dom.contains("Generator \"5kW\" &lt;b&gt;&amp;&lt;/b&gt;"));
    assert!(!dom.contains("<b>&amp;</b>"));

    // A screenshot for people to look at.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("qm-report.png");
    let _ = std::fs::remove_file(&shot);
    let (_, log) = headless(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,2400",
            "--hide-scrollbars",
        ],
    );
    assert_eq!(
        console_lines(&log, &page),
        Vec::<&str>::new(),
        "console:\n{log}"
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let dim = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((dim(16), dim(20)), (1400, 2400), "IHDR width and height");
    let kept = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("qm-report.html");
    std::fs::copy(&page, &kept).unwrap();
    eprintln!("screenshot: {}; page: {}", shot.display(), kept.display());
}

/// The flows under a transfer whose batches are first all of the journal (read in one
/// pass), then two batches of thirty (read one by one): the same movements either way.
fn flows_from_the_journal(db: Db) {
    let mut j = world();
    j.mv("open", "2025-01-01", "AMMO", 1000, "FACTORY", "DEPOT-A");
    j.push(
        json!({"type": "transfer", "id": "T1", "time": "2025-01-02", "donor": "US",
        "recipient": "UA", "lines": [{"item": "AMMO", "qty": 100}]}),
    );
    j.push(
        json!({"type": "allocate", "id": "a1", "time": "2025-01-03", "transfer": "T1",
        "item": "AMMO", "qty": 100, "from": "DEPOT-A"}),
    );
    let mut m = movement("d1", "2025-01-04", "AMMO", 100, "DEPOT-A", "SHIP");
    m["transfer"] = json!("T1");
    j.push(m);
    db.apply_ok("b1.jsonl", &j.text());
    let report = db.dir().join("r.json");
    let report_s = report.to_str().unwrap();
    let flows = |extra: &[&str]| {
        let mut args = vec!["report", "--format", "json", "--out", report_s];
        args.extend(extra);
        db.qm(&args).ok();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        v["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}:{} > {}:{} {}",
                    e["item"].as_str().unwrap(),
                    e["from"].as_str().unwrap(),
                    e["from_group"].as_str().unwrap(),
                    e["to"].as_str().unwrap(),
                    e["to_group"].as_str().unwrap(),
                    e["qty"]
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        flows(&["--as-of", "2025-02-01"]),
        ["AMMO DEPOT-A:donor_depot > SHIP:transit 100"]
    );
    for k in 2..=29 {
        let mut j = Jsonl::new();
        j.mv(
            &format!("p{k}"),
            "2025-01-05",
            "AMMO",
            1,
            "DEPOT-A",
            "DEPOT-B",
        );
        db.apply_ok(&format!("b{k}.jsonl"), &j.text());
    }
    let mut m = movement("d2", "2025-01-20", "AMMO", 60, "SHIP", "UA-DEPOT");
    m["transfer"] = json!("T1");
    db.apply_ok("b30.jsonl", &Jsonl::new().push(m).text());
    assert_eq!(
        flows(&["--as-of", "2025-02-01"]),
        [
            "AMMO DEPOT-A:donor_depot > SHIP:transit 100",
            "AMMO SHIP:transit > UA-DEPOT:recipient 60"
        ]
    );
    // Before the delivery, and for a donor with no transfers: what had happened, and nothing.
    assert_eq!(
        flows(&["--as-of", "2025-01-10"]),
        ["AMMO DEPOT-A:donor_depot > SHIP:transit 100"]
    );
    assert_eq!(
        flows(&["--as-of", "2025-02-01", "--donor", "UA"]),
        Vec::<String>::new()
    );
}

#[test]
fn flows_are_read_from_the_journal_on_the_embedded_file() {
    flows_from_the_journal(Db::new());
}

#[test]
fn flows_are_read_from_the_journal_on_postgres() {
    flows_from_the_journal(Db::postgres());
}
