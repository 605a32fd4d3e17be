//! The chaos run: worker processes killed with SIGKILL, the database
//! restarted and connections cut under a mixed load (plain jobs, layered
//! workflows, spawning parents, some awaiting their children), then every
//! promise checked: nothing lost, nothing completed twice, no dependent
//! started before its parents completed, no parent spawned twice, workflow
//! counters exact.
//!
//! `chaos` is the driver; it runs `chaos-worker` copies of this binary as the
//! workers. Both use the `hammerwork_chaos` schema (PostgreSQL) or database
//! (MySQL), which the driver recreates. Handlers record each run in
//! `chaos_runs`; a trigger records each transition into `completed` in
//! `chaos_completions`.

use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hammerwork::spawn::{JobSpawnExt, SpawnConfig, SpawnContext, SpawnHandler, SpawnManager};
use hammerwork::workflow::JobGroup;
use hammerwork::{
    DatabaseQueue, Error, HandlerResult, Job, JobContext, MySqlStorage, PostgresStorage,
    RetryPolicy, Storage, StorageDatabase, Worker, WorkerPool,
};
use rand::Rng;
use serde_json::json;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The schema (PostgreSQL) or database (MySQL) a chaos run owns by default.
pub(crate) const DEFAULT_SCHEMA: &str = "hammerwork_chaos";

static SCHEMA: OnceLock<String> = OnceLock::new();

/// This run's schema (or MySQL database).
fn schema() -> &'static str {
    SCHEMA.get().map_or(DEFAULT_SCHEMA, String::as_str)
}

/// Names the schema (or MySQL database) this process works in: a plain
/// identifier, since it is spliced into DDL.
pub(crate) fn use_schema(name: &str) -> Result<(), BoxError> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        return Err(format!("schema name {name:?}: use a-z, 0-9 and _ (at most 63)").into());
    }
    let _ = SCHEMA.set(name.to_string());
    Ok(())
}
/// Plain jobs, workflow jobs and spawned children.
const QUEUE: &str = "chaos";
/// Spawning parents.
const SPAWN_QUEUE: &str = "chaos_spawn";
/// The application name of every PostgreSQL connection of a run, so cutting
/// connections spares everyone else's.
const APPLICATION: &str = "hammerwork-chaos";
/// Children per spawning parent.
const CHILDREN: usize = 5;

/// How the driver runs.
#[derive(Debug, Clone)]
pub(crate) struct ChaosConfig {
    /// Seconds of faults (load and kills); then everything is let finish.
    pub seconds: u64,
    /// Worker processes.
    pub workers: usize,
    /// Database restarts, spread over the run.
    pub db_restarts: u32,
    /// Shell command restarting the database (default: this machine's).
    pub restart_command: Option<String>,
    /// Longest wait for the work to finish after the faults, in seconds.
    pub drain_seconds: u64,
}

/// Side tables and the database's own commands, per backend.
#[derive(Clone)]
enum Side {
    Postgres(PgPool),
    MySql(MySqlPool),
}

impl Side {
    fn connect(url: &str) -> Result<Side, BoxError> {
        Ok(if url.starts_with("postgres") {
            Side::Postgres(pg_pool(url, 4)?)
        } else {
            Side::MySql(mysql_pool(url, 4)?)
        })
    }

    /// Records that job `id` (claim `claim`) started, and whether a parent
    /// of it had not completed then.
    async fn record_run(&self, id: &str, claim: i64, early: bool) -> Result<(), sqlx::Error> {
        let early = i32::from(early);
        match self {
            Side::Postgres(pool) => {
                sqlx::query("INSERT INTO chaos_runs (job_id, claim, early) VALUES ($1, $2, $3)")
                    .bind(id)
                    .bind(claim)
                    .bind(early)
                    .execute(pool)
                    .await?;
            }
            Side::MySql(pool) => {
                sqlx::query("INSERT INTO chaos_runs (job_id, claim, early) VALUES (?, ?, ?)")
                    .bind(id)
                    .bind(claim)
                    .bind(early)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// One number from a query returning one integer.
    async fn count(&self, sql: &str) -> Result<i64, sqlx::Error> {
        match self {
            Side::Postgres(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await,
            Side::MySql(pool) => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await,
        }
    }

    /// Closes every other connection to the chaos database; returns how many.
    async fn cut_connections(&self) -> Result<u64, sqlx::Error> {
        match self {
            Side::Postgres(pool) => {
                let cut: Vec<bool> = sqlx::query_scalar(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid() \
                       AND application_name = $1",
                )
                .bind(APPLICATION)
                .fetch_all(pool)
                .await?;
                Ok(cut.into_iter().filter(|c| *c).count() as u64)
            }
            Side::MySql(pool) => {
                // (ID is signed on MariaDB, unsigned on MySQL.)
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT CAST(id AS SIGNED) FROM information_schema.processlist \
                     WHERE db = DATABASE() AND id <> CONNECTION_ID()",
                )
                .fetch_all(pool)
                .await?;
                let mut cut = 0;
                for id in ids {
                    // Gone already is fine.
                    if sqlx::query(&format!("KILL CONNECTION {id}"))
                        .execute(pool)
                        .await
                        .is_ok()
                    {
                        cut += 1;
                    }
                }
                Ok(cut)
            }
        }
    }
}

/// Spawns `CHILDREN` children on the chaos queue.
struct Fanout;

#[async_trait::async_trait]
impl<DB: 'static> SpawnHandler<DB> for Fanout {
    async fn spawn_jobs(&self, ctx: SpawnContext<DB>) -> hammerwork::Result<Vec<Job>> {
        let parent = ctx.parent_job.id;
        Ok((0..CHILDREN)
            .map(|i| chaos_job(json!({"child": i, "of": parent.to_string()})))
            .collect())
    }
}

/// A job of the run: many attempts (a database restart fails some) and a
/// short fixed backoff.
fn chaos_job(payload: serde_json::Value) -> Job {
    Job::new(QUEUE, payload)
        .with_max_attempts(1_000)
        .with_retry_policy(RetryPolicy::Fixed {
            delay: Duration::from_millis(100),
        })
}

/// Runs one worker process until it is killed.
pub(crate) async fn worker(url: &str) -> Result<(), BoxError> {
    let side = Side::connect(url)?;
    if url.starts_with("postgres") {
        let storage = PostgresStorage::from_pool(pg_pool(url, 8)?).await?;
        run_workers(storage, side).await
    } else {
        let storage = MySqlStorage::from_pool(mysql_pool(url, 8)?).await?;
        run_workers(storage, side).await
    }
}

/// A pool of `size` connections (made when first needed, pinged as
/// [`PostgresStorage::pool_options`] does) to this run's schema, named so that cutting connections finds them.
fn pg_pool(url: &str, size: u32) -> Result<PgPool, BoxError> {
    let options: PgConnectOptions = url.parse()?;
    Ok(PostgresStorage::pool_options()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(
            options
                .application_name(APPLICATION)
                .options([("search_path", schema())]),
        ))
}

/// A pool of `size` connections (made when first needed) to this run's
/// database.
fn mysql_pool(url: &str, size: u32) -> Result<MySqlPool, BoxError> {
    let options = MySqlConnectOptions::from_str(url)?.database(schema());
    Ok(MySqlStorage::pool_options()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options))
}

async fn run_workers<S: Storage + Clone + StorageDatabase>(
    storage: S,
    side: Side,
) -> Result<(), BoxError> {
    let handler = {
        let storage = storage.clone();
        move |ctx: JobContext| {
            let (storage, side) = (storage.clone(), side.clone());
            async move {
                let job = &ctx.job;
                let parents = storage.get_jobs(&job.depends_on).await?;
                let early = parents
                    .iter()
                    .any(|p| p.status != hammerwork::JobStatus::Completed)
                    || parents.len() != job.depends_on.len();
                side.record_run(&job.id.to_string(), job.claims, early)
                    .await
                    .map_err(|e| Error::backend(e.to_string()))?;
                let pause = rand::thread_rng().gen_range(0..20);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                HandlerResult::Ok(None)
            }
        }
    };
    let tune = |worker: Worker<S>| {
        worker
            .with_concurrency(8)
            .with_lease_duration(Duration::from_secs(2))
            .with_rescue_interval(Duration::from_millis(300))
            .with_poll_interval(Duration::from_millis(50))
            .with_shutdown_timeout(Duration::from_secs(1))
    };
    let mut manager = SpawnManager::<S::Database>::new();
    manager.register_handler("fanout", Fanout);
    let pool = WorkerPool::new()
        .add_worker(tune(Worker::new(storage.clone(), QUEUE, handler.clone())))
        .add_worker(tune(
            Worker::new(storage.clone(), SPAWN_QUEUE, handler).with_spawn_manager(manager),
        ));
    let _running = pool.start();
    // Until the driver kills this process.
    std::future::pending::<()>().await;
    Ok(())
}

/// The worker processes, killed when the driver is done (or fails).
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Counts what the driver did.
#[derive(Default)]
struct Faults {
    kills: AtomicU64,
    db_restarts: AtomicU64,
    cuts: AtomicU64,
}

/// Runs the driver: sets up, faults for `config.seconds`, drains, checks.
/// Prints one JSON line; `Ok(false)` when a check failed.
pub(crate) async fn drive(url: &str, config: ChaosConfig) -> Result<bool, BoxError> {
    let postgres = url.starts_with("postgres");
    setup(url, postgres).await?;
    let side = Side::connect(url)?;
    let restart = config
        .restart_command
        .clone()
        .unwrap_or_else(|| default_restart_command(postgres).to_string());

    let exe = std::env::current_exe()?;
    let spawn_worker = || -> std::io::Result<Child> {
        Command::new(&exe)
            .args(["chaos-worker", "--schema", schema()])
            .env("DATABASE_URL", url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    let mut children = Children(Vec::new());
    for _ in 0..config.workers.max(1) {
        children.0.push(spawn_worker()?);
    }

    let faults = Arc::new(Faults::default());
    let started = Instant::now();
    let run_for = Duration::from_secs(config.seconds);
    let enqueued = Arc::new(AtomicU64::new(0));

    // Load for the first 80% of the run.
    let producer = {
        let (url, enqueued) = (url.to_string(), enqueued.clone());
        let load_for = run_for.mul_f64(0.8);
        tokio::spawn(async move {
            let storage = driver_storage(&url).await?;
            let mut round = 0u64;
            while started.elapsed() < load_for {
                let added = produce(&storage, round).await;
                enqueued.fetch_add(added, Ordering::Relaxed);
                round += 1;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok::<_, BoxError>(())
        })
    };

    // Database restarts, spread evenly, and connection cuts every 2 s.
    let restarter = {
        let faults = faults.clone();
        let restarts = config.db_restarts;
        tokio::spawn(async move {
            for i in 1..=restarts {
                let at = run_for.mul_f64(f64::from(i) / f64::from(restarts + 1));
                tokio::time::sleep(at.saturating_sub(started.elapsed())).await;
                let command = restart.clone();
                let status = tokio::task::spawn_blocking(move || {
                    Command::new("sh").arg("-c").arg(&command).status()
                })
                .await;
                match status {
                    Ok(Ok(status)) if status.success() => {
                        faults.db_restarts.fetch_add(1, Ordering::Relaxed);
                    }
                    other => eprintln!("chaos: restarting the database failed: {other:?}"),
                }
            }
        })
    };
    let cutter = {
        let (faults, side) = (faults.clone(), side.clone());
        tokio::spawn(async move {
            while started.elapsed() < run_for {
                tokio::time::sleep(Duration::from_secs(2)).await;
                match side.cut_connections().await {
                    Ok(n) => {
                        faults.cuts.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(err) => eprintln!("chaos: cutting connections failed: {err}"),
                }
            }
        })
    };

    // SIGKILL a random worker every 150-450 ms, and start another.
    while started.elapsed() < run_for {
        let pause = rand::thread_rng().gen_range(150..450);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let victim = rand::thread_rng().gen_range(0..children.0.len());
        let _ = children.0[victim].kill();
        let _ = children.0[victim].wait();
        faults.kills.fetch_add(1, Ordering::Relaxed);
        children.0[victim] = spawn_worker()?;
    }
    cutter.abort();
    // Stopped for sure: a cut still running could kill the connections below.
    let _ = cutter.await;
    restarter.await?;
    producer.await??;
    // The cuts may have killed pooled connections since their last use (the
    // pool pings only connections idle a second or more): drain and check on
    // a new pool.
    let side = Side::connect(url)?;

    // Let everything finish.
    let drain_deadline = Instant::now() + Duration::from_secs(config.drain_seconds);
    let unfinished = "SELECT COUNT(*) FROM hammerwork_jobs \
                      WHERE status NOT IN ('completed', 'dead', 'cancelled', 'skipped')";
    loop {
        match side.count(unfinished).await {
            Ok(0) => break,
            _ if Instant::now() > drain_deadline => break,
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    drop(children);

    let report = check(&side, postgres).await?;
    let enqueued = enqueued.load(Ordering::Relaxed) as i64;
    // Acknowledged jobs that are not stored (spawned children not counted).
    let missing = (enqueued - report.enqueued_stored).max(0);
    let ok = report.lost == 0
        && missing == 0
        && report.double_completions == 0
        && report.early_releases == 0
        && report.duplicate_spawns == 0
        && report.counter_mismatches == 0;
    println!(
        "{}",
        json!({
            "bench": "chaos",
            "backend": if postgres { "postgres" } else { "mysql" },
            "seconds": config.seconds,
            "workers": config.workers,
            "kills": faults.kills.load(Ordering::Relaxed),
            "db_restarts": faults.db_restarts.load(Ordering::Relaxed),
            "connections_cut": faults.cuts.load(Ordering::Relaxed),
            "jobs": report.jobs,
            "enqueued": enqueued,
            "missing": missing,
            "lost": report.lost,
            "double_completions": report.double_completions,
            "early_releases": report.early_releases,
            "duplicate_spawns": report.duplicate_spawns,
            "counter_mismatches": report.counter_mismatches,
            "reruns": report.reruns,
            "ok": ok,
        })
    );
    Ok(ok)
}

/// This machine's way of restarting the database (see `.ci/run`).
fn default_restart_command(postgres: bool) -> &'static str {
    if postgres {
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n 1) main restart"
    } else {
        "mysqladmin -h 127.0.0.1 -u root shutdown; \
         while pgrep -x mariadbd >/dev/null || pgrep -x mysqld >/dev/null; do sleep 0.1; done; \
         mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld; \
         start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql; \
         for i in $(seq 1 100); do mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && exit 0; sleep 0.1; done; exit 1"
    }
}

/// Recreates the chaos schema, migrates it and adds the side tables.
async fn setup(url: &str, postgres: bool) -> Result<(), BoxError> {
    if postgres {
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::raw_sql(&format!(
            "DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s}",
            s = schema()
        ))
        .execute(&admin)
        .await?;
        admin.close().await;
        let pool = pg_pool(url, 2)?;
        PostgresStorage::from_pool(pool.clone())
            .await?
            .migrate()
            .await?;
        sqlx::raw_sql(&format!(
            "CREATE TABLE chaos_runs (job_id VARCHAR(36) NOT NULL, claim BIGINT NOT NULL, early INT NOT NULL);
             CREATE TABLE chaos_completions (job_id UUID NOT NULL);
             CREATE FUNCTION chaos_completed() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF NEW.status = 'completed' AND OLD.status IS DISTINCT FROM 'completed' THEN
                     INSERT INTO {s}.chaos_completions VALUES (NEW.id);
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER chaos_completed AFTER UPDATE ON hammerwork_jobs
                 FOR EACH ROW EXECUTE FUNCTION chaos_completed();",
            s = schema()
        ))
        .execute(&pool)
        .await?;
        pool.close().await;
    } else {
        let admin = MySqlPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        sqlx::raw_sql(&format!(
            "DROP DATABASE IF EXISTS {s}; CREATE DATABASE {s}",
            s = schema()
        ))
        .execute(&admin)
        .await?;
        admin.close().await;
        let pool = mysql_pool(url, 2)?;
        MySqlStorage::from_pool(pool.clone())
            .await?
            .migrate()
            .await?;
        sqlx::raw_sql(
            "CREATE TABLE chaos_runs (job_id VARCHAR(36) NOT NULL, claim BIGINT NOT NULL, early INT NOT NULL);
             CREATE TABLE chaos_completions (job_id BINARY(16) NOT NULL);
             CREATE TRIGGER chaos_completed AFTER UPDATE ON hammerwork_jobs FOR EACH ROW
                 INSERT INTO chaos_completions SELECT NEW.id FROM DUAL
                 WHERE NEW.status = 'completed' AND OLD.status <> 'completed';",
        )
        .execute(&pool)
        .await?;
        pool.close().await;
    }
    Ok(())
}

/// The driver's own storage, for enqueueing.
async fn driver_storage(url: &str) -> Result<Arc<dyn Storage>, BoxError> {
    if url.starts_with("postgres") {
        Ok(Arc::new(
            PostgresStorage::from_pool(pg_pool(url, 2)?).await?,
        ))
    } else {
        Ok(Arc::new(
            MySqlStorage::from_pool(mysql_pool(url, 2)?).await?,
        ))
    }
}

/// One round of load: 20 plain jobs, a layered workflow (4 layers of 5, each
/// job waiting for 1-2 jobs of the layer before), a spawning parent, and a
/// workflow whose spawning stage awaits its children before the next stage.
/// Returns how many jobs were written (children not counted).
async fn produce(storage: &Arc<dyn Storage>, round: u64) -> u64 {
    let plain: Vec<Job> = (0..20)
        .map(|i| chaos_job(json!({"round": round, "plain": i})))
        .collect();

    let layered = layered_workflow(round);

    let spawner = || {
        Job::new(SPAWN_QUEUE, json!({"round": round}))
            .with_max_attempts(1_000)
            .with_retry_policy(RetryPolicy::Fixed {
                delay: Duration::from_millis(100),
            })
    };
    let lone = spawner().with_spawn_handler("fanout");
    let awaiting = spawner()
        .with_spawn_handler("fanout")
        .with_spawn_config(SpawnConfig::new().with_await_children(true));
    let staged = JobGroup::new(format!("awaiting-{round}"))
        .add_job(awaiting)
        .then(chaos_job(json!({"round": round, "after": "children"})));

    let mut written = 0;
    let first = plain[0].id;
    let mut plain_jobs = plain;
    plain_jobs.push(lone);
    let count = plain_jobs.len() as u64;
    if write(storage, first, || storage.enqueue_many(plain_jobs.clone())).await {
        written += count;
    }
    let first = layered.jobs()[0].id;
    let count = layered.jobs().len() as u64;
    if write(storage, first, || async {
        storage.enqueue_workflow(layered.clone()).await.map(|_| ())
    })
    .await
    {
        written += count;
    }
    let first = staged.jobs()[0].id;
    if write(storage, first, || async {
        storage.enqueue_workflow(staged.clone()).await.map(|_| ())
    })
    .await
    {
        written += 2;
    }
    written
}

/// 4 layers of 5 jobs, each waiting for 1-2 jobs of the layer before.
fn layered_workflow(round: u64) -> JobGroup {
    let mut rng = rand::thread_rng();
    let mut layers: Vec<Vec<Job>> = Vec::new();
    for layer in 0..4 {
        let jobs: Vec<Job> = (0..5)
            .map(|i| {
                let mut job = chaos_job(json!({"round": round, "layer": layer, "i": i}));
                if let Some(before) = layers.last() {
                    let first = rng.gen_range(0..before.len());
                    job = job.depends_on(&before[first].id);
                    if rng.gen_bool(0.5) {
                        let second = (first + 1) % before.len();
                        job = job.depends_on(&before[second].id);
                    }
                }
                job
            })
            .collect();
        layers.push(jobs);
    }
    let mut layered = JobGroup::new(format!("layered-{round}"));
    for layer in layers {
        layered = layered.add_parallel_jobs(layer);
    }
    layered
}

/// Runs `enqueue` until it is known to have committed (it may have committed
/// even when the reply was lost to a restart: then `first` exists).
async fn write<F, Fut, T>(storage: &Arc<dyn Storage>, first: hammerwork::JobId, enqueue: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = hammerwork::Result<T>>,
{
    for _ in 0..100 {
        match enqueue().await {
            Ok(_) => return true,
            Err(_) => {
                if let Ok(Some(_)) = storage.get_job(first).await {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    false
}

/// What the checks found.
struct Report {
    jobs: i64,
    enqueued_stored: i64,
    lost: i64,
    double_completions: i64,
    early_releases: i64,
    duplicate_spawns: i64,
    counter_mismatches: i64,
    reruns: i64,
}

async fn check(side: &Side, postgres: bool) -> Result<Report, BoxError> {
    let children = CHILDREN;
    let count_workflow = |status: &str| {
        format!("(SELECT COUNT(*) FROM hammerwork_jobs AS j WHERE j.workflow_id = w.id{status})")
    };
    let counters = format!(
        "SELECT COUNT(*) FROM hammerwork_workflows AS w WHERE w.total_jobs <> {} \
         OR w.completed_jobs <> {} OR w.failed_jobs <> {} OR w.cancelled_jobs <> {}",
        count_workflow(""),
        count_workflow(" AND j.status = 'completed'"),
        count_workflow(" AND j.status = 'dead'"),
        count_workflow(" AND j.status = 'cancelled'"),
    );
    let cast = if postgres { "" } else { "CAST(" };
    let cast_end = if postgres { "" } else { " AS SIGNED)" };
    let n = |sql: String| async move { side.count(&sql).await };
    Ok(Report {
        jobs: n("SELECT COUNT(*) FROM hammerwork_jobs".into()).await?,
        enqueued_stored: n(
            "SELECT COUNT(*) FROM hammerwork_jobs WHERE parent_job_id IS NULL".into(),
        )
        .await?,
        lost: n("SELECT COUNT(*) FROM hammerwork_jobs WHERE status <> 'completed'".into()).await?,
        double_completions: n(
            "SELECT COUNT(*) FROM (SELECT job_id FROM chaos_completions \
                               GROUP BY job_id HAVING COUNT(*) > 1) AS d"
                .into(),
        )
        .await?,
        early_releases: n("SELECT COUNT(DISTINCT job_id) FROM chaos_runs WHERE early = 1".into())
            .await?,
        duplicate_spawns: n(format!(
            "SELECT COUNT(*) FROM (SELECT parent_job_id FROM hammerwork_jobs \
             WHERE parent_job_id IS NOT NULL GROUP BY parent_job_id \
             HAVING COUNT(*) > {children}) AS d"
        ))
        .await?,
        counter_mismatches: n(format!("SELECT {cast}({counters}){cast_end}")).await?,
        reruns: n("SELECT COUNT(*) FROM (SELECT job_id FROM chaos_runs \
                   GROUP BY job_id HAVING COUNT(*) > 1) AS r"
            .into())
        .await?,
    })
}
