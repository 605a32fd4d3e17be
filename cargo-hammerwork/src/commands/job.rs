//! `job ...`

use comfy_table::Cell;
use hammerwork::{DatabaseQueue, DependencyStatus, Job, JobId, JobStatus, ListJobsParams};
use serde_json::{json, Value};

use super::Ctx;
use crate::cli::{EnqueueArgs, JobCommand, JobListArgs, StatusFilter};
use crate::error::{CliError, CliResult};
use crate::output::outln;
use crate::output::{jobs_table, maybe_time, print_json, print_table, table, time};

pub(super) async fn run(ctx: &Ctx, command: JobCommand) -> CliResult {
    match command {
        JobCommand::Enqueue(args) => enqueue(ctx, args).await,
        JobCommand::Show {
            id,
            include_dependencies,
            include_dependents,
        } => show(ctx, id, include_dependencies, include_dependents).await,
        JobCommand::List(args) => list(ctx, args).await,
        JobCommand::Cancel { id } => cancel(ctx, id).await,
        JobCommand::Retry { id } => {
            ctx.storage.retry_job(id).await?;
            if ctx.json {
                print_json(&json!({ "id": id, "retried": true }))
            } else {
                outln!("job {id} is pending again");
                Ok(())
            }
        }
    }
}

async fn enqueue(ctx: &Ctx, args: EnqueueArgs) -> CliResult {
    let payload: Value = serde_json::from_str(&args.payload)
        .map_err(|e| CliError::invalid(format!("--payload is not valid JSON: {e}")))?;
    let mut job = Job::new(&args.queue, payload).with_priority(args.priority.into());
    if let Some(delay) = args.delay {
        job = job.with_delay(delay);
    }
    if let Some(max_attempts) = args.max_attempts {
        job = job.with_max_attempts(max_attempts);
    }
    let id = ctx.storage.enqueue(job).await?;
    if ctx.json {
        print_json(&json!({ "id": id }))
    } else {
        outln!("{id}");
        Ok(())
    }
}

/// The job, or a not-found error naming it.
pub(super) async fn get(ctx: &Ctx, id: JobId) -> CliResult<Job> {
    ctx.storage
        .get_job(id)
        .await?
        .ok_or_else(|| CliError::not_found(format!("no job {id}")))
}

async fn show(
    ctx: &Ctx,
    id: JobId,
    include_dependencies: bool,
    include_dependents: bool,
) -> CliResult {
    let job = get(ctx, id).await?;
    let dependencies = if include_dependencies {
        Some(ctx.storage.get_dependencies(id).await?)
    } else {
        None
    };
    let dependents = if include_dependents {
        Some(ctx.storage.get_dependents(id).await?)
    } else {
        None
    };
    if ctx.json {
        let mut value = serde_json::to_value(&job).unwrap_or(Value::Null);
        if let Some(dependencies) = &dependencies {
            value["dependencies"] = serde_json::to_value(dependencies).unwrap_or(Value::Null);
        }
        if let Some(dependents) = &dependents {
            value["dependents"] = serde_json::to_value(dependents).unwrap_or(Value::Null);
        }
        return print_json(&value);
    }
    let mut t = table(&["field", "value"]);
    let mut row = |field: &str, value: String| {
        t.add_row(vec![Cell::new(field), Cell::new(value)]);
    };
    row("id", job.id.to_string());
    row("queue", job.queue_name.clone());
    row("status", job.status.to_string());
    row("priority", job.priority.as_str().to_string());
    row(
        "attempts",
        format!("{} of {}", job.attempts, job.max_attempts),
    );
    row("created", time(job.created_at));
    row("scheduled", time(job.scheduled_at));
    row("started", maybe_time(job.started_at));
    row("completed", maybe_time(job.completed_at));
    row("failed", maybe_time(job.failed_at));
    row(
        "dependencies",
        format!(
            "{} ({} of {} unfinished)",
            job.dependency_status,
            job.pending_dependencies,
            job.depends_on.len()
        ),
    );
    if let Some(workflow) = job.workflow_id {
        row("workflow", workflow.to_string());
    }
    if let Some(condition) = &job.condition {
        row("condition", condition.clone());
    }
    if let Some(parent) = job.parent_job_id {
        row("spawned by", parent.to_string());
    }
    if let Some(cron) = &job.cron_schedule {
        row("cron", cron.clone());
    }
    row("payload", job.payload.to_string());
    if let Some(result) = &job.result {
        row("result", result.to_string());
    }
    if let Some(error) = &job.error_message {
        row("error", error.clone());
    }
    print_table(&t);
    let related = [
        (dependencies, "It depends on:", "It depends on no job."),
        (
            dependents,
            "Jobs that depend on it:",
            "No job depends on it.",
        ),
    ];
    for (jobs, heading, none) in related {
        let Some(jobs) = jobs else { continue };
        outln!();
        if jobs.is_empty() {
            outln!("{none}");
        } else {
            outln!("{heading}");
            print_table(&jobs_table(&jobs));
        }
    }
    Ok(())
}

async fn list(ctx: &Ctx, args: JobListArgs) -> CliResult {
    let mut params = ListJobsParams::new().limit(args.limit);
    if let Some(queue) = args.queue {
        params = params.queue(queue);
    }
    match args.status {
        Some(StatusFilter::Is(status)) => params = params.status(status),
        Some(StatusFilter::Waiting) => {
            params = params
                .status(JobStatus::Pending)
                .dependency_status(DependencyStatus::Waiting)
        }
        None => {}
    }
    if let Some(dependency_status) = args.dependency_status {
        params = params.dependency_status(dependency_status);
    }
    if let Some(workflow) = args.workflow {
        params = params.workflow(workflow);
    }
    if let Some(after) = args.after {
        params = params.after(after);
    }
    let jobs = ctx.storage.list_jobs(params).await?;
    if ctx.json {
        return print_json(&jobs);
    }
    if jobs.is_empty() {
        outln!("No jobs match.");
        return Ok(());
    }
    print_table(&jobs_table(&jobs));
    if jobs.len() == args.limit as usize {
        if let Some(last) = jobs.last() {
            outln!("(more may follow: --after {})", last.id);
        }
    }
    Ok(())
}

async fn cancel(ctx: &Ctx, id: JobId) -> CliResult {
    let cancelled = ctx.storage.cancel_job(id).await?;
    if ctx.json {
        return print_json(&json!({ "id": id, "cancelled": cancelled }));
    }
    if cancelled {
        outln!("cancelled job {id}");
    } else {
        let job = get(ctx, id).await?;
        outln!(
            "job {id} had already finished ({}); nothing to cancel",
            job.status
        );
    }
    Ok(())
}
