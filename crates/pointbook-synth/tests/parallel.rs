//! Parallel replay of a realistic generated history (transfers, referrals, refunds, holds,
//! monthly advances): the same book as one thread, really split over threads.
#![allow(clippy::unwrap_used)]

use pointbook::{parallel, Book, Event, Program};

#[test]
fn a_generated_history_splits_over_threads_and_merges_exactly() {
    let program = Program::from_toml(pointbook::samples::BEAN_AND_LEAF).unwrap();
    // Bean & Leaf has no global stock, so nothing forces a single thread.
    let config = pointbook_synth::Config {
        members: 600,
        events: 12_000,
        seed: 42,
        ..Default::default()
    };
    let events: Vec<Event> = pointbook_synth::generate(&program, &config);
    let linked = events
        .iter()
        .filter(|e| {
            matches!(e, Event::Transfer(_))
                || matches!(e, Event::Enroll(en) if en.referred_by.is_some())
        })
        .count();
    assert!(linked > 10, "the history links members ({linked})");
    let mut book = Book::new(program.clone());
    let rejected = events.iter().filter(|e| book.apply(e).is_err()).count();
    for threads in [2, 3, 8] {
        let replay = parallel::replay(&program, &events, threads);
        assert_eq!(replay.fallback, None);
        assert_eq!(replay.threads, threads);
        assert_eq!(
            replay.book.digest().unwrap(),
            book.digest().unwrap(),
            "{threads} threads"
        );
        assert_eq!(replay.rejected, rejected);
        assert_eq!(replay.book.balances(), book.balances());
    }
}
