//! `spawn ...`

use std::io::IsTerminal;
use std::time::Duration;

use chrono::Utc;
use comfy_table::Cell;
use hammerwork::spawn::{SpawnOperation, SpawnQuery, SpawnStats};
use hammerwork::{DatabaseQueue, JobId, QueueCounts};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::{Ctx, Interrupt};
use crate::cli::{SpawnCommand, TreeFormat};
use crate::error::CliResult;
use crate::output::{jobs_table, print_json, print_table, table, time};
use crate::output::{out, outln};

pub(super) async fn run(ctx: &Ctx, command: SpawnCommand) -> CliResult {
    match command {
        SpawnCommand::List {
            recent,
            limit,
            queue,
            detailed,
        } => {
            let mut query = SpawnQuery::new().limit(limit);
            if recent {
                query = last_hours(query, 24);
            }
            if let Some(queue) = queue {
                query = query.queue(queue);
            }
            list(ctx, query, detailed).await
        }
        SpawnCommand::Tree {
            id,
            format,
            max_depth,
        } => tree(ctx, id, format, max_depth).await,
        SpawnCommand::Stats {
            hours,
            queue,
            detailed,
        } => stats(ctx, hours, queue, detailed).await,
        SpawnCommand::Lineage {
            id,
            depth,
            ancestors,
            descendants,
        } => lineage(ctx, id, depth, !descendants, !ancestors).await,
        SpawnCommand::Monitor { interval } => monitor(ctx, interval).await,
    }
}

/// `query` limited to operations of the last `hours` hours.
fn last_hours(query: SpawnQuery, hours: u32) -> SpawnQuery {
    let now = Utc::now();
    // Up to a second ahead: an operation written this instant by a database
    // whose clock is a little ahead of ours still counts.
    query.between(
        now - chrono::Duration::hours(i64::from(hours)),
        now + chrono::Duration::seconds(1),
    )
}

fn operations_table(operations: &[SpawnOperation], detailed: bool) -> comfy_table::Table {
    let mut header = vec![
        "operation",
        "parent job",
        "queue",
        "handler",
        "children",
        "created",
    ];
    if detailed {
        header.extend(["batches", "awaited", "metadata"]);
    }
    let mut t = table(&header);
    for op in operations {
        let mut row = vec![
            Cell::new(&op.id),
            Cell::new(op.parent_job_id),
            Cell::new(&op.queue_name),
            Cell::new(&op.handler),
            Cell::new(op.child_count),
            Cell::new(time(op.created_at)),
        ];
        if detailed {
            row.extend([
                Cell::new(op.batch_count),
                Cell::new(if op.await_children { "yes" } else { "no" }),
                Cell::new(
                    op.metadata
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| "-".into()),
                ),
            ]);
        }
        t.add_row(row);
    }
    t
}

async fn list(ctx: &Ctx, query: SpawnQuery, detailed: bool) -> CliResult {
    let operations = ctx.storage.list_spawn_operations(query).await?;
    if ctx.json {
        return print_json(&operations);
    }
    if operations.is_empty() {
        outln!("No spawn operations.");
        return Ok(());
    }
    print_table(&operations_table(&operations, detailed));
    Ok(())
}

async fn tree(ctx: &Ctx, id: JobId, format: TreeFormat, max_depth: u32) -> CliResult {
    let tree = ctx.storage.get_spawn_tree(id, max_depth).await?;
    // --json asks for JSON whatever the format says.
    match format {
        _ if ctx.json => print_json(&tree.to_json())?,
        TreeFormat::Text => out!("{}", tree.to_text()),
        TreeFormat::Mermaid => out!("{}", tree.to_mermaid()),
        TreeFormat::Json => print_json(&tree.to_json())?,
    }
    Ok(())
}

fn stats_json(stats: &SpawnStats) -> serde_json::Value {
    json!({
        "operations": stats.operations,
        "children": stats.children,
        "failed_children": stats.failed_children,
        "mean_children_per_operation": stats.mean_children_per_operation(),
    })
}

async fn stats(ctx: &Ctx, hours: u32, queue: Option<String>, detailed: bool) -> CliResult {
    let mut query = last_hours(SpawnQuery::new(), hours);
    if let Some(queue) = &queue {
        query = query.queue(queue);
    }
    let all = ctx.storage.spawn_stats(query).await?;
    let mut per_queue = Vec::new();
    if detailed {
        let queues = match &queue {
            Some(queue) => vec![queue.clone()],
            None => ctx.storage.list_queues().await?,
        };
        for queue in queues {
            let query = last_hours(SpawnQuery::new(), hours).queue(&queue);
            let stats = ctx.storage.spawn_stats(query).await?;
            if stats.operations > 0 {
                per_queue.push((queue, stats));
            }
        }
    }
    if ctx.json {
        let mut value = stats_json(&all);
        value["hours"] = json!(hours);
        if detailed {
            value["queues"] = per_queue
                .iter()
                .map(|(queue, stats)| (queue.clone(), stats_json(stats)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        return print_json(&value);
    }
    let scope = queue.map(|q| format!(" on queue {q}")).unwrap_or_default();
    outln!("Spawning in the last {hours} h{scope}:");
    let mut t = table(&[
        "queue",
        "operations",
        "children",
        "dead children",
        "children/op",
    ]);
    let mut row = |name: &str, s: &SpawnStats| {
        t.add_row(vec![
            Cell::new(name),
            Cell::new(s.operations),
            Cell::new(s.children),
            Cell::new(s.failed_children),
            Cell::new(format!("{:.1}", s.mean_children_per_operation())),
        ]);
    };
    for (queue, stats) in &per_queue {
        row(queue, stats);
    }
    row("(all)", &all);
    print_table(&t);
    Ok(())
}

async fn lineage(
    ctx: &Ctx,
    id: JobId,
    depth: u32,
    show_ancestors: bool,
    show_descendants: bool,
) -> CliResult {
    let lineage = ctx.storage.get_lineage(id, depth).await?;
    if ctx.json {
        let mut value = json!({ "job": lineage.job });
        if show_ancestors {
            value["ancestors"] = json!(lineage.ancestors);
        }
        if show_descendants {
            value["descendants"] = json!(lineage.descendants);
        }
        return print_json(&value);
    }
    outln!(
        "Job {} ({}, {}), spawn depth {}",
        lineage.job.id,
        lineage.job.queue_name,
        lineage.job.status,
        lineage.job.spawn_depth
    );
    if show_ancestors {
        outln!();
        if lineage.ancestors.is_empty() {
            outln!("Ancestors: none (nothing spawned it).");
        } else {
            outln!("Ancestors, its parent first:");
            print_table(&jobs_table(&lineage.ancestors));
        }
    }
    if show_descendants {
        outln!();
        if lineage.descendants.is_empty() {
            outln!("Descendants: none.");
        } else {
            outln!("Descendants, to depth {depth}:");
            print_table(&jobs_table(&lineage.descendants));
        }
    }
    Ok(())
}

/// The last hour's figures, the newest operations and their children per
/// status, redrawn in place every `interval` until Ctrl-C; on a terminal a
/// progress bar shows how many of those children have finished.
async fn monitor(ctx: &Ctx, interval: Duration) -> CliResult {
    let mut interrupt = Interrupt::watch();
    let terminal = std::io::stdout().is_terminal();
    let bar = (!ctx.json && terminal).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("children finished [{bar:40}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    loop {
        let stats = ctx
            .storage
            .spawn_stats(last_hours(SpawnQuery::new(), 1))
            .await?;
        let recent = ctx
            .storage
            .list_spawn_operations(SpawnQuery::new().limit(10))
            .await?;
        // The children of those operations, per status (one read each).
        let mut children = QueueCounts::default();
        for op in &recent {
            for child in ctx.storage.get_children(op.parent_job_id).await? {
                children.add(child.status, 1);
            }
        }
        let finished = children.total() - children.pending - children.running - children.retrying;
        if ctx.json {
            outln!(
                "{}",
                json!({
                    "at": Utc::now(),
                    "last_hour": stats_json(&stats),
                    "recent": recent,
                    "recent_children": children,
                })
            );
        } else {
            if terminal {
                // Clear the screen and go home: redraw in place.
                out!("\x1b[2J\x1b[H");
            }
            outln!(
                "{}  last hour: {} operations, {} children ({} dead)   Ctrl-C to stop",
                time(Utc::now()),
                stats.operations,
                stats.children,
                stats.failed_children
            );
            outln!(
                "children of the newest {} operations: {} pending, {} running, {} retrying, {} completed, {} dead, {} cancelled, {} skipped",
                recent.len(),
                children.pending,
                children.running,
                children.retrying,
                children.completed,
                children.dead,
                children.cancelled,
                children.skipped
            );
            if !recent.is_empty() {
                outln!();
                print_table(&operations_table(&recent, false));
            }
            if let Some(bar) = &bar {
                bar.set_length(children.total());
                bar.set_position(finished);
                bar.set_message(format!("{} dead", children.dead));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = interrupt.pressed() => {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                return Ok(());
            }
        }
    }
}
