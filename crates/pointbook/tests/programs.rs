//! Loading programs: every bundled program loads; malformed and contradictory ones are
//! rejected with the path of the problem.
#![allow(clippy::unwrap_used)]

use pointbook::{Error, Program};

fn error(text: &str) -> String {
    match Program::from_toml(text) {
        Err(e @ Error::InvalidProgram { .. }) => e.to_string(),
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("accepted: {text}"),
    }
}

const MINIMAL: &str = r#"
name = "Tiny"
currency = "USD"
time_zone = "America/Chicago"
point_value = "0.01"
[earning]
base_rate = 1
"#;

#[test]
fn bundled_programs_load() {
    for path in [
        "bean-and-leaf.toml",
        "northwind-retail.toml",
        "corner-cafe-punch-card.toml",
    ] {
        let text = std::fs::read_to_string(format!(
            "{}/../../examples/programs/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let p = Program::parse(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        // JSON is the same program: same fingerprint.
        let again = Program::from_json(&p.to_json()).unwrap();
        assert_eq!(again.fingerprint(), p.fingerprint(), "{path}");
    }
}

#[test]
fn bad_decimal_names_the_field() {
    let text = pointbook::samples::BEAN_AND_LEAF.replace(
        "id = \"double-weekend\"\nbonus_percent = 100",
        "id = \"double-weekend\"\nbonus_percent = \"ten\"",
    );
    assert_eq!(
        error(&text),
        "earning.rules[1].bonus_percent: not a decimal: \"ten\""
    );
}

/// Issue 18, item 1: a 29-place `base_rate` loaded as 1 and a 30-place `point_value` was
/// accepted rounded; both are refused, naming the field.
#[test]
fn program_decimals_beyond_28_places_are_refused() {
    let e = error(&MINIMAL.replace(
        "base_rate = 1",
        "base_rate = \"1.00000000000000000000000000001\"",
    ));
    assert_eq!(
        e,
        "earning.base_rate: \"1.00000000000000000000000000001\" cannot be held exactly (at most 28 decimal places and 29 digits)"
    );
    let e = error(&MINIMAL.replace(
        "point_value = \"0.01\"",
        "point_value = \"0.010000000000000000000000000001\"",
    ));
    assert!(
        e.starts_with("point_value: \"0.010000000000000000000000000001\" cannot be held exactly"),
        "{e}"
    );
}

#[test]
fn floats_are_refused_for_decimals() {
    let e = error(&MINIMAL.replace("point_value = \"0.01\"", "point_value = 0.01"));
    assert!(e.starts_with("point_value: 0.01 is a binary float"), "{e}");
}

#[test]
fn unknown_fields_are_rejected() {
    let e = error(&MINIMAL.replace("base_rate = 1", "base_rate = 1\nbase_rat = 2"));
    assert!(
        e.starts_with("earning.base_rat: unknown field `base_rat`, expected one of `base_rate`"),
        "{e}"
    );
}

#[test]
fn contradictions_are_caught_at_load() {
    let b = pointbook::samples::BEAN_AND_LEAF;
    let cases = [
        (
            b.replace("threshold = 300", "threshold = 0"),
            "tiers.levels[1].threshold: 0 is not above the previous level's 0: thresholds must increase",
        ),
        (
            b.replace("min_tier = \"gold\"", "min_tier = \"platinum\""),
            "rewards[1].min_tier: unknown tier \"platinum\"",
        ),
        (
            b.replace("cap = { points = 200, per = \"life\" }", "cap = { points = 0, per = \"life\" }"),
            "earning.rules[1].cap.points: a cap of 0 points caps nothing",
        ),
        (
            b.replace("America/New_York", "America/Gotham"),
            "time_zone: unknown time zone \"America/Gotham\"",
        ),
        (
            b.replace("until = \"2026-12-06\"", "until = \"2026-12-04\""),
            "earning.rules[1].until: 2026-12-04 is before from 2026-12-05",
        ),
        (
            b.replace("id = \"mug\"", "id = \"free-drink\""),
            "rewards[1].id: duplicate reward \"free-drink\"",
        ),
        (
            b.replace("currency = \"USD\"", "currency = \"usd\""),
            "currency: \"usd\" is not an ISO 4217 code (three capital letters)",
        ),
        (
            b.replace("voucher_secret = \"bean-and-leaf-demo-secret\"", ""),
            "voucher_secret: required when the program has rewards (voucher codes are derived from it)",
        ),
        (
            b.replace("bonus_percent = 100           # +100% of the base", "# "),
            "earning.rules[0]: a rule awards exactly one of bonus_percent, points_per_unit, bonus_points",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(&text), expected);
    }
}

#[test]
fn malformed_toml_and_json_are_errors_not_panics() {
    for text in ["", "name = ", "{", "{\"name\": 1}", "[[[", "\u{0}"] {
        assert!(Program::parse(text).is_err(), "{text:?}");
    }
}

#[test]
fn implicit_single_level_without_tiers() {
    let p = Program::from_toml(MINIMAL).unwrap();
    assert_eq!(p.levels().len(), 1);
    assert_eq!(p.levels()[0].id, "member");
}

#[test]
fn dates_may_be_toml_dates_or_strings() {
    let b = pointbook::samples::BEAN_AND_LEAF;
    let native = Program::from_toml(&b.replace("\"2026-12-05\"", "2026-12-05")).unwrap();
    assert_eq!(
        native.fingerprint(),
        Program::from_toml(b).unwrap().fingerprint()
    );
    let e = error(&b.replace("\"2026-12-05\"", "2026-12-05T10:00:00"));
    assert_eq!(
        e,
        "earning.rules[1].from: expected a local date, e.g. 2026-12-05"
    );
}
