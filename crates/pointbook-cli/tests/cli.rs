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
