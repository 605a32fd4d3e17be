//! `GET /metrics` after a run of 10,000 jobs: the text parses as
//! Prometheus' exposition format and its counters are the run's, exactly,
//! on PostgreSQL, MariaDB/MySQL and SQLite. (A test binary of its own: the
//! recorder is the process's.)

use std::collections::HashMap;
use std::time::Duration;

use hammerwork::{
    AnyStorage, DatabaseQueue, HandlerResult, Job, JobContext, RetryPolicy, Storage,
    StorageDatabase, Worker,
};
use hammerwork_testkit::drive::until_idle;
use hammerwork_testkit::provision::{DatabaseKind, FreshDatabase};
use hammerwork_web::{router, WebConfig};
use serde_json::json;

const JOBS: u64 = 10_000;

/// Every 100th job fails its first attempt and then completes; every
/// 1,000th (offset 7) has one attempt and fails it, ending dead.
async fn run_jobs<S: Storage + Clone + StorageDatabase>(storage: S, queue: &str) {
    let jobs: Vec<Job> = (0..JOBS)
        .map(|n| {
            let job = Job::new(queue, json!({ "n": n })).with_retry_policy(RetryPolicy::Fixed {
                delay: Duration::from_millis(10),
            });
            if n % 1000 == 7 {
                job.with_max_attempts(1)
            } else {
                job
            }
        })
        .collect();
    storage.enqueue_many(jobs).await.unwrap();
    let worker = Worker::new(storage.clone(), queue, |ctx: JobContext| async move {
        let n = ctx.payload["n"].as_u64().unwrap();
        if n % 1000 == 7 || (n % 100 == 0 && ctx.job.attempts == 1) {
            return Err("failing on purpose".into());
        }
        HandlerResult::Ok(None)
    });
    let running = worker.start();
    until_idle(&storage, &[queue], Duration::from_secs(120)).await;
    running.shutdown().await;
}

/// The samples of `/metrics` for `queue`: name (with `status` for gauges,
/// `_count` for histograms) -> value.
fn samples(text: &str, queue: &str) -> HashMap<String, f64> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    let mut out = HashMap::new();
    for sample in scrape.samples {
        if sample.labels.get("queue") != Some(queue) {
            continue;
        }
        let mut name = sample.metric.clone();
        if let Some(status) = sample.labels.get("status") {
            name = format!("{name}{{{status}}}");
        }
        let value = match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.iter().map(|b| b.count).fold(0.0, f64::max)
            }
            prometheus_parse::Value::Summary(_) => continue,
        };
        out.insert(name, value);
    }
    out
}

async fn counters_match_a_run(kind: DatabaseKind, case: &str) {
    let handle = hammerwork::metrics::prometheus().expect("install the recorder");
    let db = FreshDatabase::new(kind, case).await;
    let any = AnyStorage::connect(&db.url).await.unwrap();
    any.migrate().await.unwrap();
    let queue = format!("metrics_{case}");
    match &any {
        AnyStorage::Postgres(s) => run_jobs(s.clone(), &queue).await,
        AnyStorage::MySql(s) => run_jobs(s.clone(), &queue).await,
        AnyStorage::Sqlite(s) => run_jobs(s.clone(), &queue).await,
        _ => unreachable!("every backend is compiled in"),
    }
    let counts = any.storage().queue_counts(&queue).await.unwrap();
    assert_eq!((counts.completed, counts.dead), (9_990, 10), "{counts:?}");

    let app = router(any.storage(), WebConfig::default().with_metrics(handle));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let got = samples(&response.text().await.unwrap(), &queue);
    let want = [
        ("hammerwork_jobs_claimed_total", 10_100.0),
        ("hammerwork_jobs_completed_total", 9_990.0),
        ("hammerwork_jobs_failed_total", 110.0),
        ("hammerwork_jobs_dead_total", 10.0),
        ("hammerwork_jobs_cancelled_total", 0.0),
        ("hammerwork_job_duration_seconds_count", 10_100.0),
        ("hammerwork_queue_jobs{completed}", 9_990.0),
        ("hammerwork_queue_jobs{dead}", 10.0),
        ("hammerwork_queue_jobs{pending}", 0.0),
        ("hammerwork_queue_paused", 0.0),
    ];
    for (name, value) in want {
        assert_eq!(got.get(name), Some(&value), "{name} in {got:#?}");
    }
    let batches = got["hammerwork_claim_batch_size_count"];
    assert!((1.0..=10_100.0).contains(&batches), "{batches}");
    assert!(got["hammerwork_settle_duration_seconds_count"] >= 1.0);
    server.abort();
    drop(any);
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counters_match_a_run() {
    counters_match_a_run(DatabaseKind::Postgres, "postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_counters_match_a_run() {
    counters_match_a_run(DatabaseKind::MySql, "mysql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_counters_match_a_run() {
    counters_match_a_run(DatabaseKind::Sqlite, "sqlite").await;
}
