//! Where a parallel replay must not split the history, it falls back to one thread, says why,
//! and still builds exactly the single-threaded book.
#![allow(clippy::unwrap_used)]

mod common;

use common::{bean_and_leaf, event};
use pointbook::{parallel, Book, Event, Program};

fn sequential(program: &Program, events: &[Event]) -> (String, usize) {
    let mut book = Book::new(program.clone());
    let rejected = events.iter().filter(|e| book.apply(e).is_err()).count();
    (book.digest().unwrap(), rejected)
}

fn two_members(extra: &[&str]) -> Vec<Event> {
    let mut lines = vec![
        r#"{"type":"enroll","id":"e1","member":"a","at":"2026-01-10T15:00:00Z"}"#,
        r#"{"type":"enroll","id":"e2","member":"b","at":"2026-01-10T16:00:00Z"}"#,
    ];
    lines.extend_from_slice(extra);
    lines.iter().map(|l| event(l)).collect()
}

#[test]
fn independent_members_really_split() {
    let program = bean_and_leaf();
    let events = two_members(&[r#"{"type":"advance","id":"t","at":"2027-02-01T00:00:00Z"}"#]);
    let r = parallel::replay(&program, &events, 2);
    assert_eq!((r.threads, r.fallback), (2, None));
    assert_eq!(
        (r.book.digest().unwrap(), r.rejected),
        sequential(&program, &events)
    );
}

#[test]
fn a_global_stock_keeps_one_thread() {
    let text = pointbook::samples::BEAN_AND_LEAF.replace("cost = 150\n", "cost = 150\nstock = 5\n");
    let program = Program::from_toml(&text).unwrap();
    let events = two_members(&[]);
    let r = parallel::replay(&program, &events, 2);
    assert_eq!(
        (r.threads, r.fallback),
        (1, Some("a reward has a global stock"))
    );
    assert_eq!(
        (r.book.digest().unwrap(), r.rejected),
        sequential(&program, &events)
    );
}

#[test]
fn an_id_used_by_two_member_groups_keeps_one_thread() {
    let program = bean_and_leaf();
    // One thread refuses the second `x` (IdConflict); two threads would each accept theirs.
    let events = two_members(&[
        r#"{"type":"adjust","id":"x","member":"a","at":"2026-02-01T15:00:00Z","points":5,"reason":"r"}"#,
        r#"{"type":"adjust","id":"x","member":"b","at":"2026-02-01T16:00:00Z","points":5,"reason":"r"}"#,
    ]);
    let r = parallel::replay_with_outcomes(&program, &events, 2);
    assert_eq!(
        (r.threads, r.fallback),
        (1, Some("an event id is used in two member groups"))
    );
    assert_eq!(
        (r.book.digest().unwrap(), r.rejected),
        sequential(&program, &events)
    );
    assert_eq!(r.outcomes[3].as_ref().unwrap_err().code(), "id_conflict");
}

#[test]
fn a_late_enrollment_keeps_one_thread() {
    let program = bean_and_leaf();
    // 30 days before the latest event: beyond the 7-day tolerance.
    let events = two_members(&[
        r#"{"type":"adjust","id":"x","member":"a","at":"2026-03-01T15:00:00Z","points":5,"reason":"r"}"#,
        r#"{"type":"enroll","id":"e3","member":"c","at":"2026-01-30T15:00:00Z"}"#,
    ]);
    let r = parallel::replay(&program, &events, 2);
    assert_eq!(
        (r.threads, r.fallback),
        (1, Some("an enrollment or advance was late"))
    );
    assert_eq!(
        (r.book.digest().unwrap(), r.rejected),
        sequential(&program, &events)
    );
    assert_eq!(r.rejected, 1);
}
