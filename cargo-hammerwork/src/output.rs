//! Tables for people, JSON for scripts, colours only on a terminal.

use std::io::IsTerminal;

use chrono::{DateTime, Utc};
use comfy_table::presets::NOTHING;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use hammerwork::{Job, JobStatus, WorkflowStatus};
use serde::Serialize;

use crate::error::{CliError, CliResult, Kind};

/// Writes to standard output; when the reader has gone (`| head`), ends the
/// process quietly with status 0 instead of panicking, as other command-line
/// tools do.
pub(crate) fn write_out(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_fmt(args).and_then(|()| out.flush()) {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {err}");
        std::process::exit(1);
    }
}

/// `print!` through [`write_out`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_out(format_args!($($arg)*)) };
}

/// `println!` through [`write_out`].
macro_rules! outln {
    () => { $crate::output::write_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::write_out(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {out, outln};

/// Whether to colour: standard output is a terminal and `NO_COLOR` is unset.
pub(crate) fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// An aligned table with `header`, no borders.
pub(crate) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().map(|h| Cell::new(h.to_uppercase())));
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
}

/// Prints `table` without the trailing spaces of its last column.
pub(crate) fn print_table(table: &Table) {
    for line in table.lines() {
        outln!("{}", line.trim_end());
    }
}

/// Prints `value` as pretty JSON.
pub(crate) fn print_json(value: &impl Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::new(Kind::Failed, format!("cannot write JSON: {e}")))?;
    outln!("{text}");
    Ok(())
}

/// A status cell, coloured on a terminal.
pub(crate) fn job_status(status: JobStatus) -> Cell {
    let cell = Cell::new(status);
    if !colour() {
        return cell;
    }
    cell.fg(match status {
        JobStatus::Completed => Color::Green,
        JobStatus::Running => Color::Cyan,
        JobStatus::Retrying => Color::Yellow,
        JobStatus::Dead => Color::Red,
        JobStatus::Cancelled | JobStatus::Skipped => Color::DarkGrey,
        _ => Color::Reset,
    })
}

/// A workflow status cell, coloured on a terminal.
pub(crate) fn workflow_status(status: WorkflowStatus) -> Cell {
    let cell = Cell::new(status.as_str());
    if !colour() {
        return cell;
    }
    cell.fg(match status {
        WorkflowStatus::Completed => Color::Green,
        WorkflowStatus::Running => Color::Cyan,
        WorkflowStatus::Paused => Color::Yellow,
        WorkflowStatus::Failed => Color::Red,
        _ => Color::DarkGrey,
    })
}

/// A timestamp to the second, UTC.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// An optional timestamp, `-` when unset.
pub(crate) fn maybe_time(at: Option<DateTime<Utc>>) -> String {
    at.map(time).unwrap_or_else(|| "-".into())
}

/// One row per job: id, queue, status, dependencies, attempts, created.
pub(crate) fn jobs_table(jobs: &[Job]) -> Table {
    let mut t = table(&[
        "id",
        "queue",
        "status",
        "dependencies",
        "attempts",
        "created",
    ]);
    for job in jobs {
        t.add_row(vec![
            Cell::new(job.id),
            Cell::new(&job.queue_name),
            job_status(job.status),
            Cell::new(job.dependency_status),
            Cell::new(format!("{}/{}", job.attempts, job.max_attempts)),
            Cell::new(time(job.created_at)),
        ]);
    }
    t
}
