//! `web-load`: the web API under load while workers run.
//!
//! On the bench's fresh schema (or database): seeds `--finished` completed
//! jobs (queue `history`), then runs a steady load three times, `--seconds`
//! each: a producer enqueuing `--rate` jobs a second (a batch every 10 ms) on
//! the `bench` queue and a worker at its defaults handling them. The first
//! and third runs are alone; during the second, the `hammerwork-web` binary
//! serves the same database and two `wrk` processes ask it for
//! `GET /api/queues` and `GET /api/jobs?limit=50` with `--connections`
//! connections each, as fast as it answers (or with `--pace-ms` between a
//! connection's requests). Prints one JSON line per run, with the served
//! run's throughput as a share of the better alone run, and one per endpoint
//! (requests, p50/p99/max latency, non-2xx answers and socket errors).
//!
//! The web server answers `GET /api/queues` once before the measured run
//! (its first count of the seeded jobs, timed and printed), as a server that
//! has been up would have. The web server and each `wrk` run in a session of
//! their own (`setsid`),
//! as separate services would: Linux schedules CPU time per session
//! (autogroup), and inside the bench's session they would share one slice
//! with the workers under test.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hammerwork::{DatabaseQueue, HandlerResult, Job, JobContext, Storage, Worker};
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::{round, BenchResult, QUEUE};

/// The queue of the seeded finished jobs.
const HISTORY: &str = "history";

/// What a `web-load` run does.
pub(crate) struct WebLoad {
    /// Finished jobs to seed.
    pub finished: usize,
    /// Jobs enqueued per second during a run.
    pub rate: usize,
    /// Length of each run.
    pub seconds: u64,
    /// `wrk` connections per endpoint.
    pub connections: u32,
    /// Milliseconds each `wrk` connection waits between requests (0: none).
    pub pace_ms: u64,
    /// The `hammerwork-web` binary.
    pub web_bin: PathBuf,
    /// The URL the web server connects with (the bench's schema or database).
    pub web_url: String,
    /// The address the web server binds.
    pub bind: String,
    /// The web server's `--queues-max-age`, in seconds.
    pub queues_max_age: f64,
}

/// Runs the bench; prints its lines.
pub(crate) async fn run<S: Storage + Clone>(
    storage: S,
    backend: &str,
    load: WebLoad,
) -> BenchResult<()> {
    if !load.web_bin.is_file() {
        return Err(format!(
            "no web server at {}: build it first (cargo build --release -p hammerwork-web) \
             or pass --web-bin",
            load.web_bin.display()
        )
        .into());
    }
    let started = Instant::now();
    seed(&storage, load.finished).await?;
    println!(
        "{}",
        json!({"bench": "web-load", "backend": backend, "phase": "seed",
               "finished": load.finished, "seed_s": round(started.elapsed().as_secs_f64())})
    );
    let alone = steady(storage.clone(), load.rate, load.seconds).await?;
    println!(
        "{}",
        with(
            alone.clone(),
            json!({"backend": backend, "phase": "workers alone"})
        )
    );

    let mut server = WebServer::start(&load)?;
    server.wait_ready(&load.bind).await?;
    // A server that has been up: its first count of the million jobs is
    // read before the measured run (and timed here).
    let first = Instant::now();
    if !answers(&load.bind, "/api/queues").await? {
        return Err("GET /api/queues did not answer 200".into());
    }
    let first_read_ms = round(first.elapsed().as_secs_f64() * 1000.0);
    let wrk = |path: &str| wrk(&load, path);
    let (queues, jobs) = (wrk("/api/queues")?, wrk("/api/jobs?limit=50")?);
    let served = steady(storage.clone(), load.rate, load.seconds).await?;
    let queues = finish_wrk(queues)?;
    let jobs = finish_wrk(jobs)?;
    drop(server.0.kill());
    let _ = server.0.wait();
    println!(
        "{}",
        with(
            served.clone(),
            json!({"backend": backend, "phase": "workers with web",
                   "first_queues_read_ms": first_read_ms})
        )
    );
    // Alone once more: the database may still have been busy with the seed
    // (InnoDB purges, PostgreSQL vacuums) during the first run, so the
    // served run is held to the better of the two.
    let again = steady(storage.clone(), load.rate, load.seconds).await?;
    let per_s = |run: &Value| run["processed_per_s"].as_f64().unwrap_or(0.0);
    let ratio = per_s(&served) / per_s(&alone).max(per_s(&again)).max(1.0);
    println!(
        "{}",
        with(
            again,
            json!({"backend": backend, "phase": "workers alone, after",
                   "with_web_of_best_alone": round(ratio)})
        )
    );
    for (path, figures) in [("/api/queues", queues), ("/api/jobs?limit=50", jobs)] {
        println!(
            "{}",
            with(
                figures,
                json!({"bench": "web-load", "backend": backend, "phase": "wrk",
                       "path": path, "connections": load.connections,
                       "pace_ms": load.pace_ms, "queues_max_age": load.queues_max_age})
            )
        );
    }
    Ok(())
}

/// `base` with the fields of `extra` added.
fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// Enqueues `count` jobs on the history queue and works them off.
async fn seed<S: Storage + Clone>(storage: &S, count: usize) -> BenchResult<()> {
    const CHUNK: usize = 50_000;
    let handled = Arc::new(AtomicUsize::new(0));
    let all = Arc::new(Notify::new());
    let (counter, done) = (handled.clone(), all.clone());
    let running = Worker::new(storage.clone(), HISTORY, move |_: JobContext| {
        if counter.fetch_add(1, Ordering::Relaxed) + 1 == count {
            done.notify_one();
        }
        async { HandlerResult::Ok(None) }
    })
    .with_concurrency(32)
    .with_batch_size(500)
    .start();
    let mut left = count;
    while left > 0 {
        let n = left.min(CHUNK);
        let jobs = (0..n)
            .map(|i| Job::new(HISTORY, json!({ "i": i })))
            .collect();
        storage.enqueue_many(jobs).await?;
        left -= n;
    }
    if count > 0 {
        all.notified().await;
    }
    running.shutdown().await;
    Ok(())
}

/// Enqueues `rate` jobs a second for `seconds` while a default worker
/// handles them; the jobs handled in that window, and the backlog left.
async fn steady<S: Storage + Clone>(storage: S, rate: usize, seconds: u64) -> BenchResult<Value> {
    let handled = Arc::new(AtomicUsize::new(0));
    let counter = handled.clone();
    let running = Worker::new(storage.clone(), QUEUE, move |_: JobContext| {
        counter.fetch_add(1, Ordering::Relaxed);
        async { HandlerResult::Ok(None) }
    })
    .start();
    let window = Duration::from_secs(seconds);
    let started = Instant::now();
    let mut enqueued = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while started.elapsed() < window {
        tick.tick().await;
        // Offer exactly `rate` a second: whatever a late tick missed, the
        // next one enqueues.
        let due = (rate as f64 * started.elapsed().as_secs_f64()) as usize;
        if due > enqueued {
            let jobs = (enqueued..due)
                .map(|i| Job::new(QUEUE, json!({ "i": i })))
                .collect();
            storage.enqueue_many(jobs).await?;
            enqueued = due;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let done = handled.load(Ordering::Relaxed);
    // Let the backlog finish so the next run starts from an empty queue.
    let deadline = Instant::now() + Duration::from_secs(120);
    while handled.load(Ordering::Relaxed) < enqueued && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.shutdown().await;
    Ok(json!({
        "bench": "web-load",
        "rate": rate,
        "seconds": round(elapsed),
        "enqueued": enqueued,
        "processed": done,
        "processed_per_s": (done as f64 / elapsed).round(),
        "backlog_at_end": enqueued.saturating_sub(done),
    }))
}

/// The web server, killed when dropped.
struct WebServer(Child);

impl WebServer {
    fn start(load: &WebLoad) -> BenchResult<Self> {
        let child = Command::new("setsid")
            .arg(&load.web_bin)
            .args(["--database-url", &load.web_url, "--bind", &load.bind])
            .args(["--queues-max-age", &load.queues_max_age.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", load.web_bin.display()))?;
        Ok(Self(child))
    }

    /// Waits until `GET /health` answers 200 (at most 30 s).
    async fn wait_ready(&mut self, bind: &str) -> BenchResult<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.0.try_wait()? {
                return Err(format!("the web server exited: {status}").into());
            }
            if answers(bind, "/health").await.unwrap_or(false) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("the web server did not answer /health within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether `GET /health` at `bind` answers 200.
/// Whether `GET path` answers 200.
async fn answers(bind: &str, path: &str) -> std::io::Result<bool> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(bind).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {bind}\r\n\r\n").as_bytes())
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    Ok(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"))
}

/// The Lua script that makes `wrk` print its figures as one JSON line.
const WRK_SCRIPT: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"requests_per_s":%.1f,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"#;

/// Starts `wrk` on `path` for the run's length.
fn wrk(load: &WebLoad, path: &str) -> BenchResult<Child> {
    // One script per endpoint: the two wrk processes start together, and
    // one must not read the file while the other's is being written.
    let name: String = path.chars().filter(char::is_ascii_alphanumeric).collect();
    let script = std::env::temp_dir().join(format!(
        "hammerwork-web-load-{}-{name}.lua",
        std::process::id()
    ));
    let mut text = WRK_SCRIPT.to_string();
    if load.pace_ms > 0 {
        text.push_str(&format!("delay = function() return {} end\n", load.pace_ms));
    }
    std::fs::File::create(&script)?.write_all(text.as_bytes())?;
    let child = Command::new("setsid")
        .arg("wrk")
        .arg("-t1")
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.seconds))
        .arg("--timeout")
        .arg("5s")
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{}{path}", load.bind))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run wrk (apt-get install wrk): {err}"))?;
    Ok(child)
}

/// Waits for `wrk` and reads its JSON line.
fn finish_wrk(child: Child) -> BenchResult<Value> {
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .ok_or_else(|| format!("wrk printed no figures:\n{text}"))?;
    Ok(serde_json::from_str(line)?)
}
