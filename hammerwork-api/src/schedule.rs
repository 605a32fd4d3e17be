//! The scheduler (cron) interface: [`CronSchedule`], the [`Recurrence`]
//! records a backend keeps for recurring jobs and workflows, and
//! [`plan_job_recurrence`] / [`plan_workflow_recurrence`], which build the
//! next occurrence. [`DatabaseQueue::advance_recurrences`](crate::DatabaseQueue::advance_recurrences)
//! drives them; the runtime calls it on a timer.
//!
//! A recurring job or workflow is one occurrence of a *series*. When an
//! occurrence has finished, the scheduler enqueues the next one at the
//! schedule's first time after it finished (or, when that time passed more
//! than [`CONTINUE_GRACE`] before the scheduler looked, after now) and links
//! it from the finished one (`next_occurrence`), in one transaction with
//! marking the finished one as continued, so a series neither forks nor
//! stops when two schedulers race or one crashes. Occurrences that were
//! missed while nothing ran are not caught up. Cancelling an occurrence
//! ends its series.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};

use crate::workflow::{Workflow, WorkflowId, WorkflowStats, WorkflowStatus};
use crate::{DependencyStatus, Error, Job, JobId, JobStatus, Result};

/// The role ([`Storage::try_lead`](crate::Storage::try_lead)) of the one
/// process at a time that continues recurring series.
pub const SCHEDULER_ROLE: &str = "scheduler";

/// A parsed cron expression, evaluated in UTC.
///
/// Five fields (`minute hour day-of-month month day-of-week`), optionally a
/// leading seconds field and a trailing year field, ranges, steps, names
/// (`MON`, `JAN`), `L`, `W`, `#` and the `@daily`-style nicknames; parsed by
/// the `croner` crate.
///
/// ```
/// # use hammerwork_api::schedule::CronSchedule;
/// use chrono::{TimeZone, Utc};
/// let daily = CronSchedule::parse("0 2 * * *").unwrap();
/// let after = Utc.with_ymd_and_hms(2026, 1, 1, 3, 0, 0).unwrap();
/// assert_eq!(daily.next_after(after), Some(Utc.with_ymd_and_hms(2026, 1, 2, 2, 0, 0).unwrap()));
/// assert!(CronSchedule::parse("every tuesday").is_err());
/// ```
#[derive(Clone)]
pub struct CronSchedule {
    expression: String,
    cron: croner::Cron,
}

impl std::fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CronSchedule")
            .field(&self.expression)
            .finish()
    }
}

impl CronSchedule {
    /// Parses `expression`; [`Error::InvalidCron`] names what is wrong.
    pub fn parse(expression: &str) -> Result<Self> {
        Self::parse_with(expression, true)
    }

    /// Parses a stored series' `expression` as it was accepted when it was
    /// enqueued: a list item left empty (refused by [`parse`](Self::parse)
    /// since; croner skips it) does not end a series that ran with it.
    pub fn parse_stored(expression: &str) -> Result<Self> {
        Self::parse_with(expression, false)
    }

    fn parse_with(expression: &str, strict: bool) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidCron {
            expression: expression.to_string(),
            reason,
        };
        // An empty item of a list (",", "1,,2") is a typo (a field of only
        // commas matches nothing, which the check below also finds).
        for (n, field) in expression.split_whitespace().enumerate() {
            if strict && field.split(',').any(str::is_empty) {
                return Err(invalid(format!(
                    "field {} ({field:?}) has an empty list item",
                    n + 1
                )));
            }
        }
        let cron = croner::Cron::from_str(expression).map_err(|e| invalid(e.to_string()))?;
        if let Some(what) = never_matches(&cron.pattern, Utc::now().date_naive()) {
            return Err(invalid(format!("no {what} matches it (within 400 years)")));
        }
        let schedule = CronSchedule {
            expression: expression.to_string(),
            cron,
        };
        // A pattern such as "0 0 30 2 *" parses but never matches.
        if schedule.next_after(Utc::now()).is_none() {
            return Err(invalid("it names no future time".into()));
        }
        Ok(schedule)
    }

    /// The expression as given.
    pub fn as_str(&self) -> &str {
        &self.expression
    }

    /// The first time strictly after `after` that the schedule names, or
    /// `None` when there is none.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after, false)
            .ok()
            .map(|t| t.trunc_subsecs(6))
    }
}

/// Why `pattern` names no time within a 400-year Gregorian cycle from
/// `from` (after which the calendar repeats), if it does not: a time field
/// no value matches, or no date whose year, month and day all match. The
/// date scan skips months and years that do not match and stops at the
/// first date that does, so a usual pattern costs a few checks. Without it,
/// croner would search every date to the year 5000 to find that a pattern
/// never matches (seconds of CPU for, say, a day-of-week field of only `L`).
fn never_matches(pattern: &croner::CronPattern, from: NaiveDate) -> Option<&'static str> {
    let fields = [
        ("seconds", &pattern.seconds),
        ("minutes", &pattern.minutes),
        ("hours", &pattern.hours),
    ];
    if let Some((name, _)) = fields.iter().find(|(_, c)| c.values().is_empty()) {
        return Some(name);
    }
    let year_matches = |y: i32| pattern.year_match(y).unwrap_or(false);
    let month_matches = |m: u32| pattern.month_match(m).unwrap_or(false);
    let mut date = from;
    let end = from.with_year(from.year() + 400).unwrap_or(NaiveDate::MAX);
    while date < end {
        let (year, month) = (date.year(), date.month());
        if !year_matches(year) {
            date = NaiveDate::from_ymd_opt(year + 1, 1, 1)?;
            continue;
        }
        if !month_matches(month) {
            let (y, m) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            date = NaiveDate::from_ymd_opt(y, m, 1)?;
            continue;
        }
        let weekday = croner::Weekday::from_days_from_sunday(date.weekday().num_days_from_sunday());
        if pattern
            .day_match(year, month, date.day(), weekday)
            .unwrap_or(false)
        {
            return None;
        }
        date = date.succ_opt()?;
    }
    Some("date")
}

/// A finished occurrence whose series has not been continued yet, as
/// [`Storage::list_recurrences`](crate::Storage::list_recurrences) returns it.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(clippy::large_enum_variant)] // few at a time, read once
pub enum Recurrence {
    /// A recurring job (one with [`Job::with_cron_schedule`]).
    Job(Job),
    /// A recurring workflow (one whose group had
    /// [`JobGroup::with_cron_schedule`](crate::workflow::JobGroup::with_cron_schedule)).
    Workflow(Workflow),
}

/// Where a listing of recurrences resumes: after these ids, jobs and
/// workflows paged separately, each in id order (keyset paging, so a page of
/// series that cannot move yet never hides the ones after it). The default
/// starts at the beginning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecurrenceCursor {
    /// Only recurring jobs with a greater id.
    pub after_job: Option<JobId>,
    /// Only recurring workflows with a greater id.
    pub after_workflow: Option<crate::workflow::WorkflowId>,
}

impl RecurrenceCursor {
    /// The cursor past `page` (a page read from this cursor).
    pub fn past(self, page: &[Recurrence]) -> Self {
        let mut next = self;
        for recurrence in page {
            match recurrence {
                Recurrence::Job(job) => next.after_job = next.after_job.max(Some(job.id)),
                Recurrence::Workflow(w) => {
                    next.after_workflow = next.after_workflow.max(Some(w.id));
                }
            }
        }
        next
    }
}

/// Which occurrence [`Storage::advance_recurrence`](crate::Storage::advance_recurrence) continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecurrenceSource {
    /// A recurring job.
    Job(JobId),
    /// A recurring workflow.
    Workflow(WorkflowId),
}

impl Recurrence {
    /// The series' finished occurrence, as a source to continue.
    pub fn source(&self) -> RecurrenceSource {
        match self {
            Recurrence::Job(job) => RecurrenceSource::Job(job.id),
            Recurrence::Workflow(w) => RecurrenceSource::Workflow(w.id),
        }
    }
}

/// First wait before a series that failed to move is tried again.
const BACKOFF_FIRST: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

/// Longest wait between tries of a series that keeps failing.
const BACKOFF_MAX: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The scheduler's memory of series that failed to move (a row that cannot
/// be read, a next occurrence the storage refuses): each waits 1 s after its
/// first failure, twice as long after each further one, at most 10 minutes,
/// instead of being tried on every tick; a success forgets it. Kept by the
/// caller of
/// [`advance_recurrences_with`](crate::DatabaseQueue::advance_recurrences_with)
/// from tick to tick.
#[derive(Debug, Clone, Default)]
pub struct SeriesBackoff {
    failing: HashMap<RecurrenceSource, (u32, DateTime<Utc>)>,
}

impl SeriesBackoff {
    /// No series failing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `source` may be tried at `now`.
    pub fn ready(&self, source: RecurrenceSource, now: DateTime<Utc>) -> bool {
        self.failing
            .get(&source)
            .is_none_or(|(_, retry_at)| *retry_at <= now)
    }

    /// Records a failure of `source` at `now`; returns when it may be tried
    /// again.
    pub fn failed(&mut self, source: RecurrenceSource, now: DateTime<Utc>) -> DateTime<Utc> {
        let failures = self.failing.get(&source).map_or(0, |(n, _)| *n) + 1;
        let wait = BACKOFF_FIRST
            .checked_mul(1 << (failures - 1).min(20))
            .unwrap_or(BACKOFF_MAX)
            .min(BACKOFF_MAX);
        let retry_at = now.checked_add_signed(wait).unwrap_or(now);
        self.failing.insert(source, (failures, retry_at));
        retry_at
    }

    /// Forgets `source` (it moved).
    pub fn succeeded(&mut self, source: RecurrenceSource) {
        self.failing.remove(&source);
    }

    /// Forgets the failing series not in `listed` (no longer due).
    pub(crate) fn retain_listed(&mut self, listed: &std::collections::HashSet<RecurrenceSource>) {
        self.failing.retain(|source, _| listed.contains(source));
    }

    /// How many times in a row `source` has failed.
    pub fn failures(&self, source: RecurrenceSource) -> u32 {
        self.failing.get(&source).map_or(0, |(n, _)| *n)
    }
}

/// A stored series' schedule; one that no longer parses ends the series,
/// logged.
fn stored_schedule(expression: &str) -> Option<CronSchedule> {
    CronSchedule::parse_stored(expression)
        .map_err(
            |error| tracing::warn!(%error, "a recurring series ends: its schedule does not parse"),
        )
        .ok()
}

/// How long after a series' next time the scheduler may still enqueue the
/// occurrence for that time (due at once) rather than for the first time
/// after now: one tick of the scheduler at its default interval. The
/// scheduler looks once a tick, at no particular point of a second; an
/// every-second job that finished in the second before would otherwise be
/// pushed a second further whenever the tick came just before it finished.
pub const CONTINUE_GRACE: chrono::Duration = chrono::Duration::seconds(1);

/// The time of the occurrence that follows one that finished at `finished`
/// (if known), as planned at `now`: the schedule's first time after the
/// finish, unless that passed more than [`CONTINUE_GRACE`] ago; then its
/// first time after `now`.
fn next_time(
    schedule: &CronSchedule,
    finished: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    finished
        .filter(|finished| *finished <= now)
        .and_then(|finished| schedule.next_after(finished))
        .filter(|at| *at >= now - CONTINUE_GRACE)
        .or_else(|| schedule.next_after(now))
}

/// What to do with a finished recurring job.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one at a time
pub enum JobRecurrencePlan {
    /// Enqueue this job as the next occurrence.
    Next(Job),
    /// The series ends here (the occurrence was cancelled, or the schedule
    /// names no later time).
    End,
    /// A parent of the job recurs too and its own next occurrence is not
    /// enqueued yet; plan again after it is.
    WaitForParent(JobId),
}

/// Plans the occurrence that follows the finished recurring `job` at `now`
/// (at the schedule's first time after it finished; see [`CONTINUE_GRACE`]).
///
/// `parents` are the jobs `job` depended on, each resolved to the newest
/// occurrence of its series (a parent that does not recur is passed as it
/// is). The next occurrence depends on the current occurrence of every parent
/// that recurs, so "report daily at 8, after the 2 AM extract" keeps waiting
/// for each day's extract; a parent that does not recur ran once and is not
/// waited for again.
pub fn plan_job_recurrence(job: &Job, parents: &[Job], now: DateTime<Utc>) -> JobRecurrencePlan {
    let Some(schedule) = job.cron_schedule.as_deref().and_then(stored_schedule) else {
        return JobRecurrencePlan::End;
    };
    if job.status == JobStatus::Cancelled {
        return JobRecurrencePlan::End;
    }
    let Some(at) = next_time(&schedule, job.completed_at.or(job.failed_at), now) else {
        return JobRecurrencePlan::End;
    };
    let mut depends_on = Vec::new();
    for parent in parents.iter().filter(|p| p.cron_schedule.is_some()) {
        if parent.next_occurrence.is_none() && parent.status.is_terminal() {
            if parent.status == JobStatus::Cancelled {
                continue;
            }
            return JobRecurrencePlan::WaitForParent(parent.id);
        }
        depends_on.push(parent.id);
    }
    let mut next = successor(job, JobId::new(), at);
    next.workflow_id = None;
    next.depends_on = depends_on;
    if !next.depends_on.is_empty() {
        next.dependency_status = DependencyStatus::Waiting;
    }
    JobRecurrencePlan::Next(next)
}

/// Plans the occurrence that follows the finished recurring workflow `w` at
/// `now`, given all of its jobs: a new workflow with the same name,
/// description, policy, timeout and schedule, and a copy of every job with
/// new ids, the same dependencies between them and conditions, all scheduled
/// at the next time the schedule names. Dependencies on jobs outside the
/// workflow are not carried over. `None` ends the series (the workflow was
/// cancelled as a whole, or the schedule names no later time; an occurrence
/// of which an operator cancelled single jobs is followed by the next).
pub fn plan_workflow_recurrence(
    w: &Workflow,
    jobs: &[Job],
    now: DateTime<Utc>,
) -> Option<(Workflow, Vec<Job>)> {
    if w.state == WorkflowStatus::Cancelled {
        return None;
    }
    let schedule = stored_schedule(w.cron_schedule.as_deref()?)?;
    let finished = jobs
        .iter()
        .filter_map(|j| j.completed_at.or(j.failed_at))
        .max();
    let at = next_time(&schedule, finished, now)?;
    let next_workflow = Workflow {
        id: WorkflowId::new(),
        state: WorkflowStatus::Running,
        stats: WorkflowStats::default(),
        created_at: now,
        deadline_at: w.timeout.map(|t| crate::later(at, t)),
        next_occurrence: None,
        ..w.clone()
    };
    let ids: HashMap<JobId, JobId> = jobs.iter().map(|j| (j.id, JobId::new())).collect();
    let next_jobs = jobs
        .iter()
        .map(|job| {
            let mut next = successor(job, ids[&job.id], at);
            next.workflow_id = Some(next_workflow.id);
            next.depends_on = job
                .depends_on
                .iter()
                .filter_map(|p| ids.get(p).copied())
                .collect();
            next.dependency_status = if next.depends_on.is_empty() {
                DependencyStatus::None
            } else {
                DependencyStatus::Waiting
            };
            next
        })
        .collect();
    Some((next_workflow, next_jobs))
}

/// A fresh pending copy of `job`'s definition (queue, payload, priority,
/// attempts allowed, timeout, retry policy, trace and correlation ids,
/// condition, schedule) with id `id`, runnable at `at`.
fn successor(job: &Job, id: JobId, at: DateTime<Utc>) -> Job {
    let mut next = Job::new(job.queue_name.clone(), job.payload.clone())
        .with_priority(job.priority)
        .with_max_attempts(job.max_attempts)
        .scheduled_at(at);
    next.id = id;
    next.timeout = job.timeout;
    next.retry_policy = job.retry_policy.clone();
    next.trace_id = job.trace_id.clone();
    next.correlation_id = job.correlation_id.clone();
    next.condition = job.condition.clone();
    next.cron_schedule = job.cron_schedule.clone();
    next
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, m, 0).unwrap()
    }

    #[test]
    fn the_next_time_follows_the_finish_within_the_grace() {
        let every_second = CronSchedule::parse("* * * * * *").unwrap();
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 5).unwrap();
        let ms = chrono::Duration::milliseconds;
        // Finished 20 ms into second 5, looked at 10 ms into second 6: the
        // next occurrence is second 6, not 7.
        let next = next_time(&every_second, Some(t + ms(20)), t + ms(1010));
        assert_eq!(next, Some(t + ms(1000)));
        // Looked at more than the grace after that time: the first time
        // after now (missed occurrences are not caught up).
        let next = next_time(&every_second, Some(t + ms(20)), t + ms(2500));
        assert_eq!(next, Some(t + ms(3000)));
        // No finish time known, or one after now (clocks apart): after now.
        assert_eq!(
            next_time(&every_second, None, t + ms(10)),
            Some(t + ms(1000))
        );
        let next = next_time(&every_second, Some(t + ms(3000)), t + ms(10));
        assert_eq!(next, Some(t + ms(1000)));
        let daily = CronSchedule::parse("0 2 * * *").unwrap();
        assert_eq!(
            next_time(&daily, Some(at(1, 59)), at(2, 0) + ms(400)),
            Some(at(2, 0))
        );
        assert_eq!(
            next_time(&daily, Some(at(1, 0)), at(3, 0)),
            Some(at(2, 0) + chrono::Duration::days(1))
        );
    }

    #[test]
    fn bad_expressions_are_typed_errors() {
        for bad in ["", "every day", "61 * * * *", "* * * *", "0 0 30 2 *"] {
            assert!(
                matches!(CronSchedule::parse(bad), Err(Error::InvalidCron { .. })),
                "{bad:?} was accepted"
            );
        }
        assert!(CronSchedule::parse("*/15 * * * * *").is_ok());
        assert!(CronSchedule::parse("@daily").is_ok());
        // Found by the cron fuzz target: a field of only commas parsed as a
        // set that never matches, and proving that took croner a search
        // over millennia (0.27 s; over 12 s instrumented).
        let empty_day = "0 2 2 \t 1 +";
        match CronSchedule::parse(empty_day) {
            Err(Error::InvalidCron { reason, .. }) => {
                assert!(reason.contains("no date matches"), "{reason}")
            }
            other => panic!("{empty_day:?}: {other:?}"),
        }
        // A day-of-week of only `L` (found by the fuzz target as well).
        assert!(CronSchedule::parse("00 12 * 1 L").is_err());
        // Stored before empty items were refused: the series goes on.
        assert!(CronSchedule::parse_stored("0 1,,2 * * *").is_ok());
        assert!(CronSchedule::parse_stored("0 , * L * *").is_err());
        for empty in ["0 , * L * *", "0 1,,2 * * *", "0 ,5 * * *"] {
            match CronSchedule::parse(empty) {
                Err(Error::InvalidCron { reason, .. }) => {
                    assert!(reason.contains("empty list item"), "{reason}")
                }
                other => panic!("{empty:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn next_job_keeps_definition_and_follows_recurring_parents() {
        let extract = Job::new("extract", json!({})).with_cron_schedule("0 2 * * *");
        let once = Job::new("setup", json!({}));
        let mut report = Job::new("report", json!({"k": 1}))
            .depends_on(&extract.id)
            .depends_on(&once.id)
            .with_cron_schedule("0 8 * * *");
        report.status = JobStatus::Completed;

        // The extract's series has not moved on yet: wait for it.
        let mut done_extract = extract.clone();
        done_extract.status = JobStatus::Completed;
        let plan = plan_job_recurrence(&report, &[done_extract, once.clone()], at(9, 0));
        assert!(matches!(plan, JobRecurrencePlan::WaitForParent(id) if id == extract.id));

        // Its next occurrence exists: depend on that, drop the one-off parent.
        let next_extract = Job::new("extract", json!({})).with_cron_schedule("0 2 * * *");
        let JobRecurrencePlan::Next(next) =
            plan_job_recurrence(&report, &[next_extract.clone(), once], at(9, 0))
        else {
            panic!("expected a next occurrence")
        };
        assert_eq!(next.depends_on, vec![next_extract.id]);
        assert_eq!(next.dependency_status, DependencyStatus::Waiting);
        assert_eq!(
            next.scheduled_at,
            Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
        );
        assert_eq!(next.payload, json!({"k": 1}));
        assert_eq!(next.cron_schedule.as_deref(), Some("0 8 * * *"));
        assert_ne!(next.id, report.id);

        report.status = JobStatus::Cancelled;
        assert!(matches!(
            plan_job_recurrence(&report, &[], at(9, 0)),
            JobRecurrencePlan::End
        ));
    }
}
