//! The hash maps of a book: keyed by ids, looked up several times per event. foldhash hashes
//! a short id in a few instructions where the standard SipHash took a twentieth of applying
//! a purchase; it is still seeded per map, so iteration order carries no meaning (outputs
//! sort), and keys chosen to collide in one map do not collide in another.

/// A hash map of the book.
pub(crate) type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
