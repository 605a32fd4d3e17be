//! `retry_workflow` recounts a job's open dependencies once per parent, as the
//! edge table stores them, even when `depends_on` lists a parent twice.

use chrono::{Duration, SubsecRound, Utc};
use hammerwork_api::workflow::{FailurePolicy, JobGroup};
use hammerwork_api::{
    ClaimParams, DatabaseQueue, DependencyStatus, Job, JobStatus, Lease, Outcome, Settlement,
    Storage,
};
use hammerwork_sqlite::SqliteStorage;
use serde_json::json;

async fn memory() -> SqliteStorage {
    let storage = SqliteStorage::connect("sqlite::memory:")
        .await
        .expect("open in-memory database");
    storage.migrate().await.expect("migrate");
    storage
}

async fn claim(storage: &SqliteStorage, queue: &str) -> Vec<Job> {
    let now = Utc::now().trunc_subsecs(6);
    storage
        .claim_jobs(ClaimParams::new(
            queue,
            10,
            now,
            now + Duration::seconds(30),
        ))
        .await
        .unwrap()
}

async fn settle(storage: &SqliteStorage, job: &Job, outcome: Outcome) {
    let lease = Lease::of(job);
    let changed = storage
        .settle_jobs(&[Settlement::new(lease, outcome)], Utc::now())
        .await
        .unwrap();
    assert_eq!(changed, 1);
}

#[tokio::test]
async fn retry_counts_a_parent_listed_twice_once() {
    let storage = memory().await;
    let a = Job::new("dup_parent", json!("a"));
    let mut b = Job::new("dup_parent", json!("b")).depends_on(&a.id);
    b.depends_on.push(a.id);
    let group = JobGroup::new("dup_parent")
        .add_job(a.clone())
        .add_job(b.clone())
        .with_failure_policy(FailurePolicy::ContinueOnFailure);
    let id = storage.enqueue_workflow(group).await.unwrap();

    let first = claim(&storage, "dup_parent").await;
    assert_eq!(first.len(), 1);
    let failure = Outcome::Failed {
        error: "failed on purpose".into(),
        retry_at: None,
    };
    settle(&storage, &first[0], failure).await;
    assert_eq!(
        storage.get_job(b.id).await.unwrap().unwrap().status,
        JobStatus::Dead
    );

    assert_eq!(storage.retry_workflow(id).await.unwrap(), 2);
    let b_again = storage.get_job(b.id).await.unwrap().unwrap();
    assert_eq!(
        (b_again.dependency_status, b_again.pending_dependencies),
        (DependencyStatus::Waiting, 1),
        "a parent listed twice was counted twice"
    );

    let again = claim(&storage, "dup_parent").await;
    assert_eq!(again.iter().map(|j| j.id).collect::<Vec<_>>(), vec![a.id]);
    settle(&storage, &again[0], Outcome::Completed { result: None }).await;
    let released = claim(&storage, "dup_parent").await;
    assert_eq!(
        released.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![b.id],
        "the dependent was never released"
    );
}
