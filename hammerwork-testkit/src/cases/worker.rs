use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hammerwork::{
    ClaimParams, DatabaseQueue, HandlerResult, Job, JobContext, JobId, JobStatus, RetryPolicy,
    Storage, Worker, WorkerPool,
};
use serde_json::json;

use hammerwork::schedule::SCHEDULER_ROLE;

use crate::support::{now, secs, wait_for};

async fn job_status<S: Storage>(storage: &S, id: JobId) -> Job {
    storage.get_job(id).await.unwrap().expect("job exists")
}

/// A worker runs every job once and stores what its handler returned.
pub async fn worker_processes_jobs_and_stores_results<S: Storage + Clone>(storage: S) {
    let jobs: Vec<Job> = (0..50).map(|i| Job::new("work", json!({"n": i}))).collect();
    let ids: Vec<_> = jobs.iter().map(|j| j.id).collect();
    storage.enqueue_many(jobs).await.unwrap();
    let runs = Arc::new(Mutex::new(HashMap::<JobId, usize>::new()));
    let seen = runs.clone();
    let running = Worker::new(storage.clone(), "work", move |ctx: JobContext| {
        let seen = seen.clone();
        async move {
            *seen.lock().unwrap().entry(ctx.id).or_default() += 1;
            let n = ctx.payload["n"].as_i64().unwrap();
            Ok(Some(json!({"double": n * 2})))
        }
    })
    .with_concurrency(4)
    .start();
    wait_for("50 completed jobs", || async {
        (storage.queue_counts("work").await.unwrap().completed == 50).then_some(())
    })
    .await;
    running.shutdown().await;
    for (n, id) in ids.iter().enumerate() {
        let job = job_status(&storage, *id).await;
        assert_eq!(job.result, Some(json!({"double": n as i64 * 2})));
        assert_eq!(job.attempts, 1);
    }
    assert!(
        runs.lock().unwrap().values().all(|&n| n == 1),
        "a job ran twice"
    );
}

/// A failing handler is retried after its backoff until `max_attempts`, then
/// the job is `Dead` with the last error kept.
pub async fn worker_retries_then_marks_dead<S: Storage + Clone>(storage: S) {
    let job = Job::new("flaky", json!({}))
        .with_max_attempts(3)
        .with_retry_policy(RetryPolicy::Fixed {
            delay: Duration::from_millis(20),
        });
    storage.enqueue(job.clone()).await.unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    let running = Worker::new(storage.clone(), "flaky", move |ctx: JobContext| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Err(format!("attempt {} failed", ctx.attempts).into())
        }
    })
    .with_poll_interval(Duration::from_millis(20))
    .start();
    let dead = wait_for("the job to be dead", || async {
        let job = job_status(&storage, job.id).await;
        (job.status == JobStatus::Dead).then_some(job)
    })
    .await;
    running.shutdown().await;
    assert_eq!(dead.attempts, 3);
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert_eq!(dead.error_message.as_deref(), Some("attempt 3 failed"));
}

/// An attempt that outlives the job's timeout fails (and is retried).
pub async fn worker_timeout_fails_attempt<S: Storage + Clone>(storage: S) {
    let job = Job::new("slow", json!({}))
        .with_timeout(Duration::from_millis(50))
        .with_max_attempts(2)
        .with_retry_policy(RetryPolicy::Fixed {
            delay: Duration::ZERO,
        });
    storage.enqueue(job.clone()).await.unwrap();
    let running = Worker::new(storage.clone(), "slow", |ctx: JobContext| async move {
        if ctx.attempts == 1 {
            // Far longer than the timeout: only the timeout can end this attempt.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Ok(Some(json!("second attempt")))
    })
    .with_poll_interval(Duration::from_millis(20))
    .start();
    let done = wait_for("the retried job to complete", || async {
        let job = job_status(&storage, job.id).await;
        (job.status == JobStatus::Completed).then_some(job)
    })
    .await;
    running.shutdown().await;
    assert_eq!(done.attempts, 2);
    assert_eq!(done.result, Some(json!("second attempt")));
    assert!(done.error_message.unwrap().contains("timed out"));
}

/// Shutdown stops claiming, gives back claimed jobs that had not started and
/// jobs still running at the deadline; a new worker then finishes every job.
pub async fn worker_shutdown_loses_nothing<S: Storage + Clone>(storage: S) {
    const JOBS: usize = 200;
    let jobs: Vec<Job> = (0..JOBS).map(|i| Job::new("shutdown", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();

    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    // Every handler blocks far past the grace period: they must be given back.
    let stuck = Worker::new(storage.clone(), "shutdown", move |_: JobContext| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            HandlerResult::Ok(None)
        }
    })
    .with_concurrency(4)
    .with_batch_size(50);
    let pool = WorkerPool::new()
        .add_worker(stuck)
        .with_shutdown_timeout(Duration::from_millis(100))
        .start();
    wait_for("4 running handlers", || async {
        (started.load(Ordering::SeqCst) == 4).then_some(())
    })
    .await;
    pool.shutdown().await;

    let counts = storage.queue_counts("shutdown").await.unwrap();
    assert_eq!(counts.running, 0, "shutdown left jobs leased: {counts:?}");
    assert_eq!(
        counts.pending, JOBS as u64,
        "every job is claimable again: {counts:?}"
    );
    let t = now();
    let given_back = storage
        .claim_jobs(ClaimParams::new("shutdown", JOBS as u32, t, t + secs(60)))
        .await
        .unwrap();
    assert_eq!(given_back.len(), JOBS);
    let started_attempts = given_back.iter().filter(|j| j.attempts == 2).count();
    assert_eq!(started_attempts, 4, "only the 4 started attempts count");
    let leases: Vec<_> = given_back
        .iter()
        .map(|j| {
            hammerwork::Settlement::new(
                hammerwork::Lease::of(j),
                hammerwork::Outcome::GiveBack { started: false },
            )
        })
        .collect();
    storage.settle_jobs(&leases, now()).await.unwrap();

    let runs = Arc::new(Mutex::new(HashMap::<JobId, usize>::new()));
    let seen = runs.clone();
    let finisher = Worker::new(storage.clone(), "shutdown", move |ctx: JobContext| {
        let seen = seen.clone();
        async move {
            *seen.lock().unwrap().entry(ctx.id).or_default() += 1;
            HandlerResult::Ok(None)
        }
    })
    .start();
    wait_for("every job completed", || async {
        (storage.queue_counts("shutdown").await.unwrap().completed == JOBS as u64).then_some(())
    })
    .await;
    finisher.shutdown().await;
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), JOBS);
    assert!(runs.values().all(|&n| n == 1));
}

/// A job whose worker died mid-attempt (its lease lapses unrenewed) is rescued
/// by a live worker's rescuer and completed.
pub async fn worker_rescues_job_of_crashed_worker<S: Storage + Clone>(storage: S) {
    let job = Job::new("crash", json!({}));
    storage.enqueue(job.clone()).await.unwrap();
    // The "crashed" worker: claims with a short lease and never reports back.
    let t = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new(
            "crash",
            1,
            t,
            t + chrono::Duration::milliseconds(200),
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let running = Worker::new(storage.clone(), "crash", |_: JobContext| async {
        Ok(Some(json!("rescued")))
    })
    .with_rescue_interval(Duration::from_millis(50))
    .with_poll_interval(Duration::from_millis(20))
    .start();
    let done = wait_for("the rescued job to complete", || async {
        let job = job_status(&storage, job.id).await;
        (job.status == JobStatus::Completed).then_some(job)
    })
    .await;
    running.shutdown().await;
    assert_eq!(done.attempts, 2);
    assert_eq!(done.result, Some(json!("rescued")));
}

/// Heartbeats keep a job that runs longer than its lease from being rescued.
pub async fn worker_heartbeat_keeps_long_job_leased<S: Storage + Clone>(storage: S) {
    let job = Job::new("long", json!({}));
    storage.enqueue(job.clone()).await.unwrap();
    let running = Worker::new(storage.clone(), "long", |_: JobContext| async {
        // Four lease lengths of work: without heartbeats the job would be rescued.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        HandlerResult::Ok(None)
    })
    .with_lease_duration(Duration::from_millis(300))
    .with_rescue_interval(Duration::from_millis(50))
    .start();
    let done = wait_for("the long job to complete", || async {
        let job = job_status(&storage, job.id).await;
        (job.status == JobStatus::Completed).then_some(job)
    })
    .await;
    running.shutdown().await;
    assert_eq!(
        done.attempts, 1,
        "the job was rescued while its worker was alive"
    );
}

/// Dropping a pool's handle leaves its workers running: jobs enqueued later
/// are still processed.
pub async fn worker_keeps_running_when_handle_dropped<S: Storage + Clone>(storage: S) {
    let handle = Worker::new(storage.clone(), "dropped_handle", |_: JobContext| async {
        Ok(Some(json!("still running")))
    })
    .with_poll_interval(Duration::from_millis(20))
    .start();
    drop(handle);
    let job = Job::new("dropped_handle", json!({}));
    storage.enqueue(job.clone()).await.unwrap();
    let done = wait_for(
        "the job to complete after the handle was dropped",
        || async {
            let job = job_status(&storage, job.id).await;
            (job.status == JobStatus::Completed).then_some(job)
        },
    )
    .await;
    assert_eq!(done.result, Some(json!("still running")));
}

/// A fan-in job's handler reads its parents' results through its context and
/// aggregates them; jobs of a chain run in order through real workers.
pub async fn worker_fan_in_reads_parent_results<S: Storage + Clone>(storage: S) {
    let parts: Vec<Job> = (1..=3)
        .map(|n| Job::new("fan_in_parts", json!({"n": n})))
        .collect();
    let total = Job::new("fan_in_total", json!({}));
    let report = Job::new("fan_in_report", json!({}));
    let group = hammerwork::workflow::JobGroup::new("fan_in")
        .add_parallel_jobs(parts)
        .then(total.clone())
        .then(report.clone());
    storage.enqueue_workflow(group).await.unwrap();

    let order = Arc::new(Mutex::new(Vec::new()));
    let (o1, o2, o3) = (order.clone(), order.clone(), order.clone());
    let pool = WorkerPool::new()
        .add_worker(Worker::new(
            storage.clone(),
            "fan_in_parts",
            move |ctx: JobContext| {
                let order = o1.clone();
                async move {
                    order.lock().unwrap().push("part");
                    let n = ctx.payload["n"].as_i64().unwrap();
                    Ok(Some(json!({"rows": n * 10})))
                }
            },
        ))
        .add_worker(Worker::new(
            storage.clone(),
            "fan_in_total",
            move |ctx: JobContext| {
                let order = o2.clone();
                async move {
                    order.lock().unwrap().push("total");
                    let results = ctx.parent_results().await?;
                    assert_eq!(results.len(), 3, "one result per parent");
                    let rows: i64 = results
                        .values()
                        .flatten()
                        .filter_map(|r| r["rows"].as_i64())
                        .sum();
                    Ok(Some(json!({"rows": rows})))
                }
            },
        ))
        .add_worker(Worker::new(
            storage.clone(),
            "fan_in_report",
            move |ctx: JobContext| {
                let order = o3.clone();
                async move {
                    order.lock().unwrap().push("report");
                    let results = ctx.parent_results().await?;
                    Ok(results.into_values().next().flatten())
                }
            },
        ))
        .start();
    let done = wait_for("the report job to complete", || async {
        let job = job_status(&storage, report.id).await;
        (job.status == JobStatus::Completed).then_some(job)
    })
    .await;
    pool.shutdown().await;
    assert_eq!(done.result, Some(json!({"rows": 60})));
    assert_eq!(
        *order.lock().unwrap(),
        vec!["part", "part", "part", "total", "report"]
    );
}

/// An idle worker starts a delayed job, and a retry after its backoff, when
/// they fall due rather than at its next poll: with a poll interval of a
/// minute, each starts within a second of its time (polling alone would find
/// the delayed one seconds late, the retry a minute late).
pub async fn worker_starts_delayed_jobs_on_time<S: Storage + Clone>(storage: S) {
    const LATE: Duration = Duration::from_secs(1);
    let delay = Duration::from_secs(3);
    let backoff = Duration::from_secs(2);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let running = Worker::new(storage.clone(), "on_time", move |ctx: JobContext| {
        let _ = tx.send((ctx.payload.clone(), ctx.attempts, std::time::Instant::now()));
        async move {
            if ctx.payload == json!("retried") && ctx.attempts == 1 {
                return Err("first attempt fails".into());
            }
            HandlerResult::Ok(None)
        }
    })
    .with_poll_interval(Duration::from_secs(60))
    .start();
    type Start = (serde_json::Value, i32, std::time::Instant);
    async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Start>) -> Start {
        tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("a job started within 30 s")
            .expect("worker running")
    }

    let enqueued = std::time::Instant::now();
    let delayed = Job::new("on_time", json!("delayed")).with_delay(delay);
    storage.enqueue(delayed).await.unwrap();
    let (payload, _, at) = next(&mut rx).await;
    assert_eq!(payload, json!("delayed"));
    let late = at.duration_since(enqueued).saturating_sub(delay);
    assert!(
        late < LATE,
        "the delayed job started {late:?} after its time"
    );

    let retried = Job::new("on_time", json!("retried"))
        .with_max_attempts(2)
        .with_retry_policy(RetryPolicy::Fixed { delay: backoff });
    storage.enqueue(retried).await.unwrap();
    let (_, first, failed_at) = next(&mut rx).await;
    assert_eq!(first, 1);
    let (_, second, at) = next(&mut rx).await;
    assert_eq!(second, 2);
    let late = at.duration_since(failed_at).saturating_sub(backoff);
    assert!(late < LATE, "the retry started {late:?} after its time");
    running.shutdown().await;
}

/// A running worker is a scheduler too: a job recurring every second runs
/// again and again without anyone enqueueing it, one occurrence at a time.
pub async fn worker_runs_recurring_job<S: Storage + Clone>(storage: S) {
    let job = Job::new("tick", json!({})).with_cron_schedule("* * * * * *");
    storage.enqueue(job.clone()).await.unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let running = Worker::new(storage.clone(), "tick", move |_: JobContext| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            HandlerResult::Ok(None)
        }
    })
    .with_poll_interval(Duration::from_millis(20))
    .with_scheduler_interval(Duration::from_millis(20))
    .start();
    wait_for("three occurrences to complete", || async {
        (storage.queue_counts("tick").await.unwrap().completed >= 3).then_some(())
    })
    .await;
    running.shutdown().await;
    let counts = storage.queue_counts("tick").await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst) as u64, counts.completed);
    assert!(
        counts.pending <= 1 && counts.running == 0,
        "a series forked: {counts:?}"
    );
    // Each occurrence is scheduled on a whole second after the previous one.
    let mut jobs = storage
        .list_jobs(hammerwork::ListJobsParams::new().queue("tick"))
        .await
        .unwrap();
    jobs.sort_by_key(|j| j.scheduled_at);
    for pair in jobs.windows(2) {
        assert!(pair[1].scheduled_at > pair[0].scheduled_at);
        assert_eq!(pair[1].scheduled_at.timestamp_subsec_micros(), 0);
    }
}

/// At default settings an every-second cron job runs every second: each
/// occurrence starts on time, so it has finished when the scheduler next
/// looks, and its successor is the very next second (an occurrence found
/// late by a poll would push its successor a second further).
pub async fn worker_runs_every_second_cron_every_second<S: Storage + Clone>(storage: S) {
    let job = Job::new("every_second", json!({})).with_cron_schedule("* * * * * *");
    storage.enqueue(job).await.unwrap();
    let running = Worker::new(storage.clone(), "every_second", |_: JobContext| async {
        HandlerResult::Ok(None)
    })
    .start();
    wait_for("seven occurrences to complete", || async {
        (storage
            .queue_counts("every_second")
            .await
            .unwrap()
            .completed
            >= 7)
            .then_some(())
    })
    .await;
    running.shutdown().await;
    let mut jobs = storage
        .list_jobs(
            hammerwork::ListJobsParams::new()
                .queue("every_second")
                .status(JobStatus::Completed),
        )
        .await
        .unwrap();
    jobs.sort_by_key(|j| j.scheduled_at);
    let gaps: Vec<i64> = jobs
        .windows(2)
        .skip(1)
        .map(|pair| (pair[1].scheduled_at - pair[0].scheduled_at).num_milliseconds())
        .collect();
    // The successor is the next second after an occurrence finished: on a
    // machine starved of CPU (the whole suite at once on two cores), one
    // occurrence may finish, or be looked at, after the next second began,
    // and its successor is a second later by that rule. One such gap is
    // tolerated; a worker found by the poll instead of waking on time
    // would push every one.
    assert!(
        gaps.iter().all(|gap| *gap % 1000 == 0 && *gap >= 1000)
            && gaps.iter().filter(|gap| **gap != 1000).count() <= 1,
        "occurrences not one second apart: {gaps:?} ms"
    );
    let late: Vec<i64> = jobs[1..]
        .iter()
        .map(|job| (job.started_at.expect("started") - job.scheduled_at).num_milliseconds())
        .collect();
    assert!(
        late.iter().filter(|ms| **ms >= 250).count() <= 1,
        "occurrences started late: {late:?} ms"
    );
}

/// A recurring job's successor is enqueued as soon as the job settles, not
/// at the scheduler's next tick: with ticks an hour apart (the first comes
/// at start, before the first occurrence ends), an every-second job still
/// runs three times in a row.
pub async fn worker_schedules_successor_when_recurring_job_settles<S: Storage + Clone>(storage: S) {
    let job = Job::new("nudged", json!({})).with_cron_schedule("* * * * * *");
    storage.enqueue(job).await.unwrap();
    let running = Worker::new(storage.clone(), "nudged", |_: JobContext| async {
        HandlerResult::Ok(None)
    })
    .with_scheduler_interval(Duration::from_secs(3600))
    .start();
    wait_for("three occurrences to complete", || async {
        (storage.queue_counts("nudged").await.unwrap().completed >= 3).then_some(())
    })
    .await;
    running.shutdown().await;
}

/// A worker whose jobs turn slow gives back what it claimed while they were
/// fast and cannot start soon, so other workers can take it: with its one
/// slot held, the jobs it has leased (running in the store) come down to the
/// one running and the starting claim size (10) within a bounded wait. Each
/// job still runs once, and a job given back has not had its attempt
/// counted.
pub async fn worker_gives_back_surplus_when_jobs_turn_slow<S: Storage + Clone>(storage: S) {
    const TOTAL: usize = 3_000;
    const FAST: usize = 2_000;
    let jobs: Vec<Job> = (0..TOTAL)
        .map(|i| Job::new("turns_slow", json!(i)))
        .collect();
    let ids: Vec<_> = jobs.iter().map(|job| job.id).collect();
    storage.enqueue_many(jobs).await.unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let running = Worker::new(storage.clone(), "turns_slow", {
        let (started, gate) = (started.clone(), gate.clone());
        move |_: JobContext| {
            let (started, gate) = (started.clone(), gate.clone());
            async move {
                if started.fetch_add(1, Ordering::SeqCst) >= FAST {
                    // Slow from here on: wait to be let through.
                    gate.acquire().await.expect("gate open").forget();
                }
                HandlerResult::Ok(None)
            }
        }
    })
    .with_concurrency(1)
    .start();
    wait_for("the buffer's surplus to go back to the queue", || async {
        let counts = storage.queue_counts("turns_slow").await.unwrap();
        (started.load(Ordering::SeqCst) > FAST && counts.running <= 1 + 10).then_some(())
    })
    .await;
    gate.add_permits(TOTAL);
    wait_for("every job to complete", || async {
        let counts = storage.queue_counts("turns_slow").await.unwrap();
        (counts.completed == TOTAL as u64).then_some(())
    })
    .await;
    running.shutdown().await;
    assert_eq!(started.load(Ordering::SeqCst), TOTAL, "a job ran twice");
    let stored = storage.get_jobs(&ids).await.unwrap();
    assert!(
        stored.iter().all(|job| job.attempts == 1),
        "a job given back had an attempt counted"
    );
}

/// Of two workers, one leads the scheduler role while they run (a third
/// holder is refused it) and the series still moves once per occurrence;
/// stopping gives the role up at once.
pub async fn worker_one_scheduler_leads_and_resigns<S: Storage + Clone>(storage: S) {
    let job = Job::new("lead_tick", json!({})).with_cron_schedule("* * * * * *");
    storage.enqueue(job).await.unwrap();
    let start = |queue: &'static str| {
        Worker::new(storage.clone(), queue, |_: JobContext| async {
            HandlerResult::Ok(None)
        })
        .with_poll_interval(Duration::from_millis(20))
        .with_scheduler_interval(Duration::from_millis(20))
        .start()
    };
    let (first, second) = (start("lead_tick"), start("lead_other"));
    let probe = Duration::from_secs(60);
    wait_for("two occurrences to complete", || async {
        (storage.queue_counts("lead_tick").await.unwrap().completed >= 2).then_some(())
    })
    .await;
    assert!(
        !storage
            .try_lead(SCHEDULER_ROLE, "probe", probe)
            .await
            .unwrap(),
        "no worker held the scheduler's lead"
    );
    first.shutdown().await;
    second.shutdown().await;
    let counts = storage.queue_counts("lead_tick").await.unwrap();
    assert!(counts.pending <= 1, "a series forked: {counts:?}");
    assert!(
        storage
            .try_lead(SCHEDULER_ROLE, "probe", probe)
            .await
            .unwrap(),
        "stopped workers kept the lead"
    );
}

/// A worker whose host clock runs a minute ahead works by the database's
/// clock: it rescues a job whose lease truly expired, and leaves alone one
/// whose lease (30 s, from another worker) is still live.
pub async fn worker_clock_ahead_leaves_live_leases_alone<S: Storage + Clone>(storage: S) {
    let live = Job::new("skew", json!("live"));
    let expired = Job::new("skew", json!("expired"));
    storage.enqueue(live.clone()).await.unwrap();
    let t = now();
    let claimed = storage
        .claim_jobs(ClaimParams::new("skew", 1, t, t + secs(30)))
        .await
        .unwrap();
    assert_eq!(claimed[0].id, live.id);
    storage.enqueue(expired.clone()).await.unwrap();
    let t = now();
    storage
        .claim_jobs(ClaimParams::new(
            "skew",
            1,
            t,
            t + chrono::Duration::milliseconds(100),
        ))
        .await
        .unwrap();

    let running = Worker::new(storage.clone(), "skew", |_: JobContext| async {
        Ok(Some(json!("ran")))
    })
    .with_clock(|| chrono::Utc::now() + chrono::Duration::seconds(60))
    .with_rescue_interval(Duration::from_millis(50))
    .with_poll_interval(Duration::from_millis(20))
    .start();
    wait_for("the expired job to be rescued and run", || async {
        let job = job_status(&storage, expired.id).await;
        (job.status == JobStatus::Completed).then_some(())
    })
    .await;
    running.shutdown().await;
    let live = job_status(&storage, live.id).await;
    assert_eq!(
        (live.status, live.attempts, live.lease_expires_at),
        (JobStatus::Running, 1, claimed[0].lease_expires_at),
        "a live lease was rescued by a worker whose clock runs ahead"
    );
}

/// The workers' maintenance leader prunes finished jobs past the retention
/// the worker was given, and only those: a job of a queue kept for ever,
/// finished before a pass that pruned, stays.
pub async fn worker_prunes_finished_jobs_past_their_retention<S: Storage + Clone>(storage: S) {
    use hammerwork::retention::{Retention, RetentionPolicy};
    let (pruned, kept) = (Job::new("pruned", json!(1)), Job::new("kept", json!(2)));
    let at_once = Retention {
        completed: Some(Duration::ZERO),
        ..Retention::default()
    };
    let policy = RetentionPolicy::keep_everything().with_queue("pruned", at_once);
    let handler = |_: JobContext| async { HandlerResult::Ok(None) };
    let running = WorkerPool::new()
        .add_worker(
            Worker::new(storage.clone(), "pruned", handler)
                .with_retention(policy.clone())
                .with_maintenance_interval(Duration::from_millis(20)),
        )
        .add_worker(
            Worker::new(storage.clone(), "kept", handler)
                .with_retention(policy)
                .with_maintenance_interval(Duration::from_millis(20)),
        )
        .start();
    storage.enqueue(kept.clone()).await.unwrap();
    wait_for("the kept job to complete", || async {
        let job = job_status(&storage, kept.id).await;
        (job.status == JobStatus::Completed).then_some(())
    })
    .await;
    storage.enqueue(pruned.clone()).await.unwrap();
    wait_for("the completed job to be pruned", || async {
        storage
            .get_job(pruned.id)
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    running.shutdown().await;
    assert!(
        storage.get_job(kept.id).await.unwrap().is_some(),
        "a job of a queue kept for ever was pruned"
    );
}
