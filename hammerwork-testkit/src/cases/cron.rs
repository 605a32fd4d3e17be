use std::time::Duration;

use chrono::{DateTime, Utc};
use hammerwork_api::schedule::CronSchedule;
use hammerwork_api::workflow::{FailurePolicy, JobGroup, WorkflowStatus};
use hammerwork_api::{
    ClaimParams, DatabaseQueue, DependencyStatus, Error, Job, JobId, JobPriority, JobStatus,
    ListJobsParams, Storage,
};
use serde_json::json;

use crate::support::{complete, fail_permanently, now, secs, wait_for};

/// Claims every ready job of `queue` as if the clock read `at`.
async fn claim_at<S: Storage>(storage: &S, queue: &str, at: DateTime<Utc>) -> Vec<Job> {
    storage
        .claim_jobs(ClaimParams::new(queue, 100, at, at + secs(60)))
        .await
        .expect("claim")
}

async fn get<S: Storage>(storage: &S, id: JobId) -> Job {
    storage.get_job(id).await.unwrap().expect("job exists")
}

fn next_after(expression: &str, after: DateTime<Utc>) -> DateTime<Utc> {
    CronSchedule::parse(expression)
        .unwrap()
        .next_after(after)
        .unwrap()
}

/// A recurring job first runs at its schedule's next time; once an occurrence
/// finishes (completed, and dead too) the scheduler enqueues exactly one next
/// occurrence with the same definition at the schedule's next time, linked
/// from the finished one; a second tick adds nothing.
pub async fn cron_job_next_run_is_enqueued_once<S: Storage>(storage: S) {
    let schedule = "0 2 * * *";
    let job = Job::new("cron", json!({"n": 1}))
        .with_priority(JobPriority::High)
        .with_max_attempts(1)
        .with_cron_schedule(schedule);
    storage.enqueue(job.clone()).await.unwrap();
    let stored = get(&storage, job.id).await;
    assert_eq!(stored.cron_schedule.as_deref(), Some(schedule));
    assert_eq!(stored.scheduled_at, next_after(schedule, job.created_at));
    assert!(
        claim_at(&storage, "cron", now()).await.is_empty() || stored.scheduled_at <= now(),
        "a recurring job ran before its first scheduled time"
    );
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 0);

    let running = claim_at(&storage, "cron", stored.scheduled_at).await;
    assert_eq!(running.len(), 1);
    assert_eq!(
        storage.advance_recurrences(now()).await.unwrap(),
        0,
        "a running occurrence was continued"
    );
    complete(&storage, &running[0], None).await;

    let t = now();
    assert_eq!(storage.advance_recurrences(t).await.unwrap(), 1);
    let next_id = get(&storage, job.id)
        .await
        .next_occurrence
        .expect("the finished occurrence links its successor");
    let next = get(&storage, next_id).await;
    assert_eq!(next.status, JobStatus::Pending);
    assert_eq!(next.queue_name, "cron");
    assert_eq!(next.payload, json!({"n": 1}));
    assert_eq!(next.priority, JobPriority::High);
    assert_eq!(next.max_attempts, 1);
    assert_eq!(next.cron_schedule.as_deref(), Some(schedule));
    assert_eq!(next.scheduled_at, next_after(schedule, t));
    assert_eq!(next.next_occurrence, None);
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 0);
    assert!(storage
        .list_recurrences(Default::default(), 10)
        .await
        .unwrap()
        .is_empty());

    // A dead occurrence continues the series too.
    let running = claim_at(&storage, "cron", next.scheduled_at).await;
    assert_eq!(running.len(), 1);
    fail_permanently(&storage, &running[0]).await;
    assert_eq!(get(&storage, next_id).await.status, JobStatus::Dead);
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 1);
    assert!(get(&storage, next_id).await.next_occurrence.is_some());
    let all = storage
        .list_jobs(ListJobsParams::new().queue("cron"))
        .await
        .unwrap();
    assert_eq!(all.len(), 3, "exactly one occurrence per finished one");
}

/// The next occurrence is the schedule's first time after the finished one
/// ended, even when the scheduler looks a little after that time (it looks
/// once a tick, at no particular point of a second): an every-second job
/// that finished early in a second is followed in the next second, due at
/// once, not a second later. Looked at more than the grace later, it is
/// the first time after then (missed occurrences are not caught up).
pub async fn cron_successor_follows_the_finish<S: Storage>(storage: S) {
    let every_second = "* * * * * *";
    let ms = chrono::Duration::milliseconds;
    for (series, look_after, follows_finish) in
        [("finish", ms(10), true), ("missed", ms(2500), false)]
    {
        let job = Job::new(series, json!({})).with_cron_schedule(every_second);
        storage.enqueue(job.clone()).await.unwrap();
        let first = get(&storage, job.id).await;
        let running = claim_at(&storage, series, first.scheduled_at).await;
        complete(&storage, &running[0], None).await;
        let finished = get(&storage, job.id).await.completed_at.unwrap();
        let due = next_after(every_second, finished);
        let look = due + look_after;
        assert_eq!(storage.advance_recurrences(look).await.unwrap(), 1);
        let next_id = get(&storage, job.id).await.next_occurrence.unwrap();
        let next = get(&storage, next_id).await;
        let expected = if follows_finish {
            due
        } else {
            next_after(every_second, look)
        };
        assert_eq!(
            next.scheduled_at, expected,
            "{series}: finished at {finished}"
        );
    }
}

/// Bad schedules are typed errors naming the expression, and nothing is
/// written: on a job, on a group, and a job of a group with its own schedule.
pub async fn cron_bad_schedule_is_rejected_writing_nothing<S: Storage>(storage: S) {
    let job = Job::new("cron_bad", json!({})).with_cron_schedule("61 * * * *");
    match storage.enqueue(job.clone()).await {
        Err(Error::InvalidCron { expression, .. }) => assert_eq!(expression, "61 * * * *"),
        other => panic!("expected InvalidCron, got {other:?}"),
    }
    assert!(storage.get_job(job.id).await.unwrap().is_none());

    let fine = Job::new("cron_bad", json!({}));
    let group = JobGroup::new("bad")
        .add_job(fine.clone())
        .with_cron_schedule("every day at noon");
    let group_id = group.id;
    assert!(matches!(group.validate(), Err(Error::InvalidCron { .. })));
    assert!(matches!(
        storage.enqueue_workflow(group).await,
        Err(Error::InvalidCron { .. })
    ));
    assert!(storage.get_workflow(group_id).await.unwrap().is_none());
    assert!(storage.get_job(fine.id).await.unwrap().is_none());

    let inner = Job::new("cron_bad", json!({})).with_cron_schedule("0 2 * * *");
    let group = JobGroup::new("inner").add_job(inner.clone());
    assert!(matches!(
        storage.enqueue_workflow(group).await,
        Err(Error::InvalidJob { id, .. }) if id == inner.id
    ));
    assert!(storage.get_job(inner.id).await.unwrap().is_none());
}

/// Cancelling an occurrence ends its series: the tick records the end once
/// and enqueues nothing.
pub async fn cron_cancelled_occurrence_ends_series<S: Storage>(storage: S) {
    let job = Job::new("cron_end", json!({})).with_cron_schedule("*/5 * * * *");
    storage.enqueue(job.clone()).await.unwrap();
    assert!(storage.cancel_job(job.id).await.unwrap());
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 1);
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 0);
    assert_eq!(get(&storage, job.id).await.next_occurrence, None);
    let all = storage
        .list_jobs(ListJobsParams::new().queue("cron_end"))
        .await
        .unwrap();
    assert_eq!(
        all.len(),
        1,
        "a cancelled series enqueued another occurrence"
    );
}

/// The spec's daily extract and report: each round's report waits for that
/// round's extract, not the one it depended on when first enqueued.
pub async fn cron_dependent_waits_for_each_round<S: Storage>(storage: S) {
    let extract = Job::new("cron_dep", json!("extract")).with_cron_schedule("0 2 * * *");
    let report = Job::new("cron_dep", json!("report"))
        .depends_on(&extract.id)
        .with_cron_schedule("0 8 * * *");
    storage
        .enqueue_many(vec![extract.clone(), report.clone()])
        .await
        .unwrap();

    let e1 = claim_at(&storage, "cron_dep", extract.scheduled_at).await;
    assert_eq!(e1.len(), 1);
    assert_eq!(e1[0].id, extract.id);
    complete(&storage, &e1[0], None).await;
    let at = report.scheduled_at.max(extract.scheduled_at);
    let r1 = claim_at(&storage, "cron_dep", at).await;
    assert_eq!(r1.len(), 1);
    assert_eq!(r1[0].id, report.id);
    complete(&storage, &r1[0], None).await;

    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 2);
    let e2 = get(&storage, extract.id).await.next_occurrence.unwrap();
    let r2 = get(
        &storage,
        get(&storage, report.id).await.next_occurrence.unwrap(),
    )
    .await;
    assert_eq!(
        r2.depends_on,
        vec![e2],
        "the next report waits for the next extract"
    );
    assert_eq!(r2.dependency_status, DependencyStatus::Waiting);
    assert_eq!(r2.pending_dependencies, 1);

    let e2_job = get(&storage, e2).await;
    let running = claim_at(&storage, "cron_dep", e2_job.scheduled_at).await;
    assert_eq!(running.iter().map(|j| j.id).collect::<Vec<_>>(), vec![e2]);
    complete(&storage, &running[0], None).await;
    assert_eq!(
        get(&storage, r2.id).await.dependency_status,
        DependencyStatus::Satisfied
    );
}

/// A recurring workflow starts at its schedule's next time (its timeout
/// counted from then); once a run finishes the whole group is enqueued again
/// with new ids, the same edges, at the next time; cancelling a run ends it.
pub async fn cron_workflow_recurs_as_a_whole<S: Storage>(storage: S) {
    let schedule = "0 3 * * *";
    let (a, b) = (
        Job::new("cron_wf", json!("a")),
        Job::new("cron_wf", json!("b")),
    );
    let group = JobGroup::new("nightly")
        .add_job(a.clone())
        .then(b.clone())
        .with_failure_policy(FailurePolicy::ContinueOnFailure)
        .with_timeout(std::time::Duration::from_secs(3600))
        .with_cron_schedule(schedule);
    let start = group.starts_at();
    assert_eq!(start, next_after(schedule, group.created_at));
    let id = storage.enqueue_workflow(group).await.unwrap();
    let workflow = storage.get_workflow(id).await.unwrap().unwrap();
    assert_eq!(workflow.cron_schedule.as_deref(), Some(schedule));
    assert_eq!(workflow.deadline_at, Some(start + secs(3600)));

    for expected in [a.id, b.id] {
        let running = claim_at(&storage, "cron_wf", start).await;
        assert_eq!(
            running.iter().map(|j| j.id).collect::<Vec<_>>(),
            vec![expected]
        );
        complete(&storage, &running[0], None).await;
    }
    assert_eq!(
        storage.get_workflow_status(id).await.unwrap(),
        WorkflowStatus::Completed
    );

    let t = now();
    assert_eq!(storage.advance_recurrences(t).await.unwrap(), 1);
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 0);
    let next_id = storage
        .get_workflow(id)
        .await
        .unwrap()
        .unwrap()
        .next_occurrence
        .expect("the finished run links the next");
    let next = storage.get_workflow(next_id).await.unwrap().unwrap();
    assert_eq!(next.name, "nightly");
    assert_eq!(next.status(), WorkflowStatus::Running);
    assert_eq!(next.stats.total_jobs, 2);
    assert_eq!(next.cron_schedule.as_deref(), Some(schedule));
    let at = next_after(schedule, t);
    assert_eq!(next.deadline_at, Some(at + secs(3600)));
    let jobs = storage
        .list_jobs(ListJobsParams::new().workflow(next_id))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 2);
    let a2 = jobs.iter().find(|j| j.payload == json!("a")).unwrap();
    let b2 = jobs.iter().find(|j| j.payload == json!("b")).unwrap();
    assert!(a2.id != a.id && b2.id != b.id);
    assert_eq!(b2.depends_on, vec![a2.id]);
    assert_eq!(b2.dependency_status, DependencyStatus::Waiting);
    assert!(jobs.iter().all(|j| j.scheduled_at == at));

    assert!(storage.cancel_workflow(next_id).await.unwrap());
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 1);
    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 0);
    assert!(storage
        .get_workflow(next_id)
        .await
        .unwrap()
        .unwrap()
        .next_occurrence
        .is_none());
}

/// More finished series than the scheduler reads at once, all waiting for
/// a parent series listed after them, neither hide that parent nor the series
/// after it: a tick pages through every due series (in id order) instead of
/// re-reading the first page, and then continues the dependents whose parent
/// moved on.
pub async fn cron_waiting_series_do_not_hide_the_others<S: Storage>(storage: S) {
    let schedule = "0 2 * * *";
    // Ids are time-ordered: the dependents' ids come before their parent's.
    let dependents: Vec<Job> = (0..600)
        .map(|i| Job::new("cron_many", json!(i)).with_cron_schedule(schedule))
        .collect();
    let parent = Job::new("cron_many_parent", json!({}))
        .with_max_attempts(1)
        .with_cron_schedule(schedule);
    let dependents: Vec<Job> = dependents
        .into_iter()
        .map(|job| job.depends_on(&parent.id))
        .collect();
    let last = Job::new("cron_last", json!({}))
        .with_max_attempts(1)
        .with_cron_schedule(schedule);
    let mut jobs = dependents.clone();
    jobs.push(parent.clone());
    jobs.push(last.clone());
    storage.enqueue_many(jobs).await.unwrap();

    // The parent dies, and its 600 dependents with it; so does `last`.
    let at = get(&storage, parent.id).await.scheduled_at;
    for queue in ["cron_many_parent", "cron_last"] {
        let running = claim_at(&storage, queue, at).await;
        assert_eq!(running.len(), 1);
        fail_permanently(&storage, &running[0]).await;
    }
    assert_eq!(
        get(&storage, dependents[0].id).await.status,
        JobStatus::Dead
    );

    assert_eq!(storage.advance_recurrences(now()).await.unwrap(), 602);
    assert!(
        get(&storage, parent.id).await.next_occurrence.is_some(),
        "a parent listed after 600 series waiting for it was never continued"
    );
    assert!(get(&storage, last.id).await.next_occurrence.is_some());
    let next_parent = get(&storage, parent.id).await.next_occurrence.unwrap();
    for job in [&dependents[0], &dependents[599]] {
        let next = get(&storage, job.id).await.next_occurrence.unwrap();
        assert_eq!(get(&storage, next).await.depends_on, vec![next_parent]);
    }
}

/// One holder leads a role at a time: the leader renews it, others are
/// refused until it resigns or its lease runs out; of holders racing for a
/// free role exactly one wins; roles are independent.
pub async fn cron_one_scheduler_leads_at_a_time<S: Storage + Clone>(storage: S) {
    let long = Duration::from_secs(30);
    assert!(storage.try_lead("sched", "a", long).await.unwrap());
    assert!(!storage.try_lead("sched", "b", long).await.unwrap());
    assert!(
        storage.try_lead("sched", "a", long).await.unwrap(),
        "renewed"
    );
    assert!(
        storage.try_lead("other", "b", long).await.unwrap(),
        "roles are independent"
    );
    storage.resign("sched", "b").await.unwrap();
    assert!(
        !storage.try_lead("sched", "b", long).await.unwrap(),
        "b resigned what it did not hold"
    );
    storage.resign("sched", "a").await.unwrap();
    assert!(
        storage.try_lead("sched", "b", long).await.unwrap(),
        "free once a resigned"
    );
    assert!(!storage.try_lead("sched", "a", long).await.unwrap());

    let racers = (0..8).map(|i| {
        let storage = storage.clone();
        tokio::spawn(async move { storage.try_lead("race", &format!("r{i}"), long).await })
    });
    let mut winners = 0;
    for racer in racers.collect::<Vec<_>>() {
        winners += usize::from(racer.await.unwrap().unwrap());
    }
    assert_eq!(winners, 1, "holders racing for a free role");

    // A leader that stops renewing loses the role once its lease is over.
    assert!(storage
        .try_lead("short", "c", Duration::from_millis(300))
        .await
        .unwrap());
    assert!(!storage.try_lead("short", "d", long).await.unwrap());
    wait_for("d to take over the expired lease", || async {
        storage
            .try_lead("short", "d", long)
            .await
            .unwrap()
            .then_some(())
    })
    .await;
    assert!(!storage.try_lead("short", "c", long).await.unwrap());
}
