//! `queue ...`

use comfy_table::Cell;
use serde_json::json;

use super::Ctx;
use crate::cli::QueueCommand;
use crate::error::CliResult;
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
                (false, _) => println!("queue {queue} was already paused"),
                (true, true) => println!("queue {queue} paused"),
                (true, false) => println!("queue {queue} paused (it holds no jobs yet)"),
            }
            Ok(())
        }
        QueueCommand::Resume { queue } => {
            let changed = ctx.storage.resume_queue(&queue).await?;
            if ctx.json {
                return print_json(&json!({ "queue": queue, "paused": false, "changed": changed }));
            }
            if changed {
                println!("queue {queue} resumed");
            } else {
                println!("queue {queue} was not paused");
            }
            Ok(())
        }
    }
}

async fn list(ctx: &Ctx) -> CliResult {
    let paused = ctx.storage.paused_queues().await?;
    let mut queues = ctx.storage.list_queues().await?;
    queues.extend(paused.iter().cloned());
    queues.sort();
    queues.dedup();
    let mut rows = Vec::new();
    for queue in queues {
        let counts = ctx.storage.queue_counts(&queue).await?;
        let is_paused = paused.contains(&queue);
        rows.push((queue, is_paused, counts));
    }
    if ctx.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(queue, paused, counts)| {
                json!({ "queue": queue, "paused": paused, "counts": counts, "total": counts.total() })
            })
            .collect();
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
    for (queue, paused, c) in &rows {
        t.add_row(vec![
            Cell::new(queue),
            Cell::new(if *paused { "paused" } else { "active" }),
            Cell::new(c.pending),
            Cell::new(c.running),
            Cell::new(c.retrying),
            Cell::new(c.completed),
            Cell::new(c.dead),
            Cell::new(c.cancelled),
            Cell::new(c.skipped),
        ]);
    }
    print_table(&t);
    Ok(())
}
