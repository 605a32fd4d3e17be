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
    }
}

async fn list(ctx: &Ctx) -> CliResult {
    let mut rows = Vec::new();
    for queue in ctx.storage.list_queues().await? {
        let counts = ctx.storage.queue_counts(&queue).await?;
        rows.push((queue, counts));
    }
    if ctx.json {
        let rows: Vec<_> = rows
            .iter()
            .map(|(queue, counts)| json!({ "queue": queue, "counts": counts, "total": counts.total() }))
            .collect();
        return print_json(&rows);
    }
    let mut t = table(&[
        "queue",
        "pending",
        "running",
        "retrying",
        "completed",
        "dead",
        "cancelled",
        "skipped",
    ]);
    for (queue, c) in &rows {
        t.add_row(vec![
            Cell::new(queue),
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
