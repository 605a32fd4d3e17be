//! `workflow ...`

use std::io::IsTerminal;
use std::time::Duration;

use comfy_table::Cell;
use hammerwork::workflow::{to_dot, to_json, to_mermaid, Workflow, WorkflowId, WorkflowStatus};
use hammerwork::{DatabaseQueue, JobId, ListJobsParams, ListWorkflowsParams};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::{job, Ctx, Interrupt};
use crate::cli::{GraphFormat, WorkflowCommand};
use crate::error::{CliError, CliResult, Kind};
use crate::output::{
    jobs_table, maybe_time, print_json, print_table, table, time, workflow_status,
};
use crate::output::{out, outln};
use crate::workflow_file;

pub(super) async fn run(ctx: &Ctx, command: WorkflowCommand) -> CliResult {
    match command {
        WorkflowCommand::List { limit, after } => list(ctx, limit, after).await,
        WorkflowCommand::Show { id, limit } => show(ctx, id, limit).await,
        WorkflowCommand::Create { file } => create(ctx, &file).await,
        WorkflowCommand::Dependencies { job } => dependencies(ctx, job).await,
        WorkflowCommand::Graph { id, format } => graph(ctx, id, format).await,
        WorkflowCommand::Status {
            id,
            watch,
            interval,
        } => {
            if watch {
                watch_status(ctx, id, interval).await
            } else {
                status(ctx, id).await
            }
        }
        WorkflowCommand::Cancel { id } => cancel(ctx, id).await,
        WorkflowCommand::Retry { id } => retry(ctx, id).await,
    }
}

async fn get(ctx: &Ctx, id: WorkflowId) -> CliResult<Workflow> {
    ctx.storage
        .get_workflow(id)
        .await?
        .ok_or_else(|| CliError::not_found(format!("no workflow {id}")))
}

async fn list(ctx: &Ctx, limit: u32, after: Option<WorkflowId>) -> CliResult {
    let mut params = ListWorkflowsParams::new().limit(limit);
    if let Some(after) = after {
        params = params.after(after);
    }
    let workflows = ctx.storage.list_workflows(params).await?;
    if ctx.json {
        return print_json(&workflows.iter().map(Workflow::summary).collect::<Vec<_>>());
    }
    if workflows.is_empty() {
        outln!("No workflows.");
        return Ok(());
    }
    let mut t = table(&["id", "name", "status", "done", "jobs", "created"]);
    for w in &workflows {
        t.add_row(vec![
            Cell::new(w.id),
            Cell::new(&w.name),
            workflow_status(w.status()),
            Cell::new(format!("{:.0}%", w.stats.completion_percentage())),
            Cell::new(w.stats.total_jobs),
            Cell::new(time(w.created_at)),
        ]);
    }
    print_table(&t);
    if workflows.len() == limit as usize {
        if let Some(last) = workflows.last() {
            outln!("(more may follow: --after {})", last.id);
        }
    }
    Ok(())
}

fn counts_line(w: &Workflow) -> String {
    let s = &w.stats;
    format!(
        "{} jobs: {} completed, {} running, {} pending, {} failed, {} skipped, {} cancelled",
        s.total_jobs,
        s.completed_jobs,
        s.running_jobs,
        s.pending_jobs,
        s.failed_jobs,
        s.skipped_jobs,
        s.cancelled_jobs
    )
}

async fn show(ctx: &Ctx, id: WorkflowId, limit: u32) -> CliResult {
    let w = get(ctx, id).await?;
    let jobs = ctx
        .storage
        .list_jobs(ListJobsParams::new().workflow(id).limit(limit))
        .await?;
    if ctx.json {
        let mut value = w.summary();
        value["jobs"] = json!(jobs);
        return print_json(&value);
    }
    let mut t = table(&["field", "value"]);
    t.add_row(vec![Cell::new("id"), Cell::new(w.id)]);
    t.add_row(vec![Cell::new("name"), Cell::new(&w.name)]);
    if let Some(description) = &w.description {
        t.add_row(vec![Cell::new("description"), Cell::new(description)]);
    }
    t.add_row(vec![Cell::new("status"), workflow_status(w.status())]);
    t.add_row(vec![
        Cell::new("failure policy"),
        Cell::new(w.failure_policy.as_str()),
    ]);
    t.add_row(vec![Cell::new("created"), Cell::new(time(w.created_at))]);
    t.add_row(vec![
        Cell::new("deadline"),
        Cell::new(maybe_time(w.deadline_at)),
    ]);
    t.add_row(vec![Cell::new("jobs"), Cell::new(counts_line(&w))]);
    print_table(&t);
    outln!();
    print_table(&jobs_table(&jobs));
    let total = w.stats.total_jobs;
    if let Some(last) = jobs.last().filter(|_| (jobs.len() as u64) < total) {
        outln!(
            "({} of {total} jobs shown: job list --workflow {id} --after {} for more)",
            jobs.len(),
            last.id
        );
    }
    Ok(())
}

async fn create(ctx: &Ctx, file: &std::path::Path) -> CliResult {
    let loaded = workflow_file::load(file)?;
    let jobs: Vec<(JobId, String)> = loaded
        .names
        .iter()
        .map(|(id, name)| (*id, name.clone()))
        .collect();
    let id = ctx
        .storage
        .enqueue_workflow(loaded.group)
        .await
        .map_err(|err| {
            let err = CliError::from(err);
            let message = hammerwork::workflow::name_jobs(&err.to_string(), &loaded.names);
            err.with_message(message)
        })?;
    if ctx.json {
        let names: serde_json::Map<String, serde_json::Value> = jobs
            .iter()
            .map(|(id, name)| (name.clone(), json!(id)))
            .collect();
        print_json(&json!({ "id": id, "jobs": names }))
    } else {
        outln!("{id}");
        Ok(())
    }
}

async fn dependencies(ctx: &Ctx, id: JobId) -> CliResult {
    job::get(ctx, id).await?;
    let parents = ctx.storage.get_dependencies(id).await?;
    if ctx.json {
        return print_json(&parents);
    }
    if parents.is_empty() {
        outln!("Job {id} depends on no job.");
    } else {
        print_table(&jobs_table(&parents));
    }
    Ok(())
}

async fn graph(ctx: &Ctx, id: WorkflowId, format: GraphFormat) -> CliResult {
    get(ctx, id).await?;
    let jobs = ctx.storage.get_workflow_jobs(id).await?;
    // --json asks for JSON whatever the format says.
    match format {
        _ if ctx.json => print_json(&to_json(&jobs))?,
        GraphFormat::Dot => out!("{}", to_dot(&jobs)),
        GraphFormat::Mermaid => out!("{}", to_mermaid(&jobs)),
        GraphFormat::Json => print_json(&to_json(&jobs))?,
    }
    Ok(())
}

async fn status(ctx: &Ctx, id: WorkflowId) -> CliResult {
    let w = get(ctx, id).await?;
    if ctx.json {
        return print_json(&w.summary());
    }
    outln!(
        "{} ({}): {}, {:.0}% done",
        w.name,
        w.id,
        w.status().as_str(),
        w.stats.completion_percentage()
    );
    outln!("{}", counts_line(&w));
    Ok(())
}

fn finished(status: WorkflowStatus) -> bool {
    !matches!(status, WorkflowStatus::Running | WorkflowStatus::Paused)
}

/// Redraws the counts every `interval` until the workflow finishes or the
/// user presses Ctrl-C: a progress bar on a terminal, otherwise a line (or a
/// JSON object) each time the counts change. A workflow that ended failed or
/// cancelled is an error (exit 1), so a script can wait on it.
async fn watch_status(ctx: &Ctx, id: WorkflowId, interval: Duration) -> CliResult {
    let mut interrupt = Interrupt::watch();
    let mut w = get(ctx, id).await?;
    let bar = (!ctx.json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(w.stats.total_jobs);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(w.name.clone());
        bar
    });
    let mut last = None;
    loop {
        let s = &w.stats;
        match &bar {
            Some(bar) => {
                bar.set_length(s.total_jobs);
                bar.set_position(s.total_jobs.saturating_sub(s.pending_jobs + s.running_jobs));
                bar.set_message(format!(
                    "{}: {} running, {} pending, {} failed",
                    w.status().as_str(),
                    s.running_jobs,
                    s.pending_jobs,
                    s.failed_jobs
                ));
            }
            None => {
                let now = w.summary();
                if last.as_ref() != Some(&now) {
                    if ctx.json {
                        outln!("{now}");
                    } else {
                        outln!("{}: {}", w.status().as_str(), counts_line(&w));
                    }
                    last = Some(now);
                }
            }
        }
        if finished(w.status()) {
            if let Some(bar) = &bar {
                bar.finish();
                outln!("{}", counts_line(&w));
            }
            let status = w.status();
            if status == WorkflowStatus::Completed {
                if !ctx.json {
                    outln!("workflow {id} completed");
                }
                return Ok(());
            }
            return Err(CliError::new(
                Kind::Failed,
                format!("workflow {id} {}", status.as_str()),
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = interrupt.pressed() => {
                if let Some(bar) = &bar {
                    bar.abandon();
                }
                // Not "done": a script waiting on the workflow must not go on.
                return Err(CliError::new(
                    Kind::Interrupted,
                    format!("stopped watching workflow {id}, still {}", w.status().as_str()),
                ));
            }
        }
        w = get(ctx, id).await?;
    }
}

async fn cancel(ctx: &Ctx, id: WorkflowId) -> CliResult {
    let cancelled = ctx.storage.cancel_workflow(id).await?;
    if ctx.json {
        return print_json(&json!({ "id": id, "cancelled": cancelled }));
    }
    if cancelled {
        outln!("cancelled workflow {id}");
    } else {
        outln!("workflow {id} had already finished; nothing to cancel");
    }
    Ok(())
}

async fn retry(ctx: &Ctx, id: WorkflowId) -> CliResult {
    let reset = ctx.storage.retry_workflow(id).await?;
    if ctx.json {
        return print_json(&json!({ "id": id, "reset_jobs": reset }));
    }
    outln!("workflow {id}: {reset} jobs back to pending");
    Ok(())
}
