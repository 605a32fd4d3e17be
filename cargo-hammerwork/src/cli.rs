//! The command line, as clap parses it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use hammerwork::{DependencyStatus, JobId, JobPriority, JobStatus, WorkflowId};

/// The operator's command line for Hammerwork: jobs, queues, workflows and
/// spawn trees, on PostgreSQL, MySQL/MariaDB or SQLite.
///
/// Exit codes: 0 done, 1 failed, 2 usage error (a malformed id or flag),
/// 3 no such job or workflow, 4 invalid input (nothing was written),
/// 5 database unreachable or failing.
#[derive(Debug, Parser)]
#[command(name = "cargo-hammerwork", bin_name = "cargo hammerwork", version)]
pub(crate) struct Cli {
    /// The database: postgres://..., mysql://... (or mariadb://...), or
    /// sqlite://FILE. Required, here or in DATABASE_URL.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub(crate) database_url: Option<String>,

    /// Print JSON instead of tables (read commands; actions print their ids).
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Creates or upgrades Hammerwork's tables (idempotent).
    Migrate,
    /// Queues: counts per status, pause and resume.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Jobs: enqueue, inspect, cancel, retry.
    #[command(subcommand)]
    Job(JobCommand),
    /// Workflows: create from a file, inspect, draw, cancel, retry.
    #[command(subcommand)]
    Workflow(WorkflowCommand),
    /// Spawn operations, trees and lineage.
    #[command(subcommand)]
    Spawn(SpawnCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum QueueCommand {
    /// Every queue that holds jobs or is paused, with its counts per status.
    List,
    /// Stops workers everywhere from claiming the queue's jobs (running jobs
    /// finish; enqueueing goes on).
    Pause {
        /// The queue.
        queue: String,
    },
    /// Lets workers claim the queue's jobs again, waking idle ones.
    Resume {
        /// The queue.
        queue: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum JobCommand {
    /// Enqueues one job and prints its id.
    Enqueue(EnqueueArgs),
    /// One job: its fields, with --include-dependencies the jobs it waits
    /// on, with --include-dependents the jobs that wait on it.
    Show {
        /// The job's id.
        #[arg(value_parser = parse_job_id)]
        id: JobId,
        /// Also list the jobs it depends on.
        #[arg(long)]
        include_dependencies: bool,
        /// Also list the jobs that depend on it.
        #[arg(long)]
        include_dependents: bool,
    },
    /// Jobs in id order, filtered.
    List(JobListArgs),
    /// Puts a dead or cancelled job outside any workflow back to pending, with
    /// fresh attempts (a workflow's jobs: `workflow retry`).
    Retry {
        /// The job's id.
        #[arg(value_parser = parse_job_id)]
        id: JobId,
    },
    /// Cancels a pending or running job (its dependents fail or are cancelled
    /// as its workflow's policy says).
    Cancel {
        /// The job's id.
        #[arg(value_parser = parse_job_id)]
        id: JobId,
    },
}

#[derive(Debug, Args)]
pub(crate) struct EnqueueArgs {
    /// The queue.
    pub(crate) queue: String,
    /// The payload, as JSON.
    #[arg(long, default_value = "{}")]
    pub(crate) payload: String,
    /// Claim order within the queue.
    #[arg(long, value_enum, default_value_t = PriorityArg::Normal)]
    pub(crate) priority: PriorityArg,
    /// Not before this long from now (e.g. 30s, 5m, 1h 30m).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub(crate) delay: Option<Duration>,
    /// Attempts before the job is dead.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    pub(crate) max_attempts: Option<i32>,
}

#[derive(Debug, Args)]
pub(crate) struct JobListArgs {
    /// Only this queue.
    #[arg(long)]
    pub(crate) queue: Option<String>,
    /// Only this status: pending, running, completed, retrying, dead,
    /// cancelled, skipped, or waiting (pending behind unfinished
    /// dependencies).
    #[arg(long, value_parser = parse_status)]
    pub(crate) status: Option<StatusFilter>,
    /// Only this dependency status: none, waiting, satisfied, failed.
    #[arg(long, value_parser = parse_dependency_status)]
    pub(crate) dependency_status: Option<DependencyStatus>,
    /// Only jobs of this workflow.
    #[arg(long, value_parser = parse_workflow_id)]
    pub(crate) workflow: Option<WorkflowId>,
    /// Only jobs after this id (the last id of the previous page).
    #[arg(long, value_parser = parse_job_id)]
    pub(crate) after: Option<JobId>,
    /// At most this many jobs.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) limit: u32,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowCommand {
    /// Workflows in creation order.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Only workflows after this id (the last id of the previous page).
        #[arg(long, value_parser = parse_workflow_id)]
        after: Option<WorkflowId>,
    },
    /// One workflow: status, counts and its jobs.
    Show {
        /// The workflow's id.
        #[arg(value_parser = parse_workflow_id)]
        id: WorkflowId,
        /// List at most this many of its jobs.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
    },
    /// Enqueues a workflow from a JSON or YAML file and prints its id.
    Create {
        /// The workflow file (`.json`, `.yaml` or `.yml`; `-` reads JSON or
        /// YAML from standard input).
        #[arg(long)]
        file: PathBuf,
    },
    /// The jobs a job depends on.
    Dependencies {
        /// The job's id.
        #[arg(value_parser = parse_job_id)]
        job: JobId,
    },
    /// The workflow's dependency graph.
    Graph {
        /// The workflow's id.
        #[arg(value_parser = parse_workflow_id)]
        id: WorkflowId,
        /// Graphviz dot, Mermaid, or JSON (nodes and edges).
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Status and counts; with --watch, redrawn until it finishes (exit 0 when
    /// it completed, 1 when it failed or was cancelled) or Ctrl-C.
    Status {
        /// The workflow's id.
        #[arg(value_parser = parse_workflow_id)]
        id: WorkflowId,
        /// Redraw in place until the workflow finishes (or Ctrl-C).
        #[arg(long)]
        watch: bool,
        /// How often --watch reads the counts (`1s`, `500ms`, or seconds; at
        /// least 100ms).
        #[arg(long, default_value = "1s", value_parser = parse_interval)]
        interval: Duration,
    },
    /// Cancels every unfinished job of the workflow.
    Cancel {
        /// The workflow's id.
        #[arg(value_parser = parse_workflow_id)]
        id: WorkflowId,
    },
    /// Puts the workflow's dead and cancelled jobs back to pending, with fresh
    /// attempts.
    Retry {
        /// The workflow's id.
        #[arg(value_parser = parse_workflow_id)]
        id: WorkflowId,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SpawnCommand {
    /// Spawn operations, newest first.
    List {
        /// Only operations of the last 24 hours.
        #[arg(long)]
        recent: bool,
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// Only operations whose parent ran on this queue.
        #[arg(long)]
        queue: Option<String>,
        /// Also show each operation's batches and metadata.
        #[arg(long)]
        detailed: bool,
    },
    /// The tree of jobs a job spawned.
    Tree {
        /// The spawning job's id.
        #[arg(value_parser = parse_job_id)]
        id: JobId,
        /// Text, JSON or Mermaid.
        #[arg(long, value_enum, default_value_t = TreeFormat::Text)]
        format: TreeFormat,
        /// Levels below the job.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000))]
        max_depth: u32,
    },
    /// Operations, children and failures over a window.
    Stats {
        /// The window: the last this many hours (up to ten years).
        #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=87_600))]
        hours: u32,
        /// Only operations whose parent ran on this queue.
        #[arg(long)]
        queue: Option<String>,
        /// Also show the figures per queue.
        #[arg(long)]
        detailed: bool,
    },
    /// A job's ancestors and descendants.
    Lineage {
        /// The job's id.
        #[arg(value_parser = parse_job_id)]
        id: JobId,
        /// Levels of descendants.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1_000))]
        depth: u32,
        /// Only the chain of jobs that spawned it.
        #[arg(long, conflicts_with = "descendants")]
        ancestors: bool,
        /// Only what it spawned.
        #[arg(long)]
        descendants: bool,
    },
    /// Spawn figures of the last hour, redrawn until Ctrl-C.
    Monitor {
        /// Time between redraws (`5s`, `500ms`, or seconds; at least 100ms).
        #[arg(long, default_value = "5s", value_parser = parse_interval)]
        interval: Duration,
    },
}

/// `--priority`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum PriorityArg {
    Background,
    Low,
    Normal,
    High,
    Critical,
}

impl From<PriorityArg> for JobPriority {
    fn from(p: PriorityArg) -> Self {
        match p {
            PriorityArg::Background => JobPriority::Background,
            PriorityArg::Low => JobPriority::Low,
            PriorityArg::Normal => JobPriority::Normal,
            PriorityArg::High => JobPriority::High,
            PriorityArg::Critical => JobPriority::Critical,
        }
    }
}

/// `workflow graph --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

/// `spawn tree --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum TreeFormat {
    Text,
    Json,
    Mermaid,
}

/// `job list --status`: a stored status, or `waiting` (pending behind
/// dependencies that have not finished).
#[derive(Debug, Clone, Copy)]
pub(crate) enum StatusFilter {
    Is(JobStatus),
    Waiting,
}

fn parse_status(s: &str) -> Result<StatusFilter, String> {
    if s == "waiting" {
        return Ok(StatusFilter::Waiting);
    }
    s.parse().map(StatusFilter::Is).map_err(|_| {
        "expected pending, running, completed, retrying, dead, cancelled, skipped or waiting"
            .to_string()
    })
}

/// An interval as `500ms`, `5s`, `1m`, or a bare number of seconds.
fn parse_interval(s: &str) -> Result<Duration, String> {
    let interval = match s.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => humantime::parse_duration(s).map_err(|e| e.to_string())?,
    };
    if interval < Duration::from_millis(100) {
        return Err("the interval must be at least 100ms".into());
    }
    Ok(interval)
}

fn parse_job_id(s: &str) -> Result<JobId, String> {
    s.parse().map_err(|_| {
        "expected a job id, a UUID such as 01a22fa4-32b9-732d-93ac-c79c3beddd2e".into()
    })
}

fn parse_workflow_id(s: &str) -> Result<WorkflowId, String> {
    s.parse().map_err(|_| {
        "expected a workflow id, a UUID such as 01a22fa4-32b9-732d-93ac-c79c3beddd2e".into()
    })
}

fn parse_dependency_status(s: &str) -> Result<DependencyStatus, String> {
    s.parse()
        .map_err(|_| "expected none, waiting, satisfied or failed".to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
