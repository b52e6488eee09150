//! Tree checks on the grids a system would hold after a change: parents
//! exist, no cycles, each level one below its parent's, top grids at level 0.

use std::collections::HashMap;

use crate::model::{Grid, GridSystem};

/// A tree problem of one changed grid (`index`: its position in the change).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TreeProblem {
    pub index: usize,
    pub code: String,
    pub reason: String,
}

/// The tree-relevant part of one changed grid.
pub(crate) struct Entry {
    pub index: usize,
    pub code: String,
    pub level: String,
    pub parent: Option<String>,
}

struct Node<'a> {
    level: &'a str,
    parent: Option<&'a str>,
    /// Position in the change, or `None` for a grid already in the system.
    index: Option<usize>,
}

/// Checks the merged tree (`existing` grids overridden by `entries` with the
/// same code) and returns a problem per offending changed grid.
pub(crate) fn check(
    system: &GridSystem,
    existing: &[&Grid],
    entries: &[Entry],
    merging: bool,
    source: &str,
) -> Vec<TreeProblem> {
    let mut nodes: HashMap<&str, Node> = HashMap::with_capacity(existing.len() + entries.len());
    for g in existing {
        nodes.insert(
            &g.code,
            Node {
                level: &g.level,
                parent: g.parent.as_deref(),
                index: None,
            },
        );
    }
    for e in entries {
        nodes.insert(
            &e.code,
            Node {
                level: &e.level,
                parent: e.parent.as_deref(),
                index: Some(e.index),
            },
        );
    }
    let levels = system.levels.join(", ");
    let top = &system.levels[0];
    let mut problems = Vec::new();
    let mut problem = |e: &Entry, reason: String| {
        problems.push(TreeProblem {
            index: e.index,
            code: e.code.clone(),
            reason,
        })
    };
    for e in entries {
        let depth = system.depth_of(&e.level);
        if depth.is_none() {
            problem(
                e,
                format!(
                    "unknown level `{}`; system `{}` has levels {levels}",
                    e.level, system.name
                ),
            );
        }
        let Some(parent_code) = e.parent.as_deref() else {
            if depth.is_some() && depth != Some(0) {
                problem(
                    e,
                    format!(
                        "level `{}` has no parent, but only `{top}` grids may be at the top",
                        e.level
                    ),
                );
            }
            continue;
        };
        let Some(parent) = nodes.get(parent_code) else {
            let where_ = if merging {
                format!("neither in this {source} nor in system `{}`", system.name)
            } else {
                format!("not in this {source}")
            };
            problem(e, format!("parent {parent_code} does not exist ({where_})"));
            continue;
        };
        if let Some(cycle) = cycle_through(&e.code, &nodes) {
            problem(
                e,
                format!("parent links form a cycle: {}", cycle.join(" -> ")),
            );
            continue;
        }
        if let (Some(d), Some(pd)) = (depth, system.depth_of(parent.level)) {
            if d != pd + 1 {
                let wanted = if d == 0 {
                    format!("a `{}` must be at the top (no parent)", e.level)
                } else {
                    format!("a `{}` needs a `{}` parent", e.level, system.levels[d - 1])
                };
                problem(
                    e,
                    format!("parent {parent_code} is a `{}`, but {wanted}", parent.level),
                );
            }
        }
    }
    // Grids already stored whose parent the file changes must still fit under it.
    let by_code: HashMap<&str, &Entry> = entries.iter().map(|e| (e.code.as_str(), e)).collect();
    for g in existing {
        if nodes
            .get(g.code.as_str())
            .is_some_and(|n| n.index.is_some())
        {
            continue; // overridden by the file
        }
        let Some(parent) = g.parent.as_deref().and_then(|p| by_code.get(p)) else {
            continue;
        };
        if let (Some(d), Some(pd)) = (system.depth_of(&g.level), system.depth_of(&parent.level)) {
            if d != pd + 1 {
                problem(
                    parent,
                    format!(
                        "level `{}` breaks existing child {} (a `{}` needs a `{}` parent)",
                        parent.level,
                        g.code,
                        g.level,
                        if d == 0 {
                            "<none>"
                        } else {
                            system.levels[d - 1].as_str()
                        }
                    ),
                );
            }
        }
    }
    problems
}

/// The cycle `code` sits on, as a code path ending where it started.
fn cycle_through(code: &str, nodes: &HashMap<&str, Node>) -> Option<Vec<String>> {
    let mut path = vec![code.to_string()];
    let mut current = code;
    // A chain longer than the number of nodes must repeat.
    for _ in 0..=nodes.len() {
        let parent = nodes.get(current)?.parent?;
        path.push(parent.to_string());
        if parent == code {
            return Some(path);
        }
        if path[..path.len() - 1].iter().any(|c| c == parent) {
            return None; // a cycle above, not through this grid: reported at its members
        }
        current = parent;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::MultiPolygon;

    fn entry(index: usize, code: &str, level: &str, parent: Option<&str>) -> Entry {
        Entry {
            index,
            code: code.into(),
            level: level.into(),
            parent: parent.map(Into::into),
        }
    }

    fn grid(code: &str, level: &str, parent: Option<&str>) -> Grid {
        Grid {
            code: code.into(),
            name: code.into(),
            level: level.into(),
            parent: parent.map(Into::into),
            geometry: MultiPolygon::new(vec![]),
            attributes: Default::default(),
        }
    }

    fn reasons(p: &[TreeProblem]) -> Vec<String> {
        p.iter()
            .map(|p| format!("feature #{} (code {}): {}", p.index, p.code, p.reason))
            .collect()
    }

    #[test]
    fn good_tree_passes() {
        let sys = GridSystem::with_default_levels("s");
        let e = [
            entry(0, "1", "street", None),
            entry(1, "11", "community", Some("1")),
            entry(2, "111", "block", Some("11")),
        ];
        assert!(check(&sys, &[], &e, false, "file").is_empty());
    }

    #[test]
    fn every_tree_problem_is_named() {
        let sys = GridSystem::with_default_levels("s");
        let e = [
            entry(0, "1", "street", None),
            entry(1, "2", "community", None),
            entry(2, "3", "village", Some("1")),
            entry(3, "4", "block", Some("1")),
            entry(4, "5", "community", Some("9")),
            entry(5, "6", "community", Some("7")),
            entry(6, "7", "block", Some("6")),
        ];
        let got = reasons(&check(&sys, &[], &e, false, "file"));
        assert_eq!(
            got,
            vec![
                "feature #1 (code 2): level `community` has no parent, but only `street` grids may be at the top",
                "feature #2 (code 3): unknown level `village`; system `s` has levels street, community, block",
                "feature #3 (code 4): parent 1 is a `street`, but a `block` needs a `community` parent",
                "feature #4 (code 5): parent 9 does not exist (not in this file)",
                "feature #5 (code 6): parent links form a cycle: 6 -> 7 -> 6",
                "feature #6 (code 7): parent links form a cycle: 7 -> 6 -> 7",
            ]
        );
    }

    #[test]
    fn merge_sees_existing_parents_and_children() {
        let sys = GridSystem::with_default_levels("s");
        let existing = [
            grid("1", "street", None),
            grid("11", "community", Some("1")),
        ];
        let e = [entry(0, "111", "block", Some("11"))];
        assert!(check(&sys, &existing.iter().collect::<Vec<_>>(), &e, true, "file").is_empty());
        let e = [entry(0, "111", "block", Some("12"))];
        assert_eq!(
            reasons(&check(&sys, &existing.iter().collect::<Vec<_>>(), &e, true, "file")),
            vec!["feature #0 (code 111): parent 12 does not exist (neither in this file nor in system `s`)"]
        );
        // Re-levelling the stored street to a community breaks its stored child.
        let e = [entry(0, "1", "community", None)];
        let got = reasons(&check(
            &sys,
            &existing.iter().collect::<Vec<_>>(),
            &e,
            true,
            "file",
        ));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].contains("breaks existing child 11"), "{got:?}");
    }
}
