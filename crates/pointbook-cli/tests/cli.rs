//! The `pointbook` binary, run as a user would.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pointbook(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pointbook"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

const PROGRAM: &str = "examples/programs/bean-and-leaf.toml";
const EVENTS: &str = "examples/events/bean-and-leaf.jsonl";

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn balances_prints_a_sorted_array_and_reports_rejections_on_stderr() {
    let o = pointbook(&["balances", "--program", PROGRAM, "--events", EVENTS]);
    assert!(o.status.success(), "{}", stderr(&o));
    let balances: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let members: Vec<&str> = balances
        .iter()
        .map(|b| b["member"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["m1", "m2"]);
    // m1 spends 150 + 20 + 50 FIFO out of 25 signup, 100 (p2), 50 (birthday 2026), 4 (p1)
    // and 80 (p3): 39 of p3 are left and expire at 2027-06-01; the 2027 birthday adds 50.
    assert_eq!(balances[0]["available"], 50);
    assert_eq!(balances[0]["lots"][0]["source"], "birthday:m1:2027");
    assert_eq!(balances[1]["available"], 0, "forgotten");
    let lines: Vec<serde_json::Value> = stderr(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], "p4");
    assert_eq!(lines[0]["line"], 7);
    assert_eq!(lines[0]["error"]["code"], "invalid_event");
    assert_eq!(
        lines[0]["error"]["message"],
        "event p4: line 1: amount \"4.755\" has more decimals than USD allows"
    );
    let strict = pointbook(&[
        "balances",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn replay_prints_one_line_per_event() {
    let o = pointbook(&["replay", "--program", PROGRAM, "--events", EVENTS]);
    assert!(o.status.success());
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 14);
    assert_eq!(lines[3]["event"], "p1");
    assert_eq!(lines[3]["points"], 11);
    assert_eq!(lines[4]["points"], -7);
    assert_eq!(lines[6]["error"]["code"], "invalid_event");
    assert_eq!(lines[11]["duplicate"], true);
    assert_eq!(lines[11]["points"], 11);
}

#[test]
fn explain_prints_a_readable_table() {
    let o = pointbook(&[
        "explain",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--event",
        "p1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["base", "8.25"]);
    assert_eq!(rows[1], ["rule", "pastry-double", "3.50"]);
    assert_eq!(rows[2], ["rounding", "-0.75"]);
    assert_eq!(rows[3], ["=", "11", "points"]);
}

/// docs/semantics.md §13: `explain` shows the money a redemption takes off the order.
#[test]
fn explain_shows_a_discount() {
    let dir = std::env::temp_dir().join(format!("pb-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let events = dir.join("till.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"type":"enroll","id":"e1","member":"m1","at":"2026-01-01T10:00:00Z"}"#,
            "\n",
            r#"{"type":"adjust","id":"a1","member":"m1","at":"2026-01-01T12:00:00Z","points":1000,"reason":"t"}"#,
            "\n",
            r#"{"type":"redeem","id":"x1","member":"m1","at":"2026-01-04T12:00:00Z","reward":"pay","points":500,"order_total":"12.40"}"#,
            "\n",
        ),
    )
    .unwrap();
    let program = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../pointbook/tests/fixtures/till.toml"
    );
    let o = pointbook(&[
        "explain",
        "--program",
        program,
        "--events",
        events.to_str().unwrap(),
        "--event",
        "x1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["discount", "(money", "off", "the", "order)", "5.00"]),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quote_changes_nothing_and_prints_the_outcome() {
    let purchase = r#"{"id":"q1","member":"m1","at":"2027-06-02T12:00:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"}]}"#;
    let o = pointbook(&[
        "quote",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--purchase",
        purchase,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let outcome: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(outcome["points"], 4);
    let o = pointbook(&[
        "quote",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--purchase",
        "{\"type\":\"refund\"}",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn generate_is_deterministic_and_demo_reports() {
    let a = pointbook(&[
        "generate",
        "--members",
        "30",
        "--events",
        "500",
        "--seed",
        "9",
    ]);
    let b = pointbook(&[
        "generate",
        "--members",
        "30",
        "--events",
        "500",
        "--seed",
        "9",
    ]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    let c = pointbook(&[
        "generate",
        "--members",
        "30",
        "--events",
        "500",
        "--seed",
        "10",
    ]);
    assert_ne!(a.stdout, c.stdout);
    let demo = pointbook(&["demo", "--members", "40", "--events", "800", "--json"]);
    assert!(demo.status.success(), "{}", stderr(&demo));
    let report: serde_json::Value = serde_json::from_str(&stdout(&demo)).unwrap();
    assert_eq!(report["members"], 40);
    let issued = report["issued"].as_i64().unwrap();
    let parts = ["redeemed", "expired", "forfeited"]
        .iter()
        .map(|k| report[k].as_i64().unwrap())
        .sum::<i64>()
        + report["outstanding"]["total"].as_i64().unwrap()
        - report["forgiven"].as_i64().unwrap();
    assert_eq!(
        issued, parts,
        "issued = redeemed + expired + forfeited + outstanding - forgiven"
    );
}

#[test]
fn every_command_has_help_and_bad_input_is_a_clear_error() {
    for cmd in [
        "demo", "balances", "replay", "quote", "explain", "progress", "check", "generate",
        "analyze", "compare", "report", "ingest",
    ] {
        let o = pointbook(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd}");
        assert!(stdout(&o).contains("Usage: pointbook"), "{cmd}");
    }
    let o = pointbook(&["balances", "--program", "nope.toml", "--events", EVENTS]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("pointbook: nope.toml: "),
        "{}",
        stderr(&o)
    );
    let o = pointbook(&[
        "check",
        "--program",
        "examples/programs/northwind-retail.toml",
    ]);
    assert!(o.status.success());
}

#[test]
fn analyze_prints_the_analysis_as_json() {
    let o = pointbook(&[
        "analyze",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--period",
        "quarter",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let a: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(a["period"], "quarter");
    let s = &a["summary"];
    // Points issued net = redeemed + expired + forfeited + outstanding.
    let n = |v: &serde_json::Value| v.as_i64().unwrap();
    let outstanding = &s["outstanding"];
    assert_eq!(
        n(&s["net_issued"]),
        n(&s["flows"]["redeemed"])
            + n(&s["flows"]["expired"])
            + n(&s["flows"]["forfeited"])
            + n(&outstanding["available"])
            + n(&outstanding["pending"])
            + n(&outstanding["held"])
    );
    // The same totals as the balances command.
    let b: Vec<serde_json::Value> = serde_json::from_str(&stdout(&pointbook(&[
        "balances",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
    ])))
    .unwrap();
    let available: i64 = b.iter().map(|m| n(&m["available"])).sum();
    assert_eq!(n(&outstanding["available"]), available);
    assert_eq!(a["members"].as_array().unwrap().len(), b.len());
    let o = pointbook(&[
        "analyze",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--period",
        "fortnight",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("\"fortnight\": use week"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn compare_a_program_with_itself_and_with_a_variant() {
    let o = pointbook(&[
        "compare",
        "--program",
        PROGRAM,
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    for m in c["metrics"].as_array().unwrap() {
        assert_eq!(m["a"], m["b"], "{m}");
        let delta: f64 = m["delta"].as_str().map_or(0.0, |d| d.parse().unwrap());
        assert_eq!(delta, 0.0, "{m}");
    }
    assert_eq!(c["members_changing_tier"], 0);
    assert!(c["most_affected"].as_array().unwrap().is_empty());
    let variant = "examples/programs/bean-and-leaf-gold-250.toml";
    let o = pointbook(&[
        "compare",
        "--program",
        PROGRAM,
        "--program",
        variant,
        "--events",
        EVENTS,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.starts_with("what if: Bean & Leaf -> Bean & Leaf (gold at 250, +50%)"),
        "{text}"
    );
    assert!(text.contains("points_issued"), "{text}");
    let o = pointbook(&["compare", "--program", PROGRAM, "--events", EVENTS]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn report_writes_one_self_contained_html_file() {
    let out = std::env::temp_dir().join(format!("pointbook-report-{}.html", std::process::id()));
    let o = pointbook(&[
        "report",
        "--program",
        PROGRAM,
        "--compare",
        "examples/programs/bean-and-leaf-gold-250.toml",
        "--events",
        EVENTS,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    for chart in ["liability", "flows", "tiers", "compare"] {
        assert!(
            html.contains(&format!("<svg data-chart=\"{chart}\"")),
            "{chart}"
        );
    }
    assert!(html.contains("Bean &amp; Leaf"));
    assert!(!html.contains("<script"));
}

#[test]
fn balances_on_two_threads_are_the_same_balances() {
    let path = std::env::temp_dir().join(format!("pointbook-par-{}.jsonl", std::process::id()));
    let o = pointbook(&[
        "generate",
        "--members",
        "400",
        "--events",
        "6000",
        "--seed",
        "9",
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let events = path.to_str().unwrap();
    let one = pointbook(&["balances", "--program", PROGRAM, "--events", events]);
    let two = pointbook(&[
        "balances",
        "--program",
        PROGRAM,
        "--events",
        events,
        "--threads",
        "2",
    ]);
    std::fs::remove_file(&path).unwrap();
    assert!(
        one.status.success() && two.status.success(),
        "{}",
        stderr(&two)
    );
    assert_eq!(stdout(&one), stdout(&two));
    assert!(
        stderr(&two).contains("on 2 thread(s): "),
        "{}",
        stderr(&two)
    );
}

/// A byte-order mark before the first line is ignored, and a line that is not UTF-8 is
/// rejected on its own: the run goes on, on one thread and on two.
#[test]
fn a_bom_and_a_bad_byte_do_not_stop_a_run() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    let history = std::fs::read(root().join(EVENTS)).unwrap();
    let mut lines = history.split(|b| *b == b'\n');
    bytes.extend_from_slice(lines.next().unwrap());
    bytes.extend_from_slice(b"\n{\"type\":\"enroll\",\"id\":\"x\xFF\"}\n");
    for line in lines {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bom-and-bad-byte.jsonl");
    std::fs::write(&path, &bytes).unwrap();
    let path = path.to_str().unwrap();
    let plain = pointbook(&["balances", "--program", PROGRAM, "--events", EVENTS]);
    for threads in ["1", "2"] {
        let o = pointbook(&[
            "balances",
            "--program",
            PROGRAM,
            "--events",
            path,
            "--threads",
            threads,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), stdout(&plain), "{threads} thread(s)");
        let bad: serde_json::Value =
            serde_json::from_str(stderr(&o).lines().next().unwrap()).unwrap();
        assert_eq!(bad["line"], 2, "{threads} thread(s)");
        assert_eq!(bad["error"]["code"], "invalid_event");
    }
}

#[test]
fn ingest_keeps_the_history_in_a_store_that_reads_as_the_file_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("book.pointbook");
    let db = db.to_str().unwrap();
    let ingest = |program: &str| {
        pointbook(&[
            "ingest",
            "--db",
            db,
            "--program",
            program,
            "--events",
            EVENTS,
            "--batch",
            "3",
        ])
    };
    let first = ingest(PROGRAM);
    assert!(first.status.success(), "{}", stderr(&first));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert!(summary["accepted"].as_u64().unwrap() > 0);
    // Rejections are reported as the file's replay reports them, line by line.
    let from_file = pointbook(&["balances", "--program", PROGRAM, "--events", EVENTS]);
    assert_eq!(
        summary["rejected"].as_u64().unwrap() as usize,
        stderr(&from_file).lines().count()
    );
    let again = ingest(PROGRAM);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(summary["accepted"], 0, "a second run adds nothing");
    let from_db = pointbook(&["balances", "--db", db]);
    assert!(from_db.status.success(), "{}", stderr(&from_db));
    assert_eq!(stdout(&from_db), stdout(&from_file));
    let purchase = r#"{"id":"q1","member":"m1","at":"2027-06-02T12:00:00Z","lines":[{"sku":"LATTE","category":"coffee","amount":"4.75"}]}"#;
    for args in [
        vec!["quote", "--purchase", purchase],
        vec!["progress", "--member", "m1"],
    ] {
        let with = |source: &[&str]| {
            let mut all = args.clone();
            all.extend_from_slice(source);
            pointbook(&all)
        };
        let (a, b) = (
            with(&["--db", db]),
            with(&["--program", PROGRAM, "--events", EVENTS]),
        );
        assert!(a.status.success(), "{}", stderr(&a));
        assert_eq!(stdout(&a), stdout(&b), "{args:?}");
    }
    // Analytics over the store's journal are the analytics of the events it accepted.
    let a = pointbook(&["analyze", "--db", db, "--as-of", "2028-01-01T00:00:00Z"]);
    let b = pointbook(&[
        "analyze",
        "--program",
        PROGRAM,
        "--events",
        EVENTS,
        "--as-of",
        "2028-01-01T00:00:00Z",
    ]);
    assert!(a.status.success(), "{}", stderr(&a));
    let (a, b): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&stdout(&a)).unwrap(),
        serde_json::from_str(&stdout(&b)).unwrap(),
    );
    assert_eq!(a["periods"], b["periods"]);
    assert_eq!(a["members"], b["members"]);
    let other = ingest("examples/programs/northwind-retail.toml");
    assert_eq!(other.status.code(), Some(2));
    assert!(
        stderr(&other).contains("the store holds program"),
        "{}",
        stderr(&other)
    );
    let both = pointbook(&["balances", "--db", db, "--program", PROGRAM]);
    assert_eq!(both.status.code(), Some(2));
}
