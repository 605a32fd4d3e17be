//! The Hammerwork bench binary: throughput and latency against a real database.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1/test \
//!   cargo run --release -p hammerwork-benches -- throughput --jobs 50000 --workers 16
//! cargo run --release -p hammerwork-benches -- latency --samples 200
//! ```
//!
//! Each run works in a fresh schema (`hammerwork_bench`) so figures do not
//! depend on earlier runs, and prints one JSON object per line.
//!
//! `chaos --seconds S` (PostgreSQL or MySQL) is not a benchmark: it kills
//! worker processes, restarts the database and cuts connections under load,
//! then checks that nothing was lost or done twice (see [`chaos`]).

#[cfg(feature = "mysql")]
mod chaos;
mod web_load;

#[cfg(feature = "mysql")]
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hammerwork::retention::{Retention, RetentionPolicy};
use hammerwork::spawn::{JobSpawnExt, SpawnConfig, SpawnContext, SpawnHandler, SpawnManager};
use hammerwork::workflow::{JobGroup, WorkflowStatus};
#[cfg(feature = "mysql")]
use hammerwork::MySqlStorage;
#[cfg(feature = "sqlite")]
use hammerwork::SqliteStorage;
use hammerwork::{
    DatabaseQueue, HandlerResult, Job, JobContext, PostgresStorage, Storage, StorageDatabase,
    Worker,
};
use serde_json::json;
#[cfg(feature = "mysql")]
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::{mpsc, Notify};

const BENCH_SCHEMA: &str = "hammerwork_bench";

/// What a bench returns.
type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;
const QUEUE: &str = "bench";

#[derive(Parser)]
#[command(
    about = "Hammerwork benchmarks; DATABASE_URL picks the database (default: local PostgreSQL)"
)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

/// A count of 1 or more.
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

#[derive(Subcommand)]
enum Bench {
    /// Bulk-enqueue N no-op jobs, then drain them with W concurrent handlers.
    Throughput {
        /// Jobs to enqueue and process (at least 1: the run is timed from
        /// the first job's start).
        #[arg(long, default_value_t = 50_000, value_parser = at_least_one())]
        jobs: usize,
        /// Concurrent handlers (the worker's concurrency).
        #[arg(long, default_value_t = 16)]
        workers: usize,
        /// Jobs claimed per round trip (default: the worker's default).
        #[arg(long)]
        batch: Option<u32>,
        /// Repeat enqueue + drain this many times on the same table, one line
        /// each: later rounds show claim cost with finished jobs piling up.
        #[arg(long, default_value_t = 1)]
        rounds: usize,
        /// After each round, prune the round's jobs (`Storage::prune` with a
        /// zero retention for the bench queue), timed: `prune_per_s`.
        #[arg(long)]
        prune: bool,
    },
    /// N single-job `enqueue` calls from C concurrent tasks (a web app
    /// enqueuing one job per request); `enqueue_per_s`.
    Enqueue {
        /// Jobs, one `enqueue` call each.
        #[arg(long, default_value_t = 20_000)]
        jobs: usize,
        /// Concurrent callers.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
    },
    /// Workflow root -> K parallel no-op children -> one aggregate; time from
    /// enqueue_workflow until the aggregate completed (2K edges).
    FanIn {
        /// Parallel children.
        #[arg(long, default_value_t = 1_000)]
        width: usize,
        /// Concurrent handlers.
        #[arg(long, default_value_t = 16)]
        workers: usize,
    },
    /// A chain of L jobs, each depending on the previous one.
    Chain {
        /// Jobs in the chain.
        #[arg(long, default_value_t = 1_000)]
        length: usize,
        /// Concurrent handlers.
        #[arg(long, default_value_t = 16)]
        workers: usize,
    },
    /// One parent spawns N no-op children; time from the parent's claim until
    /// the last child completed.
    Spawn {
        /// Children to spawn.
        #[arg(long, default_value_t = 10_000)]
        children: usize,
        /// Concurrent handlers for the children.
        #[arg(long, default_value_t = 16)]
        workers: usize,
    },
    /// Idle worker; enqueue one job at a time and time enqueue-to-handler-start
    /// (with `--delayed-ms`, from the job's due time to handler start).
    Latency {
        /// Jobs to time.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Pause between samples, so each one finds the worker idle.
        #[arg(long, default_value_t = 10)]
        interval_ms: u64,
        /// Enqueue each job due this many milliseconds later
        /// (`Job::with_delay`); the figures are measured from its due time.
        #[arg(long, default_value_t = 0)]
        delayed_ms: u64,
    },
    /// Seed N finished jobs, then run workers at R jobs/s for S seconds,
    /// alone and again while `hammerwork-web` answers `wrk` on `GET
    /// /api/queues` and `GET /api/jobs?limit=50` (needs `wrk` and a release
    /// build of `hammerwork-web`).
    WebLoad {
        /// Finished jobs in the database before the runs.
        #[arg(long, default_value_t = 1_000_000)]
        finished: usize,
        /// Jobs enqueued (and to be processed) per second.
        #[arg(long, default_value_t = 5_000)]
        rate: usize,
        /// Seconds of each run.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// `wrk` connections per endpoint.
        #[arg(long, default_value_t = 4)]
        connections: u32,
        /// Milliseconds each `wrk` connection waits between requests
        /// (default 0: as fast as answered).
        #[arg(long, default_value_t = 0)]
        pace_ms: u64,
        /// The `hammerwork-web` binary (default: beside this one).
        #[arg(long)]
        web_bin: Option<std::path::PathBuf>,
        /// The address the web server binds.
        #[arg(long, default_value = "127.0.0.1:18080")]
        bind: String,
        /// The web server's `--queues-max-age` (seconds the queue counts
        /// may be old).
        #[arg(long, default_value_t = 1.0)]
        queues_max_age: f64,
    },
    /// Kill worker processes (SIGKILL), restart the database and cut
    /// connections under a mixed load, then check every job; exits non-zero
    /// when a check fails. Uses the `hammerwork_chaos` schema or database.
    #[cfg(feature = "mysql")]
    Chaos {
        /// Seconds of faults; then the work is let finish.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Worker processes.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        /// Database restarts, spread over the run.
        #[arg(long, default_value_t = 3)]
        db_restarts: u32,
        /// Shell command restarting the database (default: pg_ctlcluster, or
        /// mysqladmin shutdown and start-stop-daemon for MariaDB).
        #[arg(long)]
        restart_command: Option<String>,
        /// Longest wait for the work to finish after the faults, in seconds.
        #[arg(long, default_value_t = 180)]
        drain_seconds: u64,
        /// The schema (PostgreSQL) or database (MySQL) to recreate and use.
        #[arg(long, default_value = chaos::DEFAULT_SCHEMA)]
        schema: String,
    },
    /// One worker process of a chaos run (started by `chaos`).
    #[cfg(feature = "mysql")]
    #[command(hide = true)]
    ChaosWorker {
        /// The run's schema or database.
        #[arg(long)]
        schema: String,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        eprintln!("DATABASE_URL not set; using postgres://postgres@127.0.0.1:5432/test");
        "postgres://postgres@127.0.0.1:5432/test".into()
    });
    #[cfg(feature = "mysql")]
    match cli.bench {
        Bench::Chaos {
            seconds,
            workers,
            db_restarts,
            restart_command,
            drain_seconds,
            schema,
        } => {
            chaos::use_schema(&schema).map_err(|e| e.to_string())?;
            if url.starts_with("sqlite") {
                return Err("chaos needs PostgreSQL or MySQL".into());
            }
            let config = chaos::ChaosConfig {
                seconds,
                workers,
                db_restarts,
                restart_command,
                drain_seconds,
            };
            let ok = chaos::drive(&url, config)
                .await
                .map_err(|e| e.to_string())?;
            std::process::exit(if ok { 0 } else { 1 });
        }
        Bench::ChaosWorker { schema } => {
            chaos::use_schema(&schema).map_err(|e| e.to_string())?;
            chaos::worker(&url).await.map_err(|e| e.to_string())?;
            return Ok(());
        }
        _ => {}
    }
    let bench = match cli.bench {
        Bench::WebLoad {
            finished,
            rate,
            seconds,
            connections,
            pace_ms,
            web_bin,
            bind,
            queues_max_age,
        } => {
            let web_bin = match web_bin {
                Some(path) => path,
                None => std::env::current_exe()?.with_file_name("hammerwork-web"),
            };
            let load = web_load::WebLoad {
                finished,
                rate,
                seconds,
                connections,
                pace_ms,
                web_bin,
                web_url: bench_url(&url),
                bind,
                queues_max_age,
            };
            if url.starts_with("postgres") {
                return web_load::run(postgres(&url).await?, "postgres", load).await;
            }
            #[cfg(feature = "mysql")]
            if url.starts_with("mysql") || url.starts_with("mariadb") {
                return web_load::run(mysql(&url).await?, "mysql", load).await;
            }
            #[cfg(feature = "sqlite")]
            if url.starts_with("sqlite") {
                return web_load::run(sqlite().await?, "sqlite", load).await;
            }
            return Err(format!("unsupported DATABASE_URL scheme: {url}").into());
        }
        bench => bench,
    };
    let cli = Cli { bench };
    if url.starts_with("postgres") {
        run(cli.bench, "postgres", postgres(&url).await?).await
    } else if url.starts_with("mysql") || url.starts_with("mariadb") {
        #[cfg(feature = "mysql")]
        return run(cli.bench, "mysql", mysql(&url).await?).await;
        #[cfg(not(feature = "mysql"))]
        return Err("built without the `mysql` feature".into());
    } else if url.starts_with("sqlite") {
        #[cfg(feature = "sqlite")]
        return run(cli.bench, "sqlite", sqlite().await?).await;
        #[cfg(not(feature = "sqlite"))]
        return Err("built without the `sqlite` feature".into());
    } else {
        Err(format!("unsupported DATABASE_URL scheme: {url}").into())
    }
}

async fn run<S: Storage + Clone + StorageDatabase>(
    bench: Bench,
    backend: &str,
    storage: S,
) -> Result<(), Box<dyn std::error::Error>> {
    match bench {
        Bench::Throughput {
            jobs,
            workers,
            batch,
            rounds,
            prune,
        } => {
            let keep_nothing = Retention {
                completed: Some(Duration::ZERO),
                ..Retention::default()
            };
            let policy = RetentionPolicy::keep_everything().with_queue(QUEUE, keep_nothing);
            for round in 1..=rounds {
                let mut line = throughput(storage.clone(), backend, jobs, workers, batch).await?;
                if rounds > 1 {
                    line["round"] = json!(round);
                    let before = if prune { 0 } else { (round - 1) * jobs };
                    line["finished_jobs_before"] = json!(before);
                }
                if prune {
                    let started = Instant::now();
                    let pruned = storage.prune(&policy).await?;
                    let prune_s = started.elapsed().as_secs_f64();
                    line["pruned"] = json!(pruned.jobs);
                    line["prune_s"] = json!(crate::round(prune_s));
                    line["prune_per_s"] = json!((pruned.jobs as f64 / prune_s).round());
                }
                println!("{line}");
            }
        }
        Bench::Enqueue { jobs, concurrency } => {
            let enqueue_s = enqueue_singly(&storage, jobs, concurrency).await?;
            println!(
                "{}",
                json!({
                    "bench": "enqueue", "backend": backend, "jobs": jobs,
                    "concurrency": concurrency, "enqueue_s": round(enqueue_s),
                    "enqueue_per_s": (jobs as f64 / enqueue_s).round(),
                })
            );
        }
        Bench::FanIn { width, workers } => {
            let root = Job::new(QUEUE, json!("root"));
            let children: Vec<Job> = (0..width)
                .map(|i| Job::new(QUEUE, json!(i)).depends_on(&root.id))
                .collect();
            let group = JobGroup::new("fan_in_bench")
                .add_job(root)
                .add_parallel_jobs(children)
                .then(Job::new(QUEUE, json!("aggregate")));
            let total_s = run_workflow(&storage, group, workers).await?;
            println!(
                "{}",
                json!({
                    "bench": "fan-in", "backend": backend, "width": width, "workers": workers,
                    "total_s": round(total_s), "per_edge_us": round(total_s * 1e6 / (2 * width) as f64),
                })
            );
        }
        Bench::Chain { length, workers } => {
            let mut group = JobGroup::new("chain_bench").add_job(Job::new(QUEUE, json!(0)));
            for i in 1..length {
                group = group.then(Job::new(QUEUE, json!(i)));
            }
            let total_s = run_workflow(&storage, group, workers).await?;
            println!(
                "{}",
                json!({
                    "bench": "chain", "backend": backend, "length": length, "workers": workers,
                    "total_s": round(total_s), "per_step_ms": round(total_s * 1e3 / length as f64),
                })
            );
        }
        Bench::Spawn { children, workers } => {
            let total_s = spawn(storage, children, workers).await?;
            println!(
                "{}",
                json!({
                    "bench": "spawn", "backend": backend, "children": children, "workers": workers,
                    "total_s": round(total_s), "children_per_s": (children as f64 / total_s).round(),
                })
            );
        }
        Bench::Latency {
            samples,
            interval_ms,
            delayed_ms,
        } => {
            let delay = Duration::from_millis(delayed_ms);
            let figures = latency(storage, backend, samples, interval_ms, delay).await?;
            println!("{figures}");
        }
        Bench::WebLoad { .. } => unreachable!("handled in main"),
        #[cfg(feature = "mysql")]
        Bench::Chaos { .. } | Bench::ChaosWorker { .. } => unreachable!("handled in main"),
    }
    Ok(())
}

/// `url` turned to the bench's schema (PostgreSQL), database (MySQL) or
/// file (SQLite), for another process to connect with.
fn bench_url(url: &str) -> String {
    if url.starts_with("sqlite") {
        let path = std::env::temp_dir().join("hammerwork_bench.db");
        return format!("sqlite://{}", path.display());
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    if url.starts_with("postgres") {
        let sep = if query.is_empty() { "?" } else { "&" };
        return format!("{url}{sep}options=-c%20search_path%3D{BENCH_SCHEMA}");
    }
    // mysql://user@host:port/database?query: replace the database.
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{BENCH_SCHEMA}{query}", &base[..authority_end])
}

/// A storage in a freshly created `hammerwork_bench` database.
#[cfg(feature = "mysql")]
async fn mysql(url: &str) -> Result<MySqlStorage, Box<dyn std::error::Error>> {
    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    sqlx::raw_sql(&format!(
        "DROP DATABASE IF EXISTS {BENCH_SCHEMA}; CREATE DATABASE {BENCH_SCHEMA}"
    ))
    .execute(&admin)
    .await?;
    admin.close().await;
    let options = MySqlConnectOptions::from_str(url)?.database(BENCH_SCHEMA);
    let pool = MySqlStorage::pool_options().connect_with(options).await?;
    let storage = MySqlStorage::from_pool(pool).await?;
    storage.migrate().await?;
    Ok(storage)
}

/// A storage on a fresh SQLite file in the temp directory.
#[cfg(feature = "sqlite")]
async fn sqlite() -> Result<SqliteStorage, Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join("hammerwork_bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let storage = SqliteStorage::connect(&format!("sqlite://{}", path.display())).await?;
    storage.migrate().await?;
    Ok(storage)
}

/// A storage in a freshly created `hammerwork_bench` schema.
async fn postgres(url: &str) -> Result<PostgresStorage, Box<dyn std::error::Error>> {
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE; CREATE SCHEMA {BENCH_SCHEMA}"
    ))
    .execute(&admin)
    .await?;
    admin.close().await;
    let options: PgConnectOptions = url.parse()?;
    let pool = PostgresStorage::pool_options()
        .connect_with(options.options([("search_path", BENCH_SCHEMA)]))
        .await?;
    let storage = PostgresStorage::from_pool(pool).await?;
    storage.migrate().await?;
    Ok(storage)
}

/// Enqueues `jobs` jobs with one `enqueue` call each from `concurrency`
/// tasks; the seconds it took.
async fn enqueue_singly<S: Storage + Clone>(
    storage: &S,
    jobs: usize,
    concurrency: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (storage, next) = (storage.clone(), next.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < jobs {
                storage.enqueue(Job::new(QUEUE, json!({}))).await?;
            }
            Ok::<(), hammerwork::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Jobs per `enqueue_many` call of the throughput bench.
const ENQUEUE_CALL: usize = 10_000;

async fn throughput<S: Storage + Clone>(
    storage: S,
    backend: &str,
    jobs: usize,
    workers: usize,
    batch: Option<u32>,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    // Calls of 10,000 jobs, each built just before it and off the clock:
    // the bench's own jobs are not all in memory at once (a million rows in
    // one transaction would also overflow InnoDB's lock table at MariaDB's
    // default buffer pool, error 1206).
    let mut enqueuing = Duration::ZERO;
    for first in (0..jobs).step_by(ENQUEUE_CALL) {
        let call: Vec<Job> = (first..jobs.min(first + ENQUEUE_CALL))
            .map(|i| Job::new(QUEUE, json!({"i": i})))
            .collect();
        let started = Instant::now();
        storage.enqueue_many(call).await?;
        enqueuing += started.elapsed();
    }
    let enqueue_s = enqueuing.as_secs_f64();

    let first_claim: Arc<OnceLock<Instant>> = Arc::default();
    let handled = Arc::new(AtomicUsize::new(0));
    let all_handled = Arc::new(Notify::new());
    let (first, count, done) = (first_claim.clone(), handled.clone(), all_handled.clone());
    let mut worker = Worker::new(storage.clone(), QUEUE, move |_: JobContext| {
        first.get_or_init(Instant::now);
        if count.fetch_add(1, Ordering::Relaxed) + 1 == jobs {
            done.notify_one();
        }
        async { HandlerResult::Ok(None) }
    })
    .with_concurrency(workers);
    if let Some(batch) = batch {
        worker = worker.with_batch_size(batch);
    }
    let running = worker.start();
    all_handled.notified().await;
    // Handlers are done; shutting down flushes the last outcomes.
    running.shutdown().await;
    let process_s = first_claim
        .get()
        .expect("a job ran")
        .elapsed()
        .as_secs_f64();
    let counts = storage.queue_counts(QUEUE).await?;
    if counts.pending + counts.running + counts.retrying > 0 {
        return Err(format!("jobs left unfinished after shutdown: {counts:?}").into());
    }
    Ok(json!({
        "bench": "throughput",
        "backend": backend,
        "jobs": jobs,
        "workers": workers,
        "enqueue_s": round(enqueue_s),
        "process_s": round(process_s),
        "enqueue_per_s": (jobs as f64 / enqueue_s).round(),
        "process_per_s": (jobs as f64 / process_s).round(),
    }))
}

async fn latency<S: Storage + Clone>(
    storage: S,
    backend: &str,
    samples: usize,
    interval_ms: u64,
    delay: Duration,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let running = Worker::new(storage.clone(), QUEUE, move |_: JobContext| {
        let _ = tx.send(Instant::now());
        async { HandlerResult::Ok(None) }
    })
    .start();
    // Let the worker finish its first (empty) claim and go idle.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut millis = Vec::with_capacity(samples);
    for i in 0..samples {
        let due = Instant::now() + delay;
        let mut job = Job::new(QUEUE, json!({"i": i}));
        if !delay.is_zero() {
            job = job.with_delay(delay);
        }
        storage.enqueue(job).await?;
        let started = tokio::time::timeout(delay + Duration::from_secs(10), rx.recv())
            .await?
            .ok_or("worker stopped")?;
        let late = started.saturating_duration_since(due);
        millis.push(late.as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(interval_ms)).await;
    }
    running.shutdown().await;
    millis.sort_by(f64::total_cmp);
    let pct = |p: f64| millis[((millis.len() as f64 - 1.0) * p).round() as usize];
    Ok(json!({
        "bench": "latency",
        "backend": backend,
        "samples": samples,
        "delayed_ms": delay.as_millis() as u64,
        "p50_ms": round(pct(0.50)),
        "p99_ms": round(pct(0.99)),
        "max_ms": round(pct(1.0)),
    }))
}

/// Enqueues `group` and runs it with a no-op worker until the workflow is
/// finished; returns the seconds from the enqueue call to its completion.
async fn run_workflow<S: Storage + Clone>(
    storage: &S,
    group: JobGroup,
    workers: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let running = Worker::new(storage.clone(), QUEUE, |_: JobContext| async {
        HandlerResult::Ok(None)
    })
    .with_concurrency(workers)
    .start();
    let started = Instant::now();
    let id = storage.enqueue_workflow(group).await?;
    loop {
        match storage.get_workflow_status(id).await? {
            WorkflowStatus::Running => tokio::time::sleep(Duration::from_millis(1)).await,
            WorkflowStatus::Completed => break,
            other => return Err(format!("workflow ended {other:?}").into()),
        }
    }
    let total = started.elapsed().as_secs_f64();
    running.shutdown().await;
    Ok(total)
}

/// Spawns `count` no-op children on the bench queue.
struct Fan {
    count: usize,
}

#[async_trait::async_trait]
impl<DB: 'static> SpawnHandler<DB> for Fan {
    async fn spawn_jobs(&self, _: SpawnContext<DB>) -> hammerwork::Result<Vec<Job>> {
        Ok((0..self.count).map(|i| Job::new(QUEUE, json!(i))).collect())
    }
}

/// Runs one spawning parent and its `children` no-op children with
/// `workers` handlers; returns the seconds from the parent's claim until the
/// last child completed.
async fn spawn<S: Storage + Clone + StorageDatabase>(
    storage: S,
    children: usize,
    workers: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut manager = SpawnManager::<S::Database>::new();
    manager.register_handler("fan", Fan { count: children });
    let claimed: Arc<OnceLock<Instant>> = Arc::default();
    let mark = claimed.clone();
    let parent = Worker::new(storage.clone(), "bench_parent", move |_: JobContext| {
        let _ = mark.set(Instant::now());
        async { HandlerResult::Ok(None) }
    })
    .with_spawn_manager(manager);
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let first: Arc<OnceLock<Instant>> = Arc::default();
    let first_mark = first.clone();
    let child = Worker::new(storage.clone(), QUEUE, move |_: JobContext| {
        let _ = first_mark.set(Instant::now());
        counter.fetch_add(1, Ordering::Relaxed);
        async { HandlerResult::Ok(None) }
    })
    .with_concurrency(workers);
    let running = hammerwork::WorkerPool::new()
        .add_worker(parent)
        .add_worker(child)
        .start();
    let config = SpawnConfig::new().with_max_spawn_count(children as u64);
    storage
        .enqueue(
            Job::new("bench_parent", json!({}))
                .with_spawn_handler("fan")
                .with_spawn_config(config),
        )
        .await?;
    // Counting rows is O(table): wait on the handlers first, then for the
    // last completions to be written.
    while ran.load(Ordering::Relaxed) < children {
        if claimed.get().is_some() && storage.queue_counts("bench_parent").await?.dead > 0 {
            return Err("the parent failed to spawn".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    while storage.queue_counts(QUEUE).await?.completed < children as u64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let start = *claimed.get().ok_or("parent never ran")?;
    let total = start.elapsed().as_secs_f64();
    if std::env::var_os("BENCH_DEBUG").is_some() {
        eprintln!(
            "first child started after {:?}",
            first.get().map(|f| *f - start)
        );
    }
    running.shutdown().await;
    Ok(total)
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
