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

/// Replays `lines` as JSON Lines on two threads, fed three bytes at a time.
fn replay_lines(program: &Program, lines: &[&str]) -> parallel::LinesReplay {
    let history = lines.join("\n");
    parallel::replay_lines(program, 2, &mut |each: &mut dyn FnMut(&[u8])| {
        history.as_bytes().chunks(3).for_each(&mut *each);
        Ok::<(), ()>(())
    })
    .unwrap()
}

#[test]
fn streamed_lines_split_and_report_a_bad_advance_once() {
    let program = bean_and_leaf();
    let lines = [
        r#"{"type":"enroll","id":"e1","member":"a","at":"2026-01-10T15:00:00Z"}"#,
        r#"{"type":"enroll","id":"e2","member":"b","at":"2026-01-10T16:00:00Z"}"#,
        // Read as an advance by the split, refused in full by both threads: reported once.
        r#"{"type":"advance","id":"t","at":"2027-02-01T00:00:00Z","bogus":1}"#,
        r#"{"type":"advance","id":"t2","at":"2027-02-01T00:00:00Z"}"#,
    ];
    let r = replay_lines(&program, &lines);
    assert_eq!((r.threads, r.fallback), (2, None));
    assert_eq!((r.lines, r.rejected), (4, 1));
    assert_eq!(r.unreadable.len(), 1);
    assert_eq!(r.unreadable[0].0, 3);
    let events: Vec<Event> = [0, 1, 3].iter().map(|&i| event(lines[i])).collect();
    assert_eq!(r.book.digest().unwrap(), sequential(&program, &events).0);
}

#[test]
fn streamed_lines_with_a_late_enrollment_fall_back_to_one_thread() {
    let program = bean_and_leaf();
    let lines = [
        r#"{"type":"enroll","id":"e1","member":"a","at":"2026-01-10T15:00:00Z"}"#,
        r#"{"type":"enroll","id":"e2","member":"b","at":"2026-01-10T16:00:00Z"}"#,
        r#"{"type":"adjust","id":"x","member":"a","at":"2026-03-01T15:00:00Z","points":5,"reason":"r"}"#,
        r#"{"type":"enroll","id":"e3","member":"c","at":"2026-01-30T15:00:00Z"}"#,
    ];
    let r = replay_lines(&program, &lines);
    assert_eq!(
        (r.threads, r.fallback),
        (1, Some("an enrollment or advance was late"))
    );
    let events: Vec<Event> = lines.iter().map(|l| event(l)).collect();
    assert_eq!(
        (r.book.digest().unwrap(), r.rejected),
        sequential(&program, &events)
    );
}

#[test]
fn a_reading_error_ends_the_streamed_replay() {
    let program = bean_and_leaf();
    let mut calls = 0;
    let r = parallel::replay_lines(&program, 2, &mut |each: &mut dyn FnMut(&[u8])| {
        calls += 1;
        each(br#"{"type":"enroll","id":"e1","member":"a","at":"2026-01-10T15:00:00Z"}"#);
        if calls == 2 {
            return Err("disk gone");
        }
        each(b"\n");
        each(br#"{"type":"enroll","id":"e2","member":"b","at":"2026-01-10T16:00:00Z"}"#);
        Ok(())
    });
    assert_eq!(r.unwrap_err(), "disk gone");
}
