//! Feeding histories: JSON Lines in chunks of any size, a byte-order mark, a line that is not
//! UTF-8, and a batch with unreadable events, all read as one reader of a whole file would.
#![allow(clippy::unwrap_used)]

use pointbook::feed::{self, Lines, Rejection};
use pointbook::{samples, Book, Event, Program};

const HISTORY: &[u8] = b"\xEF\xBB\xBF{\"type\":\"enroll\",\"id\":\"e1\",\"member\":\"m1\",\"at\":\"2026-01-10T15:00:00Z\"}\r\n\
{\"type\":\"purchase\",\"id\":\"p1\",\"member\":\"m1\",\"at\":\"2026-02-01T15:00:00Z\",\"lines\":[{\"sku\":\"B\xFF\",\"amount\":\"4.00\"}]}\n\
\n   \n\
{\"type\":\"purchase\",\"id\":\"p2\",\"member\":\"m1\",\"at\":\"2026-02-02T15:00:00Z\",\"lines\":[{\"sku\":\"BEANS\",\"amount\":\"10.00\"}]}\n\
{\"type\":\"purchase\",\"id\":\"p3\",\"member\":\"m9\",\"at\":\"2026-02-02T16:00:00Z\",\"lines\":[{\"sku\":\"BEANS\",\"amount\":\"10.00\"}]}";

/// (line number, event id or error code) of every line.
fn summary(lines: &[(usize, pointbook::Result<Event>)]) -> Vec<(usize, String)> {
    lines
        .iter()
        .map(|(n, e)| match e {
            Ok(e) => (*n, e.id().to_string()),
            Err(err) => (*n, err.code().to_owned()),
        })
        .collect()
}

#[test]
fn a_bom_is_ignored_and_a_line_that_is_not_utf8_is_rejected_alone() {
    let read = feed::events(HISTORY, 1);
    assert_eq!(
        summary(&read),
        [
            (1, "e1".to_owned()),
            (2, "invalid_event".to_owned()),
            (5, "p2".to_owned()),
            (6, "p3".to_owned()),
        ]
    );
    let Err(e) = &read[1].1 else { panic!() };
    assert_eq!(e.to_string(), "event ?: line 2: not UTF-8 (byte 90)");
}

#[test]
fn chunks_of_any_size_read_as_the_whole_buffer() {
    let whole = summary(&feed::events(HISTORY, 2));
    for size in 1..HISTORY.len() {
        let mut lines = Lines::default();
        let mut got = Vec::new();
        let mut each = |l: feed::Line<'_>| got.push((l.number, l.event()));
        for chunk in HISTORY.chunks(size) {
            lines.push(chunk, &mut each);
        }
        lines.finish(&mut each);
        assert_eq!(summary(&got), whole, "chunks of {size} bytes");
    }
}

#[test]
fn a_rejection_names_the_event_and_its_line() {
    let program = Program::from_toml(samples::BEAN_AND_LEAF).unwrap();
    let mut book = Book::new(program);
    let mut rejections = Vec::new();
    for line in feed::lines(HISTORY) {
        if let Err(e) = line.event().and_then(|e| book.apply(&e)) {
            rejections.push(Rejection::new(line.number, line.text(), e).to_json());
        }
    }
    assert_eq!(rejections.len(), 2);
    assert_eq!(
        rejections[0],
        r#"{"error":{"code":"invalid_event","message":"event ?: line 2: not UTF-8 (byte 90)"},"id":"?","line":2}"#
    );
    assert_eq!(
        rejections[1],
        r#"{"error":{"code":"unknown_member","message":"event p3: member m9 is not enrolled"},"id":"p3","line":6}"#
    );
    assert_eq!(book.balance(&"m1".into()).unwrap().pending, 10);
}

#[test]
fn a_batch_applied_on_threads_gives_what_one_thread_gives() {
    let program = Program::from_toml(samples::BEAN_AND_LEAF).unwrap();
    let batch = || {
        feed::events(HISTORY, 1)
            .into_iter()
            .map(|(_, e)| e)
            .collect()
    };
    let mut one = Book::new(program.clone());
    let mut two = Book::new(program);
    let a = feed::apply_all(&mut one, batch(), 1);
    let b = feed::apply_all(&mut two, batch(), 2);
    assert_eq!(a, b);
    assert_eq!(a.len(), 4);
    assert!(
        a[1].0.is_none() && a[1].1.is_err(),
        "the unreadable line keeps its place"
    );
    assert_eq!(one.digest(), two.digest());
}
