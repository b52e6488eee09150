//! The counts every import report gives.

use std::collections::HashSet;
use std::fmt;

/// What an import does to the stored records it writes (the grids of a
/// system, the workers, the sites of a kind), matched by key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    /// Records in the file.
    pub imported: usize,
    /// Of those, keys new to the store.
    pub inserted: usize,
    /// Of those, keys that replaced a stored record.
    pub updated: usize,
    /// Stored records dropped because the file replaced them all.
    pub removed: usize,
    /// Records held afterwards.
    pub total: usize,
}

impl ImportCounts {
    /// The counts of writing the (distinct) `keys` over the `stored` ones:
    /// added to them, or with `replace` instead of them.
    pub fn of<'a>(
        stored: &HashSet<String>,
        keys: impl IntoIterator<Item = &'a str>,
        replace: bool,
    ) -> Self {
        let (mut imported, mut updated) = (0, 0);
        for key in keys {
            imported += 1;
            updated += usize::from(stored.contains(key));
        }
        let inserted = imported - updated;
        let removed = if replace { stored.len() - updated } else { 0 };
        Self {
            imported,
            inserted,
            updated,
            removed,
            total: stored.len() - removed + inserted,
        }
    }
}

impl fmt::Display for ImportCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} new, {} updated, {} removed",
            self.inserted, self.updated, self.removed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_and_replace_counts() {
        let stored: HashSet<String> = ["a", "b", "c"].map(String::from).into();
        let upsert = ImportCounts::of(&stored, ["b", "d"], false);
        assert_eq!(
            upsert,
            ImportCounts {
                imported: 2,
                inserted: 1,
                updated: 1,
                removed: 0,
                total: 4
            }
        );
        assert_eq!(upsert.to_string(), "1 new, 1 updated, 0 removed");
        let replace = ImportCounts::of(&stored, ["b", "d"], true);
        assert_eq!((replace.removed, replace.total), (2, 2));
        assert_eq!(
            ImportCounts::of(&HashSet::new(), [], true),
            ImportCounts::default()
        );
    }
}
