//! Identifiers: members and events. Immutable text copied into every posting, effect,
//! explanation line and lot, so a copy must be cheap: an id of up to 23 bytes is held inline
//! (a copy is a copy of 24 bytes, touching no other memory), a longer one is shared (a copy is
//! a reference-count increment).

use serde::{Deserialize, Serialize};
use smol_str::SmolStr;
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(SmolStr);

        impl $name {
            /// Wraps a string as an id.
            pub fn new(id: impl AsRef<str>) -> Self {
                Self(SmolStr::new(id))
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self::new(s)
            }
        }
    };
}

string_id!(
    /// A member's id, chosen by the host (`"m1"`).
    MemberId
);
string_id!(
    /// An event's id, unique in the program (`"p1"`); a redemption is named by its redeem event's id.
    EventId
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Short ids are held inline and long ones (a UUID) shared; both must read, compare,
    /// order and serialize exactly as their text.
    #[test]
    fn short_and_long_ids_behave_as_their_text() {
        let short = EventId::new("p-0000000000000000001"); // 21 bytes
        let long = EventId::new("0f8fad5b-d9cb-469f-a165-70867728950e"); // 36 bytes
        for (id, text) in [
            (&short, "p-0000000000000000001"),
            (&long, "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ] {
            assert_eq!(id.as_str(), text);
            assert_eq!(id.to_string(), text);
            assert_eq!(serde_json::to_string(id).ok(), Some(format!("\"{text}\"")));
            let back: Option<EventId> = serde_json::from_str(&format!("\"{text}\"")).ok();
            assert_eq!(back.as_ref(), Some(id));
            assert_eq!(id.clone(), *id);
        }
        assert_eq!(
            short < long,
            "p-0000000000000000001" < "0f8fad5b-d9cb-469f-a165-70867728950e"
        );
        let hasher = foldhash::fast::FixedState::with_seed(1);
        use std::hash::BuildHasher;
        assert_eq!(
            hasher.hash_one(&long),
            hasher.hash_one(EventId::from(long.as_str()))
        );
    }
}
