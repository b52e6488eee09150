//! Import errors: whole-file failures and per-feature rejections.

use std::fmt;
use std::path::PathBuf;

use crate::crs::CrsError;
use crate::store::StoreError;

/// How many rejections an error message lists before summarising the rest.
pub const MAX_LISTED: usize = 20;

/// Why one feature of a grid file was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureProblem {
    /// 0-based position of the feature in the file (data row for CSV).
    pub index: usize,
    /// The feature's code, when it has one.
    pub code: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for FeatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "feature #{} (code {code}): {}", self.index, self.reason),
            None => write!(f, "feature #{}: {}", self.index, self.reason),
        }
    }
}

/// Why one row of a worker file was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The worker id, when the row has one.
    pub id: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "line {} (id {id}): {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// Lists problems one per line, at most [`MAX_LISTED`], then a count of the rest.
pub(crate) fn list_problems<T: fmt::Display>(problems: &[T]) -> String {
    let mut out = String::new();
    for p in problems.iter().take(MAX_LISTED) {
        out.push_str("\n  ");
        out.push_str(&p.to_string());
    }
    if problems.len() > MAX_LISTED {
        out.push_str(&format!("\n  … and {} more", problems.len() - MAX_LISTED));
    }
    out
}

/// Errors of grid and worker imports. Nothing is written when one is returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot parse {}: {reason}", path.display())]
    Parse { path: PathBuf, reason: String },
    #[error("{}: {source}", path.display())]
    Crs { path: PathBuf, source: CrsError },
    #[error("{}: {} feature(s) rejected, nothing imported:{}", path.display(), problems.len(), list_problems(problems))]
    Rejected {
        path: PathBuf,
        problems: Vec<FeatureProblem>,
    },
    #[error("{}: {} row(s) rejected, nothing imported:{}", path.display(), problems.len(), list_problems(problems))]
    RejectedRows {
        path: PathBuf,
        problems: Vec<RowProblem>,
    },
    /// The levels given do not fit the grid system.
    #[error("{}: grid system `{system}`: {reason}", path.display())]
    Levels {
        path: PathBuf,
        system: String,
        reason: String,
    },
    /// Workers were imported into a grid system that does not exist.
    #[error("{}: grid system `{system}` does not exist; import its grids first", path.display())]
    UnknownSystem { path: PathBuf, system: String },
    /// The change the file makes was refused by [`crate::change::validate`].
    #[error("{}: {problems}", path.display())]
    Change {
        path: PathBuf,
        problems: crate::change::Problems,
    },
    #[error("{}: replacing grid system `{system}` would remove {removed} grids and keep {kept}; nothing imported (pass --allow-shrink if that is meant)", path.display())]
    Shrink {
        path: PathBuf,
        system: String,
        removed: usize,
        kept: usize,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_problem_display() {
        let p = FeatureProblem {
            index: 12,
            code: Some("330106001001001".into()),
            reason: "parent 330106001001 does not exist".into(),
        };
        assert_eq!(
            p.to_string(),
            "feature #12 (code 330106001001001): parent 330106001001 does not exist"
        );
        let q = FeatureProblem {
            index: 3,
            code: None,
            reason: "missing property `code`".into(),
        };
        assert_eq!(q.to_string(), "feature #3: missing property `code`");
    }

    #[test]
    fn rejected_lists_twenty_and_counts_the_rest() {
        let problems: Vec<FeatureProblem> = (0..25)
            .map(|i| FeatureProblem {
                index: i,
                code: Some(format!("c{i}")),
                reason: "bad".into(),
            })
            .collect();
        let e = ImportError::Rejected {
            path: "grids.geojson".into(),
            problems,
        };
        let text = e.to_string();
        assert!(text.starts_with("grids.geojson: 25 feature(s) rejected, nothing imported:\n  feature #0 (code c0): bad\n"), "{text}");
        assert!(text.contains("feature #19 (code c19): bad"));
        assert!(!text.contains("feature #20 "));
        assert!(text.ends_with("… and 5 more"), "{text}");
        assert_eq!(text.lines().count(), 22);
    }
}
