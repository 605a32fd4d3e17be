//! Input checks every backend runs before writing, so bad input is rejected
//! the same way everywhere and nothing is half-written.

use std::collections::HashSet;

use crate::limits::json_len;
use crate::{EnqueueBatch, Error, Job, Limits, Oversized, Result};

/// Longest queue name accepted (it is an indexed column).
pub const MAX_QUEUE_NAME_LEN: usize = 255;

/// What is wrong with `name` as a queue name, if anything: empty (or only
/// spaces), over [`MAX_QUEUE_NAME_LEN`] bytes, or holding a NUL character
/// (PostgreSQL cannot store one in text; the others could, so no backend
/// does).
pub fn queue_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("queue name is empty".into());
    }
    if name.len() > MAX_QUEUE_NAME_LEN {
        return Some(format!(
            "queue name is {} bytes, the limit is {MAX_QUEUE_NAME_LEN}",
            name.len()
        ));
    }
    if name.contains('\0') {
        return Some(format!("queue name {name:?} holds a NUL character"));
    }
    None
}

/// Checks one job: a non-empty queue name of at most
/// [`MAX_QUEUE_NAME_LEN`] bytes without NUL, `max_attempts >= 1`, a non-zero timeout,
/// a retry policy whose numbers are finite, a readable cron schedule and
/// spawn configuration, and nothing a builder method refused (such as
/// [`with_spawn_handler`](crate::spawn::JobSpawnExt::with_spawn_handler) on
/// a payload that is not a JSON object).
pub fn validate_job(job: &Job) -> Result<()> {
    let invalid = |reason: String| Error::InvalidJob { id: job.id, reason };
    if let Some(reason) = job.rejection() {
        return Err(invalid(reason.to_string()));
    }
    if let Some(problem) = queue_name_problem(&job.queue_name) {
        return Err(invalid(problem));
    }
    if job.max_attempts < 1 {
        return Err(invalid(format!(
            "max_attempts must be at least 1, got {}",
            job.max_attempts
        )));
    }
    if job.timeout.is_some_and(|t| t.is_zero()) {
        return Err(invalid("timeout must be greater than zero".into()));
    }
    if let Some(policy) = &job.retry_policy {
        policy.check().map_err(invalid)?;
    }
    if let Some(expression) = &job.cron_schedule {
        crate::schedule::CronSchedule::parse(expression)?;
    }
    // A spawn configuration that cannot be read fails now, not when a
    // worker gets to it.
    crate::spawn::SpawnConfig::from_job(job)?;
    Ok(())
}

/// Checks a batch: every job is valid and no id appears twice. (The
/// dependency graph is checked by
/// [`validate_graph`](crate::workflow::validate_graph) once the stored
/// parents are known.)
pub fn validate_jobs(jobs: &[Job]) -> Result<()> {
    let mut seen = HashSet::with_capacity(jobs.len());
    for job in jobs {
        validate_job(job)?;
        if !seen.insert(job.id) {
            return Err(Error::DuplicateJob { id: job.id });
        }
    }
    Ok(())
}

/// Checks what [`Storage::enqueue_jobs`](crate::Storage::enqueue_jobs) is
/// given: [`validate_jobs`], the sizes ([`check_sizes`]), the workflow's cron
/// schedule, and that a job
/// carries a workflow id exactly when the batch creates that workflow (so
/// every counted job is in its workflow's counters, and no job claims a
/// workflow it was not written with). A job of a workflow cannot recur on its
/// own (the workflow recurs as a whole).
pub fn validate_batch(batch: &EnqueueBatch<'_>, limits: &Limits) -> Result<()> {
    validate_jobs(batch.jobs)?;
    check_sizes(batch.jobs, limits)?;
    if let Some(expression) = batch.workflow.and_then(|w| w.cron_schedule.as_ref()) {
        crate::schedule::CronSchedule::parse(expression)?;
    }
    let workflow = batch.workflow.map(|w| w.id);
    for job in batch.jobs {
        if workflow.is_some() && job.cron_schedule.is_some() {
            return Err(Error::InvalidJob {
                id: job.id,
                reason: "a job of a workflow cannot have its own cron schedule; \
                         give the group one with JobGroup::with_cron_schedule"
                    .into(),
            });
        }
        if job.workflow_id != workflow {
            return Err(Error::InvalidJob {
                id: job.id,
                reason: match workflow {
                    Some(id) => format!("a job of workflow {id}'s batch must carry its id"),
                    None => "workflow_id is set only by enqueue_workflow".into(),
                },
            });
        }
    }
    Ok(())
}

/// Checks that no payload of `jobs` is over
/// [`Limits::max_payload_bytes`] and that together they are not over
/// [`Limits::max_batch_bytes`]: [`Error::TooLarge`] naming the job (or the
/// batch) otherwise.
pub fn check_sizes(jobs: &[Job], limits: &Limits) -> Result<()> {
    let mut total = 0usize;
    for job in jobs {
        let bytes = json_len(&job.payload);
        if bytes > limits.max_payload_bytes {
            return Err(Error::TooLarge {
                what: Oversized::Payload(job.id),
                bytes,
                limit: limits.max_payload_bytes,
            });
        }
        total = total.saturating_add(bytes);
    }
    if total > limits.max_batch_bytes {
        return Err(Error::TooLarge {
            what: Oversized::Batch { jobs: jobs.len() },
            bytes: total,
            limit: limits.max_batch_bytes,
        });
    }
    Ok(())
}

/// Checks that the result job `job` returned is not over
/// [`Limits::max_result_bytes`]: [`Error::TooLarge`] naming it otherwise.
pub fn check_result(
    job: crate::JobId,
    result: Option<&serde_json::Value>,
    limits: &Limits,
) -> Result<()> {
    let bytes = result.map_or(0, json_len);
    if bytes > limits.max_result_bytes {
        return Err(Error::TooLarge {
            what: Oversized::Result(job),
            bytes,
            limit: limits.max_result_bytes,
        });
    }
    Ok(())
}

/// The distinct queue names of a batch, in first-seen order (for wakeups).
pub fn distinct_queues(jobs: &[Job]) -> Vec<String> {
    let mut seen = HashSet::new();
    jobs.iter()
        .filter(|job| seen.insert(job.queue_name.as_str()))
        .map(|job| job.queue_name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn rejects_bad_jobs() {
        assert!(validate_job(&Job::new("q", json!(1))).is_ok());
        assert!(matches!(
            validate_job(&Job::new("", json!(1))),
            Err(Error::InvalidJob { reason, .. }) if reason.contains("queue name")
        ));
        assert!(validate_job(&Job::new("x".repeat(256), json!(1))).is_err());
        assert!(matches!(
            validate_job(&Job::new("q", json!(1)).with_max_attempts(0)),
            Err(Error::InvalidJob { reason, .. }) if reason.contains("max_attempts")
        ));
        assert!(validate_job(&Job::new("q", json!(1)).with_timeout(Duration::ZERO)).is_err());
    }

    #[test]
    fn spawn_config_on_a_non_object_payload_is_refused_at_enqueue() {
        use crate::spawn::{JobSpawnExt, SpawnConfig};
        for payload in [json!([1, 2]), json!("text"), json!(7)] {
            let job = Job::new("q", payload.clone()).with_spawn_handler("h");
            assert_eq!(job.payload, payload, "the payload is left as it was");
            assert!(matches!(
                validate_job(&job),
                Err(Error::InvalidJob { reason, .. }) if reason.contains("JSON object")
            ));
            let job = Job::new("q", payload).with_spawn_config(SpawnConfig::default());
            assert!(validate_job(&job).is_err());
        }
        let null = Job::new("q", serde_json::Value::Null).with_spawn_handler("h");
        assert!(validate_job(&null).is_ok(), "null becomes an object");
    }

    #[test]
    fn non_finite_retry_policies_are_refused() {
        use crate::RetryPolicy;
        let second = Duration::from_secs(1);
        for multiplier in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            for policy in [
                RetryPolicy::ExponentialBackoff {
                    initial_delay: second,
                    max_delay: second,
                    multiplier,
                },
                RetryPolicy::ExponentialJitter {
                    initial_delay: second,
                    max_delay: second,
                    multiplier: 2.0,
                    jitter: multiplier,
                },
            ] {
                assert!(
                    matches!(
                        validate_job(&Job::new("q", json!(1)).with_retry_policy(policy.clone())),
                        Err(Error::InvalidJob { reason, .. }) if reason.contains("finite")
                    ),
                    "{policy:?}"
                );
            }
        }
        let fine = RetryPolicy::ExponentialJitter {
            initial_delay: second,
            max_delay: second,
            multiplier: 2.0,
            jitter: 0.5,
        };
        assert!(validate_job(&Job::new("q", json!(1)).with_retry_policy(fine)).is_ok());
    }

    #[test]
    fn rejects_duplicate_ids() {
        let job = Job::new("q", json!(1));
        assert!(matches!(
            validate_jobs(&[job.clone(), job]),
            Err(Error::DuplicateJob { .. })
        ));
    }

    #[test]
    fn workflow_ids_match_the_batch() {
        let mut stray = Job::new("q", json!(1));
        stray.workflow_id = Some(crate::workflow::WorkflowId::new());
        assert!(matches!(
            validate_batch(&EnqueueBatch::jobs(std::slice::from_ref(&stray)), &Limits::default()),
            Err(Error::InvalidJob { reason, .. }) if reason.contains("enqueue_workflow")
        ));
        let group = crate::workflow::JobGroup::new("g").add_job(Job::new("q", json!(1)));
        let record = crate::workflow::Workflow::from_group(&group);
        let jobs = group.into_jobs();
        assert!(
            validate_batch(&EnqueueBatch::workflow(&record, &jobs), &Limits::default()).is_ok()
        );
    }

    #[test]
    fn sizes_over_the_limits_are_refused() {
        let limits = Limits::default()
            .with_max_payload_bytes(100)
            .with_max_batch_bytes(250);
        let job = |n: usize| Job::new("q", json!("x".repeat(n)));
        let big = job(99);
        assert!(matches!(
            check_sizes(std::slice::from_ref(&big), &limits),
            Err(Error::TooLarge { what: Oversized::Payload(id), bytes: 101, limit: 100 }) if id == big.id
        ));
        assert!(check_sizes(&[job(98), job(98)], &limits).is_ok());
        assert!(matches!(
            check_sizes(&[job(98), job(98), job(98)], &limits),
            Err(Error::TooLarge {
                what: Oversized::Batch { jobs: 3 },
                bytes: 300,
                limit: 250
            })
        ));
    }

    #[test]
    fn distinct_queues_keeps_order() {
        let jobs = [
            Job::new("b", json!(1)),
            Job::new("a", json!(1)),
            Job::new("b", json!(1)),
        ];
        assert_eq!(
            distinct_queues(&jobs),
            vec!["b".to_string(), "a".to_string()]
        );
    }
}
