//! `queue ...`

use comfy_table::Cell;
use hammerwork::{DatabaseQueue, JobStatus};
use serde_json::json;

use super::Ctx;
use crate::cli::QueueCommand;
use crate::error::CliResult;
use crate::output::outln;
use crate::output::{print_json, print_table, table};

pub(super) async fn run(ctx: &Ctx, command: QueueCommand) -> CliResult {
    match command {
        QueueCommand::List => list(ctx).await,
        QueueCommand::Pause { queue } => {
            let changed = ctx.storage.pause_queue(&queue).await?;
            let holds_jobs = ctx.storage.queue_counts(&queue).await?.total() > 0;
            if ctx.json {
                return print_json(&json!({ "queue": queue, "paused": true, "changed": changed }));
            }
            match (changed, holds_jobs) {
                (false, _) => outln!("queue {queue} was already paused"),
                (true, true) => outln!("queue {queue} paused"),
                (true, false) => outln!("queue {queue} paused (it holds no jobs yet)"),
            }
            Ok(())
        }
        QueueCommand::Resume { queue } => {
            let changed = ctx.storage.resume_queue(&queue).await?;
            if ctx.json {
                return print_json(&json!({ "queue": queue, "paused": false, "changed": changed }));
            }
            if changed {
                outln!("queue {queue} resumed");
            } else {
                outln!("queue {queue} was not paused");
            }
            Ok(())
        }
    }
}

async fn list(ctx: &Ctx) -> CliResult {
    let rows = ctx.storage.queue_overview().await?;
    if ctx.json {
        return print_json(&rows);
    }
    let mut t = table(&[
        "queue",
        "state",
        "pending",
        "running",
        "retrying",
        "completed",
        "dead",
        "cancelled",
        "skipped",
    ]);
    for row in &rows {
        let mut cells = vec![
            Cell::new(&row.queue),
            Cell::new(if row.paused { "paused" } else { "active" }),
        ];
        for status in [
            JobStatus::Pending,
            JobStatus::Running,
            JobStatus::Retrying,
            JobStatus::Completed,
            JobStatus::Dead,
            JobStatus::Cancelled,
            JobStatus::Skipped,
        ] {
            cells.push(Cell::new(row.counts.get(status)));
        }
        t.add_row(cells);
    }
    print_table(&t);
    Ok(())
}
