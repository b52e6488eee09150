//! Progress reporting for long jobs, without tying the library to a terminal.

/// Receives progress from long jobs (import, demo generation, bulk assignment).
/// The binary implements it with a progress bar; tests use [`NoProgress`].
pub trait Progress: Send + Sync {
    /// Starts a stage of `total` steps (0 when unknown).
    fn start(&self, stage: &str, total: u64);
    /// Advances the current stage by `n` steps.
    fn advance(&self, n: u64);
    /// Ends the current stage.
    fn finish(&self);
}

/// Reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _stage: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
