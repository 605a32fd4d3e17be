use std::time::Duration;

use hammerwork::retention::{Pruned, Retention, RetentionPolicy};
use hammerwork::spawn::{plan_spawn, SpawnConfig};
use hammerwork::workflow::JobGroup;
use hammerwork::{DatabaseQueue, Job, JobId, Lease, ListJobsParams, Storage};
use serde_json::json;

use crate::support::{claim_all, complete, fail_permanently, now, secs};

const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;

async fn exists<S: Storage>(storage: &S, id: JobId) -> bool {
    storage.get_job(id).await.unwrap().is_some()
}

/// `list_queues` names every queue that holds a job, once, in name order.
pub async fn list_queues_names_each_queue_once<S: Storage>(storage: S) {
    assert!(storage.list_queues().await.unwrap().is_empty());
    let jobs = ["b_queue", "a_queue", "b_queue", "c_queue", "a_queue"]
        .map(|queue| Job::new(queue, json!({})));
    storage.enqueue_many(jobs.to_vec()).await.unwrap();
    assert_eq!(
        storage.list_queues().await.unwrap(),
        ["a_queue", "b_queue", "c_queue"]
    );
}

/// Pruning deletes a finished job once its status's retention has passed
/// since it ended (completed and skipped after 24 h, cancelled and dead
/// after 7 days by default; a queue's own retention overrides), never a job
/// that has not finished. A job that spawned others goes after the last of
/// them, with its spawn record.
pub async fn prune_deletes_finished_jobs_past_their_retention<S: Storage>(storage: S) {
    let queue = "prune";
    let (done, dead, cancelled, waiting, running) = (
        Job::new(queue, json!("done")),
        Job::new(queue, json!("dead")),
        Job::new(queue, json!("cancelled")),
        Job::new(queue, json!("waiting")).with_delay(Duration::from_secs(3_600)),
        Job::new(queue, json!("running")),
    );
    let audited = Job::new("prune_audit", json!("kept for ever"));
    let all = [&done, &dead, &cancelled, &waiting, &running, &audited];
    let all: Vec<Job> = all.into_iter().cloned().collect();
    storage.enqueue_many(all).await.unwrap();
    storage.cancel_job(cancelled.id).await.unwrap();
    for job in claim_all(&storage, queue).await {
        match job.payload.as_str() {
            Some("done") => complete(&storage, &job, None).await,
            Some("dead") => fail_permanently(&storage, &job).await,
            _ => {} // "running" stays claimed
        }
    }
    for job in claim_all(&storage, "prune_audit").await {
        complete(&storage, &job, None).await;
    }
    // A parent that spawned a child: its spawn record goes with it.
    let parent = Job::new("prune_parent", json!("parent"));
    storage.enqueue(parent.clone()).await.unwrap();
    let claimed = claim_all(&storage, "prune_parent").await;
    let child = Job::new("prune_child", json!("child"));
    let config = SpawnConfig::new().with_handler("test");
    let set = plan_spawn(&claimed[0], &config, vec![child.clone()], now()).unwrap();
    let spawned = storage
        .complete_and_spawn(Lease::of(&claimed[0]), None, &set, now())
        .await
        .unwrap();
    assert!(spawned);
    let operation_id = set.operation.id.clone();

    let policy = RetentionPolicy::default().with_queue("prune_audit", Retention::forever());
    let t = now();
    // An hour later nothing has passed its retention.
    let early = storage
        .prune_at(&policy, t + secs(HOUR), 100)
        .await
        .unwrap();
    assert_eq!(early, Pruned::default());

    // A day later: the completed job; the parent stays while its child
    // waits, and goes with its spawn record after the child.
    let day = t + secs(DAY + 60);
    let first = storage.prune_at(&policy, day, 100).await.unwrap();
    assert_eq!(first.jobs, 1, "the completed job");
    assert!(!exists(&storage, done.id).await);
    for kept in [
        &dead, &cancelled, &waiting, &running, &audited, &child, &parent,
    ] {
        assert!(
            exists(&storage, kept.id).await,
            "{} was pruned",
            kept.payload
        );
    }
    for job in claim_all(&storage, "prune_child").await {
        complete(&storage, &job, None).await;
    }
    let child_first = storage.prune_at(&policy, day, 100).await.unwrap();
    let one = |spawn_operations| Pruned {
        jobs: 1,
        workflows: 0,
        spawn_operations,
    };
    assert_eq!(child_first, one(0), "the child");
    assert!(exists(&storage, parent.id).await);
    let parent_next = storage.prune_at(&policy, day, 100).await.unwrap();
    assert_eq!(parent_next, one(1), "the parent and its spawn record");
    let operation = storage.get_spawn_operation(&operation_id).await.unwrap();
    assert!(operation.is_none(), "the spawn record went with its parent");

    // A week later: the dead and cancelled ones too; the unfinished jobs
    // and the queue kept for ever stay whatever their age.
    let week = storage.prune_at(&policy, t + secs(7 * DAY + 60), 100).await;
    assert_eq!(week.unwrap().jobs, 2, "the dead and the cancelled job");
    for kept in [&waiting, &running, &audited] {
        assert!(
            exists(&storage, kept.id).await,
            "{} was pruned",
            kept.payload
        );
    }
    assert!(!exists(&storage, dead.id).await);
    assert!(!exists(&storage, cancelled.id).await);
}

/// Nothing that is waited on or read is pruned: a finished parent stays
/// while a job that depends on it is stored (a chain goes from its last job
/// back, one pruning transaction per link, and `prune` runs them all), a
/// finished workflow's jobs stay (workflows are pruned whole, here never),
/// and so does the occurrence a recurring series continues from. `limit`
/// bounds one transaction.
pub async fn prune_keeps_what_is_waited_on<S: Storage>(storage: S) {
    let queue = "prune_wait";
    let first = Job::new(queue, json!(1));
    let second = Job::new(queue, json!(2)).depends_on(&first.id);
    let third = Job::new(queue, json!(3)).depends_on(&second.id);
    let recurring = Job::new("prune_cron", json!("cron")).with_cron_schedule("0 * * * *");
    let jobs = vec![
        first.clone(),
        second.clone(),
        third.clone(),
        recurring.clone(),
    ];
    storage.enqueue_many(jobs).await.unwrap();
    let group = JobGroup::new("prune_workflow")
        .add_job(Job::new("prune_flow", json!("a")))
        .add_job(Job::new("prune_flow", json!("b")));
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    for queue in ["prune_flow", "prune_cron"] {
        for job in claim_all(&storage, queue).await {
            complete(&storage, &job, None).await;
        }
    }
    for _ in 0..2 {
        for job in claim_all(&storage, queue).await {
            complete(&storage, &job, None).await;
        }
    }
    let policy = RetentionPolicy::default();
    let later = now() + secs(DAY + 60);

    // The first two wait for their dependents; the last goes, alone.
    assert_eq!(storage.prune_at(&policy, later, 100).await.unwrap().jobs, 0);
    for job in claim_all(&storage, queue).await {
        complete(&storage, &job, None).await;
    }
    let pruned = storage.prune_at(&policy, later, 100).await.unwrap();
    assert_eq!(pruned.jobs, 1, "only the last job of the chain");
    assert!(!exists(&storage, third.id).await);
    assert!(exists(&storage, second.id).await && exists(&storage, first.id).await);

    // `limit` bounds a transaction: one job, then the next link.
    assert_eq!(storage.prune_at(&policy, later, 1).await.unwrap().jobs, 1);
    assert!(!exists(&storage, second.id).await);
    assert!(exists(&storage, first.id).await);
    assert_eq!(storage.prune_at(&policy, later, 1).await.unwrap().jobs, 1);
    assert!(!exists(&storage, first.id).await);

    // What stays whatever its age (workflows kept for ever here).
    let far = now() + secs(365 * DAY);
    let policy = RetentionPolicy {
        workflows: None,
        ..RetentionPolicy::default()
    };
    assert_eq!(storage.prune_at(&policy, far, 100).await.unwrap().jobs, 0);
    assert!(exists(&storage, recurring.id).await, "the live occurrence");
    let flow = storage.get_workflow(workflow).await.unwrap().unwrap();
    assert_eq!(flow.stats.completed_jobs, 2, "the workflow's jobs");
    let listed = ListJobsParams::new().workflow(workflow);
    assert_eq!(storage.list_jobs(listed).await.unwrap().len(), 2);
}

/// `prune` (an operator's pass, by the database's clock) runs pruning
/// transactions until one deletes nothing: a whole chain in one call.
pub async fn prune_runs_until_nothing_is_left<S: Storage>(storage: S) {
    let queue = "prune_all";
    let mut jobs = vec![Job::new(queue, json!(0))];
    for i in 1..5 {
        let previous = jobs[i - 1].id;
        jobs.push(Job::new(queue, json!(i)).depends_on(&previous));
    }
    storage.enqueue_many(jobs.clone()).await.unwrap();
    for _ in 0..jobs.len() {
        for job in claim_all(&storage, queue).await {
            complete(&storage, &job, None).await;
        }
    }
    let keep_nothing = Retention {
        completed: Some(Duration::ZERO),
        ..Retention::default()
    };
    let policy = RetentionPolicy::keep_everything().with_queue(queue, keep_nothing);
    // Retention zero: ended strictly before the database's clock reads now,
    // which the clock's microseconds guarantee a moment after the settle.
    tokio::time::sleep(Duration::from_millis(2)).await;
    let pruned = storage.prune(&policy).await.unwrap();
    assert_eq!(pruned.jobs, 5);
    for job in &jobs {
        assert!(!exists(&storage, job.id).await);
    }
    let nothing = storage.prune(&RetentionPolicy::keep_everything()).await;
    assert_eq!(nothing.unwrap(), Pruned::default());
}

/// A finished workflow is pruned whole (its jobs, and the workflow) once its
/// retention (7 days by default) has passed since its last job ended, never
/// job by job; one with a job left to run is kept (a retried one too), and
/// so is one whose job a job outside it depends on.
pub async fn prune_deletes_finished_workflows_whole<S: Storage>(storage: S) {
    let (a, b) = (
        Job::new("wf_done", json!("a")),
        Job::new("wf_done", json!("b")),
    );
    let done = JobGroup::new("done").add_job(a.clone()).then(b.clone());
    let done = storage.enqueue_workflow(done).await.unwrap();
    let open = JobGroup::new("open")
        .add_job(Job::new("wf_open", json!("c")))
        .add_job(Job::new("wf_open_later", json!("d")));
    let open = storage.enqueue_workflow(open).await.unwrap();
    let held_job = Job::new("wf_held", json!("e"));
    let held = JobGroup::new("held").add_job(held_job.clone());
    let held = storage.enqueue_workflow(held).await.unwrap();
    let again = JobGroup::new("again").add_job(Job::new("wf_again", json!("g")));
    let again = storage.enqueue_workflow(again).await.unwrap();
    for queue in ["wf_done", "wf_done", "wf_open", "wf_held"] {
        for job in claim_all(&storage, queue).await {
            complete(&storage, &job, None).await;
        }
    }
    // A workflow that failed and was retried runs again: not finished.
    for job in claim_all(&storage, "wf_again").await {
        fail_permanently(&storage, &job).await;
    }
    storage.retry_workflow(again).await.unwrap();
    // A job outside the third workflow depends on its job.
    let outside = Job::new("wf_outside", json!("f")).depends_on(&held_job.id);
    storage.enqueue(outside.clone()).await.unwrap();

    let policy = RetentionPolicy::default();
    let t = now();
    let six_days = storage.prune_at(&policy, t + secs(6 * DAY), 100).await;
    assert_eq!(six_days.unwrap().workflows, 0, "pruned before 7 days");
    let pruned = storage
        .prune_at(&policy, t + secs(8 * DAY), 100)
        .await
        .unwrap();
    assert_eq!(pruned.workflows, 1, "{pruned:?}");
    assert_eq!(pruned.jobs, 2, "the finished workflow's two jobs");
    assert!(storage.get_workflow(done).await.unwrap().is_none());
    assert!(!exists(&storage, a.id).await && !exists(&storage, b.id).await);
    assert!(
        storage.get_workflow(open).await.unwrap().is_some(),
        "a job left"
    );
    assert!(
        storage.get_workflow(held).await.unwrap().is_some(),
        "depended on"
    );
    assert!(exists(&storage, held_job.id).await);
    assert!(exists(&storage, outside.id).await);
}
