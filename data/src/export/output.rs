//! Files written under a temporary name and renamed into place at the end.
//!
//! A reader (QGIS watching the folder, a script waiting for the file) never
//! sees a half-written export, and a failed export leaves nothing behind:
//! the temporary files are removed unless [`Output::commit`] ran.

use std::path::{Path, PathBuf};

use super::{io_error, ExportError};

/// The temporary siblings of one export: one per file of the format (a
/// Shapefile has several), each renamed to its final name on commit.
#[derive(Debug)]
pub(crate) struct Output {
    /// `(temporary, final)` pairs, the main file last: it is renamed last,
    /// so a tool looking for `x.shp` finds its `.dbf` already there.
    files: Vec<(PathBuf, PathBuf)>,
    committed: bool,
}

impl Output {
    /// Temporary paths for `out` and for its siblings with `extensions`
    /// (e.g. `["shx", "dbf", "prj", "cpg"]` beside `x.shp`).
    pub(crate) fn new(out: &Path, extensions: &[&str]) -> Result<Output, ExportError> {
        let name = out
            .file_name()
            .ok_or_else(|| ExportError::Options(format!("{} is not a file path", out.display())))?
            .to_string_lossy()
            .into_owned();
        let dir = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(ExportError::Options(format!(
                "the folder {} does not exist",
                dir.display()
            )));
        }
        let tmp = |target: &Path| -> PathBuf {
            let file = target
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.clone());
            dir.join(format!(".{file}.{}.partial", std::process::id()))
        };
        let mut files: Vec<(PathBuf, PathBuf)> = extensions
            .iter()
            .map(|ext| {
                let target = out.with_extension(ext);
                (tmp(&target), target)
            })
            .collect();
        files.push((tmp(out), out.to_path_buf()));
        let output = Output {
            files,
            committed: false,
        };
        // Leftovers of a killed run with the same process id.
        output.remove_temporaries();
        Ok(output)
    }

    /// The temporary path of the main file.
    pub(crate) fn main(&self) -> &Path {
        &self.files.last().expect("the main file is always listed").0
    }

    /// The temporary path of the sibling with extension `ext`.
    pub(crate) fn sibling(&self, ext: &str) -> &Path {
        self.files
            .iter()
            .find(|(_, target)| target.extension().is_some_and(|e| e == ext))
            .map(|(tmp, _)| tmp.as_path())
            .expect("siblings are declared in Output::new")
    }

    /// Renames every temporary file to its final name.
    pub(crate) fn commit(mut self) -> Result<(), ExportError> {
        for (tmp, target) in &self.files {
            if tmp.exists() {
                std::fs::rename(tmp, target).map_err(io_error(target))?;
            } else if target.exists() {
                // A stale sibling of an older export (a .cpg this one does not write).
                std::fs::remove_file(target).map_err(io_error(target))?;
            }
        }
        self.committed = true;
        Ok(())
    }

    fn remove_temporaries(&self) {
        for (tmp, _) in &self.files {
            // Nothing to clean when it was never created.
            let _ = std::fs::remove_file(tmp);
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if !self.committed {
            self.remove_temporaries();
        }
    }
}
