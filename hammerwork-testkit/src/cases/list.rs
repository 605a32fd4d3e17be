use hammerwork_api::{
    ClaimParams, DatabaseQueue, DependencyStatus, Job, JobStatus, ListJobsParams, Storage,
};
use serde_json::json;

use crate::support::{now, secs};

/// Listing filters by queue and status and pages by id; counts add up per status.
pub async fn list_jobs_filters_and_pages<S: Storage>(storage: S) {
    let a: Vec<Job> = (0..5).map(|i| Job::new("list_a", json!(i))).collect();
    let b: Vec<Job> = (0..3).map(|i| Job::new("list_b", json!(i))).collect();
    storage.enqueue_many(a.clone()).await.unwrap();
    storage.enqueue_many(b.clone()).await.unwrap();
    let t = now();
    storage
        .claim_jobs(ClaimParams::new("list_a", 2, t, t + secs(30)))
        .await
        .unwrap();

    let only_a = storage
        .list_jobs(ListJobsParams::new().queue("list_a"))
        .await
        .unwrap();
    assert_eq!(
        only_a.iter().map(|j| j.id).collect::<Vec<_>>(),
        a.iter().map(|j| j.id).collect::<Vec<_>>()
    );
    let running = storage
        .list_jobs(
            ListJobsParams::new()
                .queue("list_a")
                .status(JobStatus::Running),
        )
        .await
        .unwrap();
    assert_eq!(running.len(), 2);
    assert!(running.iter().all(|j| j.status == JobStatus::Running));

    let page1 = storage
        .list_jobs(ListJobsParams::new().limit(3))
        .await
        .unwrap();
    let page2 = storage
        .list_jobs(ListJobsParams::new().limit(3).after(page1[2].id))
        .await
        .unwrap();
    let page3 = storage
        .list_jobs(ListJobsParams::new().limit(3).after(page2[2].id))
        .await
        .unwrap();
    assert_eq!((page1.len(), page2.len(), page3.len()), (3, 3, 2));
    let mut seen: Vec<_> = page1
        .iter()
        .chain(&page2)
        .chain(&page3)
        .map(|j| j.id)
        .collect();
    let sorted = {
        let mut s = seen.clone();
        s.sort();
        s
    };
    assert_eq!(seen, sorted, "pages are in id order");
    seen.dedup();
    assert_eq!(seen.len(), 8);

    let counts = storage.queue_counts("list_a").await.unwrap();
    assert_eq!((counts.pending, counts.running, counts.total()), (3, 2, 5));
    assert_eq!(
        storage.queue_counts("nothing_here").await.unwrap().total(),
        0
    );
}

/// Listing by dependency status finds the jobs a parent still holds, and only
/// those: a stuck job is one query away.
pub async fn list_jobs_filters_by_dependency_status<S: Storage>(storage: S) {
    let parent = Job::new("list_dep", json!("parent"));
    let held = Job::new("list_dep", json!("held")).depends_on(&parent.id);
    let free = Job::new("list_dep", json!("free"));
    storage
        .enqueue_many(vec![parent.clone(), held.clone(), free.clone()])
        .await
        .unwrap();

    let waiting = storage
        .list_jobs(
            ListJobsParams::new()
                .queue("list_dep")
                .status(JobStatus::Pending)
                .dependency_status(DependencyStatus::Waiting),
        )
        .await
        .unwrap();
    assert_eq!(
        waiting.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![held.id]
    );
    let none = storage
        .list_jobs(
            ListJobsParams::new()
                .queue("list_dep")
                .dependency_status(DependencyStatus::None),
        )
        .await
        .unwrap();
    let mut expected = vec![parent.id, free.id];
    expected.sort();
    assert_eq!(none.iter().map(|j| j.id).collect::<Vec<_>>(), expected);
}
