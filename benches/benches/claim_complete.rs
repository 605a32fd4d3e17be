//! Criterion bench of the claim + settle round trip on PostgreSQL
//! (`DATABASE_URL`, default the local server), for one job and for a batch of 100.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hammerwork::{
    ClaimParams, DatabaseQueue, Job, Lease, Outcome, PostgresStorage, Settlement, Storage,
};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

const SCHEMA: &str = "hammerwork_criterion";

async fn storage() -> PostgresStorage {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("connect");
    sqlx::raw_sql(&format!(
        "DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}"
    ))
    .execute(&admin)
    .await
    .expect("schema");
    let options: PgConnectOptions = url.parse().expect("url");
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.options([("search_path", SCHEMA)]))
        .await
        .expect("pool");
    let storage = PostgresStorage::from_pool(pool).await.expect("storage");
    storage.migrate().await.expect("migrate");
    storage
}

/// Claims `batch` jobs and settles them as completed, `iters` times; the jobs
/// are enqueued first, outside the timing.
async fn round_trips(storage: &PostgresStorage, batch: u32, iters: u64) -> Duration {
    let jobs: Vec<Job> = (0..batch as u64 * iters)
        .map(|i| Job::new("criterion", json!(i)))
        .collect();
    storage.enqueue_many(jobs).await.expect("enqueue");
    let started = Instant::now();
    for _ in 0..iters {
        let now = chrono::Utc::now();
        let claimed = storage
            .claim_jobs(ClaimParams::new(
                "criterion",
                batch,
                now,
                now + chrono::Duration::seconds(60),
            ))
            .await
            .expect("claim");
        let settlements: Vec<_> = claimed
            .iter()
            .map(|j| Settlement::new(Lease::of(j), Outcome::Completed { result: None }))
            .collect();
        storage
            .settle_jobs(&settlements, chrono::Utc::now())
            .await
            .expect("settle");
    }
    started.elapsed()
}

fn claim_complete(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let storage = runtime.block_on(storage());
    let mut group = c.benchmark_group("claim_complete");
    for batch in [1u32, 100] {
        group.throughput(Throughput::Elements(u64::from(batch)));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, &batch| {
            b.to_async(&runtime).iter_custom(|iters| {
                let storage = storage.clone();
                async move { round_trips(&storage, batch, iters).await }
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = claim_complete
}
criterion_main!(benches);
