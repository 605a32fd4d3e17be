//! `hammerwork::metrics::serve_prometheus`: a worker process's metrics over
//! HTTP in one call, without the web crate (its own test binary: the
//! recorder is the process's).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use hammerwork::{DatabaseQueue, HandlerResult, Job, JobContext, SqliteStorage, Storage, Worker};
use serde_json::json;

/// The body of `GET /metrics` at `addr` (a bare HTTP/1.0 request).
fn scrape(addr: SocketAddr) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
}

/// Scrapes until `line` is in the text, for at most 30 s.
async fn wait_for_line(addr: SocketAddr, line: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let text = tokio::task::spawn_blocking(move || scrape(addr))
            .await
            .unwrap()
            .unwrap_or_default();
        if text.lines().any(|l| l == line) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {line:?} in:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_call_serves_a_workers_metrics() {
    let storage = SqliteStorage::connect("sqlite::memory:").await.unwrap();
    storage.migrate().await.unwrap();
    let jobs = (0..5)
        .map(|n| Job::new("reports", json!({ "n": n })))
        .collect();
    storage.enqueue_many(jobs).await.unwrap();

    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let shared: Arc<dyn Storage> = Arc::new(storage.clone());
    hammerwork::metrics::serve_prometheus(shared.clone(), addr).unwrap();
    // The queue gauges are read at once, then every 10 s.
    wait_for_line(
        addr,
        r#"hammerwork_queue_jobs{queue="reports",status="pending"} 5"#,
    )
    .await;
    let again = hammerwork::metrics::serve_prometheus(shared, addr);
    assert!(again.is_err(), "a second recorder is refused");

    let running = Worker::new(storage.clone(), "reports", |_ctx: JobContext| async move {
        HandlerResult::Ok(None)
    })
    .start();
    let text = wait_for_line(
        addr,
        r#"hammerwork_jobs_completed_total{queue="reports"} 5"#,
    )
    .await;
    assert!(
        text.contains(r#"hammerwork_jobs_claimed_total{queue="reports"} 5"#),
        "{text}"
    );
    running.shutdown().await;
}
