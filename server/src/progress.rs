//! A terminal progress bar for long jobs (import, demo, bulk assignment).

use std::sync::Mutex;

use gridmap_data::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Draws one bar per stage on stderr; silent when stderr is not a terminal,
/// where each stage is logged instead.
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl BarProgress {
    pub fn new() -> Self {
        Self {
            bar: Mutex::new(None),
        }
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for BarProgress {
    fn start(&self, stage: &str, total: u64) {
        tracing::info!(stage, total, "started");
        let bar = if total > 0 {
            ProgressBar::new(total)
        } else {
            ProgressBar::new_spinner()
        };
        let style = if total > 0 {
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
        } else {
            ProgressStyle::with_template("{msg:>12} {spinner} {pos} ({per_sec})")
        };
        bar.set_style(style.expect("valid template").progress_chars("=> "));
        bar.set_message(stage.to_string());
        if let Some(old) = self.bar.lock().unwrap().replace(bar) {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.bar.lock().unwrap().as_ref() {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap().take() {
            tracing::info!(stage = %bar.message(), steps = bar.position(), elapsed_ms = bar.elapsed().as_millis() as u64, "finished");
            bar.finish_and_clear();
        }
    }
}
