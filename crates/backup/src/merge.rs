//! The merge rule: a row of the document is new when the user does not already have as
//! many rows equal to it (by everything but id and timestamps) as the document holds.
//!
//! Counting, not set membership, is what makes merge both lossless and idempotent: two
//! identical 250 ml glasses on one day are two real glasses (both imported into an empty
//! account), and importing the same document again finds both and adds nothing.

use std::collections::BTreeMap;

/// For each incoming key, in order, whether it should be created.
#[must_use]
pub fn fresh<K: Ord>(
    existing: impl IntoIterator<Item = K>,
    incoming: impl IntoIterator<Item = K>,
) -> Vec<bool> {
    let mut have: BTreeMap<K, usize> = BTreeMap::new();
    for k in existing {
        *have.entry(k).or_default() += 1;
    }
    incoming
        .into_iter()
        .map(|k| match have.get_mut(&k) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn duplicates_are_counted() {
        assert_eq!(
            fresh([1, 1, 2], [1, 1, 1, 3, 2]),
            [false, false, true, true, false]
        );
    }

    proptest! {
        #[test]
        fn merging_twice_creates_nothing_the_second_time(
            existing in prop::collection::vec(0u8..6, 0..30),
            doc in prop::collection::vec(0u8..6, 0..30),
        ) {
            let first = fresh(existing.iter().copied(), doc.iter().copied());
            let mut after = existing.clone();
            after.extend(doc.iter().zip(&first).filter(|(_, f)| **f).map(|(k, _)| *k));
            // Nothing the document holds is lost: every key is there at least as often.
            for k in &doc {
                let want = doc.iter().filter(|d| *d == k).count();
                prop_assert!(after.iter().filter(|a| *a == k).count() >= want);
            }
            let second = fresh(after.iter().copied(), doc.iter().copied());
            prop_assert!(second.iter().all(|f| !f));
        }
    }
}
