//! The parallel pipeline: reader thread → bounded batch channel → worker
//! threads (lookup and formatting) → the calling thread, which reorders
//! batches by sequence number and writes them.
//!
//! Memory stays bounded by a token channel: the reader takes a token before
//! it sends a batch and the writer gives it back once that batch is written,
//! so at most `4 × threads` batches exist at any time, however the workers
//! are scheduled.

use std::collections::BTreeMap;
use std::io::{BufWriter, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::writer::{strip_first_comma, Layout, Outcome};
use super::{
    AssignError, AssignOptions, AssignSummary, InputFormat, OutputFormat, RowError, Status,
};
use crate::crs::Crs;
use crate::index::SystemIndex;
use crate::points::{to_wgs84, CsvColumns, Row, Source};
use crate::progress::Progress;

/// Assigns every row of `reader` to the grids of `index` and writes the rows
/// with their codes and status to `writer`, in input order.
///
/// Bad rows (missing or unparsable coordinates, coordinates the CRS cannot
/// convert or that fall off the Earth) are written with status `error` and
/// empty codes and listed in [`AssignSummary::row_errors`]; with
/// [`AssignOptions::strict`] the first one stops the run with
/// [`AssignError::BadRow`] instead. A broken input (unparsable CSV or JSON)
/// stops the run with the position of the problem. `progress` advances by
/// rows written (total unknown).
///
/// On error, part of the output may already have been written; callers
/// writing a file should discard it.
pub fn assign_stream<R: Read + Send, W: Write>(
    index: &SystemIndex,
    input: InputFormat,
    reader: R,
    output: OutputFormat,
    writer: W,
    opts: &AssignOptions,
    progress: &dyn Progress,
) -> Result<AssignSummary, AssignError> {
    let start = Instant::now();
    let threads = opts.threads.max(1);
    let batch_size = opts.batch_size.max(1);
    let (source, cols) = Source::open(input, reader).map_err(AssignError::from)?;
    let layout = Layout {
        format: output,
        levels: &index.system().levels,
        csv: cols.as_ref(),
    };
    let mut out = BufWriter::with_capacity(1 << 18, writer);
    out.write_all(&layout.header())
        .map_err(AssignError::Write)?;
    progress.start("assign", 0);

    let max_in_flight = threads * 4;
    let (token_tx, token_rx) = sync_channel::<()>(max_in_flight);
    for _ in 0..max_in_flight {
        token_tx
            .send(())
            .expect("the channel has room for every token");
    }
    let (batch_tx, batch_rx) = sync_channel::<(u64, Vec<Row>)>(threads);
    // Shared by the workers; dropped when the last one exits, which unblocks the reader.
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    let (done_tx, done_rx) = sync_channel::<Result<Done, String>>(threads);
    let work = Work {
        index,
        crs: opts.crs,
        layout: &layout,
        cols: cols.as_ref(),
    };

    let mut summary = std::thread::scope(|s| {
        let reader_thread = s.spawn(move || {
            let mut seq = 0u64;
            // A legacy `crs` member is not read: the CRS is the caller's (`opts.crs`).
            let run = source.run(batch_size, |rows| {
                if token_rx.recv().is_err() {
                    return false;
                }
                seq += 1;
                batch_tx.send((seq - 1, rows)).is_ok()
            });
            run.map(drop).map_err(AssignError::from)
        });
        for _ in 0..threads {
            let (batch_rx, done_tx, work) = (Arc::clone(&batch_rx), done_tx.clone(), &work);
            s.spawn(move || loop {
                let next = batch_rx.lock().expect("batch queue lock").recv();
                let Ok((seq, rows)) = next else { break };
                let done =
                    catch_unwind(AssertUnwindSafe(|| work.batch(seq, rows))).map_err(panic_message);
                if done_tx.send(done).is_err() {
                    break;
                }
            });
        }
        drop((done_tx, batch_rx));
        let written = write_in_order(done_rx, token_tx, &layout, &mut out, opts, progress);
        let read = reader_thread
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        // A write or strict-mode failure stops the reader too; report the cause.
        let summary = written?;
        read.map(|()| summary)
    })?;
    progress.finish();
    summary.seconds = start.elapsed().as_secs_f64();
    summary.rows_per_second = if summary.seconds > 0.0 {
        summary.rows as f64 / summary.seconds
    } else {
        0.0
    };
    out.write_all(&layout.footer(&summary))
        .map_err(AssignError::Write)?;
    out.flush().map_err(AssignError::Write)?;
    Ok(summary)
}

/// A formatted batch.
struct Done {
    seq: u64,
    bytes: Vec<u8>,
    counts: AssignSummary,
    errors: Vec<RowError>,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Writes batches in sequence order; returns when every worker has finished,
/// or at the first failure (dropping the channels stops the other threads).
fn write_in_order<W: Write>(
    done_rx: Receiver<Result<Done, String>>,
    token_tx: SyncSender<()>,
    layout: &Layout,
    out: &mut W,
    opts: &AssignOptions,
    progress: &dyn Progress,
) -> Result<AssignSummary, AssignError> {
    let mut summary = AssignSummary::default();
    let mut pending = BTreeMap::new();
    let mut next = 0u64;
    let mut first = true;
    for done in done_rx {
        let done = done.map_err(AssignError::Worker)?;
        pending.insert(done.seq, done);
        while let Some(done) = pending.remove(&next) {
            if opts.strict {
                if let Some(e) = done.errors.first() {
                    return Err(AssignError::BadRow(e.clone()));
                }
            }
            let mut bytes = &done.bytes[..];
            if first && !bytes.is_empty() && layout.format != OutputFormat::Csv {
                bytes = strip_first_comma(bytes);
                first = false;
            }
            out.write_all(bytes).map_err(AssignError::Write)?;
            summary.add(&done.counts);
            let room = opts.max_row_errors.saturating_sub(summary.row_errors.len());
            summary
                .row_errors
                .extend(done.errors.into_iter().take(room));
            progress.advance(done.counts.rows);
            next += 1;
            // The reader may have stopped already; a lost token is fine then.
            let _ = token_tx.send(());
        }
    }
    Ok(summary)
}

/// What a worker needs.
struct Work<'a> {
    index: &'a SystemIndex,
    crs: Crs,
    layout: &'a Layout<'a>,
    cols: Option<&'a CsvColumns>,
}

impl Work<'_> {
    fn batch(&self, seq: u64, rows: Vec<Row>) -> Done {
        let depth = self.layout.levels.len();
        let mut out = self.layout.batch();
        let mut counts = AssignSummary::default();
        let mut errors = Vec::new();
        let mut codes: Vec<Option<&str>> = vec![None; depth];
        for row in rows {
            let raw = row.coords(self.cols);
            let wgs84 = raw
                .clone()
                .and_then(|xy| to_wgs84(self.crs, xy).map_err(|e| e.to_string()));
            codes.iter_mut().for_each(|c| *c = None);
            let status = match wgs84 {
                Ok((lon, lat)) => {
                    let mut border = false;
                    for (d, code) in codes.iter_mut().enumerate() {
                        if let Some(hit) = self.index.locate_at_depth(d, lon, lat) {
                            *code = Some(self.index.grids()[hit.grid].code.as_str());
                            border |= hit.on_border;
                        }
                    }
                    if border {
                        Status::Border
                    } else if codes.last().is_some_and(Option::is_some) {
                        Status::Inside
                    } else {
                        Status::Outside
                    }
                }
                Err(ref message) => {
                    errors.push(RowError {
                        pos: row.pos,
                        message: message.clone(),
                    });
                    Status::Error
                }
            };
            counts.count(status);
            let outcome = Outcome {
                raw: raw.ok(),
                wgs84: wgs84.as_ref().ok().copied(),
                codes: &codes,
                status,
                message: wgs84.as_ref().err().map(String::as_str),
            };
            self.layout.row(&mut out, row, &outcome);
        }
        Done {
            seq,
            bytes: out.finish(),
            counts,
            errors,
        }
    }
}
