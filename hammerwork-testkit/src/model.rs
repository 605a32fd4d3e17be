//! A property-based model test: random dependency graphs with random
//! outcomes, run through a real [`Storage`] and compared, step by step and
//! job by job, with a small pure reference model.
//!
//! A [`Scenario`] is up to twelve jobs forming a DAG (each job depends on a
//! random subset of the jobs before it), either as one workflow
//! ([`JobGroup`] with a random [`FailurePolicy`]), as plain jobs with
//! `depends_on` (enqueued in one batch, or in two with the second batch
//! depending on stored jobs), or as plain jobs followed later by a workflow
//! depending on them (see [`Kind`]). Jobs may carry a condition over their
//! parents' results; each claim of a job has a scripted outcome (complete
//! with a result, fail with or without a retry, cancel, give back, or crash
//! so its lease expires); an operator may cancel one job or the workflow at
//! a given round, and a workflow may be retried once it has settled.
//!
//! [`run_model_case`] drives the scenario: every round it claims everything
//! claimable in the scenario's queue, settles the claimed attempts with their
//! scripted outcomes (all in one call, or one call each), rescues the
//! crashed ones, and stops when nothing is claimable, running or scheduled.
//! The [`Model`] takes the same steps; every claim set and every count a call
//! returns is compared as it happens, and at the end each job's status and
//! the workflow's status and counters.
//!
//! [`check_model`] runs many random scenarios with proptest (shrinking a
//! failure to a small scenario, printed with the seed to replay it).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use hammerwork_api::workflow::{FailurePolicy, JobGroup, WorkflowStats, WorkflowStatus};
use hammerwork_api::{
    ClaimParams, DatabaseQueue, Error, Job, JobId, JobStatus, Lease, ListJobsParams, Outcome,
    Settlement, Storage,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::json;

/// Environment variable: how many random scenarios [`check_model`] runs when
/// a test reads it with [`cases_from_env`] (default [`DEFAULT_CASES`]).
pub const CASES_VAR: &str = "HAMMERWORK_MODEL_CASES";
/// Environment variable: the seed of the scenario generator (a `u64`); a
/// random one when unset. A failure prints the seed it ran with.
pub const SEED_VAR: &str = "HAMMERWORK_MODEL_SEED";
/// Scenarios run when [`CASES_VAR`] is unset.
pub const DEFAULT_CASES: u32 = 500;

/// Most jobs in one scenario.
const MAX_JOBS: usize = 12;
/// Most scripted outcomes per job; later claims complete.
const MAX_STEPS: usize = 4;
/// Rounds after which a scenario that still has work fails (a long one
/// needs about 60: a chain of 12 jobs, a few claims each, run three times).
const MAX_ROUNDS: usize = 200;
/// Lease given by each claim; a crashed attempt is rescued past it.
const LEASE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// How one claimed attempt of a job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Completes with result `{"j<index>": value}` (what conditions read).
    Complete(i64),
    /// Fails: with `retry`, `retry_at` is now (the job is `Retrying` while it
    /// has attempts left, else `Dead`); without, `retry_at` is `None` (`Dead`).
    Fail {
        /// Whether the failure asks for a retry.
        retry: bool,
    },
    /// The worker cancels the job (`Outcome::Cancelled`).
    Cancel,
    /// The worker gives the job back (`Outcome::GiveBack`).
    GiveBack {
        /// Whether the handler had started (the attempt then counts).
        started: bool,
    },
    /// The worker dies: nothing is settled, the lease expires and the job is
    /// rescued (`Pending`, or `Dead` on its last attempt).
    Crash,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Complete(v) => write!(f, "complete({v})"),
            Step::Fail { retry: true } => f.write_str("fail(retry)"),
            Step::Fail { retry: false } => f.write_str("fail"),
            Step::Cancel => f.write_str("cancel"),
            Step::GiveBack { started: true } => f.write_str("give-back(started)"),
            Step::GiveBack { started: false } => f.write_str("give-back(unstarted)"),
            Step::Crash => f.write_str("crash"),
        }
    }
}

/// A comparison in a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Ge => ">=",
        }
    }

    /// `value op k`, where `value` is `None` for a path that does not
    /// resolve (JSON `null`): `null` equals no number and orders with none.
    fn holds(self, value: Option<i64>, k: i64) -> bool {
        match (self, value) {
            (CmpOp::Eq, Some(v)) => v == k,
            (CmpOp::Ne, Some(v)) => v != k,
            (CmpOp::Lt, Some(v)) => v < k,
            (CmpOp::Ge, Some(v)) => v >= k,
            (CmpOp::Ne, None) => true,
            (_, None) => false,
        }
    }
}

/// `j<job> <op> <k>`: compares the result field of job `job` (an earlier
/// job, a parent or not) with a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clause {
    /// The job whose result field `j<job>` is read.
    pub job: usize,
    /// The comparison.
    pub op: CmpOp,
    /// The number compared with.
    pub k: i64,
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "j{} {} {}", self.job, self.op.symbol(), self.k)
    }
}

/// A job's condition: one clause on a parent, optionally joined with a second
/// clause (on any earlier job: a non-parent's field is `null`), optionally
/// negated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cond {
    /// The first clause (always on a parent).
    pub first: Clause,
    /// `(or, clause)`: `|| clause` when `or`, else `&& clause`.
    pub second: Option<(bool, Clause)>,
    /// Wrapped in `!( ... )`.
    pub negate: bool,
}

impl Cond {
    /// The condition as the job stores it.
    pub fn expression(&self) -> String {
        let mut expr = self.first.to_string();
        if let Some((or, clause)) = self.second {
            let join = if or { "||" } else { "&&" };
            expr = format!("{expr} {join} {clause}");
        }
        if self.negate {
            expr = format!("!({expr})");
        }
        expr
    }

    /// Evaluates over the parents' results (`results[job]` for a parent's
    /// field, `None` for anything else).
    fn holds(&self, field: impl Fn(usize) -> Option<i64>) -> bool {
        let clause = |c: &Clause| c.op.holds(field(c.job), c.k);
        let mut value = clause(&self.first);
        if let Some((or, second)) = &self.second {
            value = if *or {
                value || clause(second)
            } else {
                value && clause(second)
            };
        }
        value != self.negate
    }
}

/// One job of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSpec {
    /// The jobs it depends on (indices, ascending, all smaller than its own).
    pub parents: Vec<usize>,
    /// Its condition over its parents' results (only when it has parents).
    pub condition: Option<Cond>,
    /// 1 (one failure is final) or 2.
    pub max_attempts: i32,
    /// The outcome of its first, second ... claim; claims past the end
    /// complete with result 1.
    pub steps: Vec<Step>,
    /// Order of its settlement within a round when settling one at a time
    /// (lower first, then by index).
    pub rank: u8,
}

impl JobSpec {
    /// The outcome of claim number `claim` (1-based).
    pub fn step(&self, claim: i64) -> Step {
        usize::try_from(claim - 1)
            .ok()
            .and_then(|i| self.steps.get(i).copied())
            .unwrap_or(Step::Complete(1))
    }
}

/// How the jobs are enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One workflow with this failure policy, in one `enqueue_workflow`.
    Workflow(FailurePolicy),
    /// Plain jobs with `depends_on`, no workflow: with `late`, jobs
    /// `from..` are enqueued in a second `enqueue_many` at the start of
    /// round `round` (depending on stored jobs, some of them finished).
    Plain {
        /// `(from, round)` for a second batch.
        late: Option<(usize, usize)>,
    },
    /// Plain jobs `..from` in one `enqueue_many`, then jobs `from..` as one
    /// workflow with this failure policy, enqueued at the start of round
    /// `round` (its jobs may depend on the stored plain jobs, some of them
    /// finished: a plain job's death reaches into the workflow).
    PlainThenWorkflow {
        /// The workflow's failure policy.
        policy: FailurePolicy,
        /// Its first job.
        from: usize,
        /// The round it is enqueued at.
        round: usize,
    },
}

impl Kind {
    /// The workflow's failure policy, if there is a workflow.
    pub fn policy(&self) -> Option<FailurePolicy> {
        match *self {
            Kind::Workflow(policy) | Kind::PlainThenWorkflow { policy, .. } => Some(policy),
            Kind::Plain { .. } => None,
        }
    }

    /// Whether job `i` belongs to the workflow.
    pub fn in_workflow(&self, i: usize) -> bool {
        match *self {
            Kind::Workflow(_) => true,
            Kind::Plain { .. } => false,
            Kind::PlainThenWorkflow { from, .. } => i >= from,
        }
    }

    /// `(from, round)`: jobs `from..` are enqueued at the start of round
    /// `round`, the others before the first.
    pub fn second_batch(&self) -> Option<(usize, usize)> {
        match *self {
            Kind::Workflow(_) => None,
            Kind::Plain { late } => late,
            Kind::PlainThenWorkflow { from, round, .. } => Some((from, round)),
        }
    }
}

/// What an operator does, right after the claim of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `cancel_job` of this job (it may be waiting, claimable, running,
    /// finished, or not enqueued yet).
    CancelJob(usize),
    /// `cancel_workflow` of the scenario's workflow (with a workflow only;
    /// it may not be enqueued yet).
    CancelWorkflow,
}

/// An operator's action at a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    /// The round.
    pub round: usize,
    /// What is done.
    pub action: Action,
}

/// One generated case: the graph, the outcomes, and how it is driven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Workflow or plain jobs.
    pub kind: Kind,
    /// The jobs, in enqueue order.
    pub jobs: Vec<JobSpec>,
    /// Settle each round's attempts in one `settle_jobs` call (else one call
    /// per attempt, by rank).
    pub batch_settle: bool,
    /// An operator's action.
    pub operator: Option<Operator>,
    /// How many times (0-2) `retry_workflow` is called once the workflow has
    /// settled with dead or cancelled jobs (with a workflow only).
    pub retries: u8,
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Workflow(policy) => writeln!(f, "workflow, {policy:?}")?,
            Kind::Plain { late: None } => writeln!(f, "plain jobs, one batch")?,
            Kind::Plain {
                late: Some((from, round)),
            } => writeln!(
                f,
                "plain jobs, j{from}.. enqueued at the start of round {round}"
            )?,
            Kind::PlainThenWorkflow {
                policy,
                from,
                round,
            } => writeln!(
                f,
                "plain jobs ..j{}, then j{from}.. a workflow ({policy:?}) enqueued at the start of round {round}",
                from - 1
            )?,
        }
        let settle = if self.batch_settle {
            "one settle_jobs call per round"
        } else {
            "one settle_jobs call per attempt, by rank"
        };
        writeln!(f, "{settle}")?;
        match self.operator {
            Some(Operator {
                round,
                action: Action::CancelJob(job),
            }) => writeln!(f, "cancel_job(j{job}) after the claim of round {round}")?,
            Some(Operator {
                round,
                action: Action::CancelWorkflow,
            }) => writeln!(f, "cancel_workflow after the claim of round {round}")?,
            None => {}
        }
        if self.retries > 0 {
            writeln!(f, "retry_workflow up to {} time(s)", self.retries)?;
        }
        for (i, job) in self.jobs.iter().enumerate() {
            write!(f, "  j{i}:")?;
            if !job.parents.is_empty() {
                let parents: Vec<String> = job.parents.iter().map(|p| format!("j{p}")).collect();
                write!(f, " after [{}]", parents.join(", "))?;
            }
            if let Some(cond) = &job.condition {
                write!(f, " if `{}`", cond.expression())?;
            }
            let steps: Vec<String> = job.steps.iter().map(Step::to_string).collect();
            writeln!(
                f,
                " max_attempts {} steps [{}] rank {}",
                job.max_attempts,
                steps.join(", "),
                job.rank
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/// A job as generated: indices are taken modulo what exists, so a shrunk
/// scenario (jobs removed) stays valid.
#[derive(Debug, Clone)]
struct RawJob {
    parents: u16,
    sparse: u16,
    condition: Option<RawCond>,
    max_attempts: i32,
    steps: Vec<Step>,
    rank: u8,
}

#[derive(Debug, Clone)]
struct RawCond {
    parent: usize,
    op: CmpOp,
    k: i64,
    second: Option<(bool, usize, CmpOp, i64)>,
    negate: bool,
}

#[derive(Debug, Clone)]
struct RawScenario {
    jobs: Vec<RawJob>,
    workflow: Option<FailurePolicy>,
    late: Option<(usize, usize)>,
    batch_settle: bool,
    operator: Option<(usize, bool, usize)>,
    retries: u8,
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0i64..3).prop_map(Step::Complete),
        3 => any::<bool>().prop_map(|retry| Step::Fail { retry }),
        1 => Just(Step::Cancel),
        1 => any::<bool>().prop_map(|started| Step::GiveBack { started }),
        1 => Just(Step::Crash),
    ]
}

fn op_strategy() -> impl Strategy<Value = CmpOp> {
    prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Ge)
    ]
}

fn cond_strategy() -> impl Strategy<Value = RawCond> {
    (
        any::<usize>(),
        op_strategy(),
        0i64..3,
        proptest::option::weighted(0.4, (any::<bool>(), any::<usize>(), op_strategy(), 0i64..3)),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(parent, op, k, second, negate)| RawCond {
            parent,
            op,
            k,
            second,
            negate,
        })
}

fn job_strategy() -> impl Strategy<Value = RawJob> {
    (
        any::<u16>(),
        any::<u16>(),
        proptest::option::weighted(0.35, cond_strategy()),
        1i32..=2,
        prop::collection::vec(step_strategy(), 1..=MAX_STEPS),
        any::<u8>(),
    )
        .prop_map(
            |(parents, sparse, condition, max_attempts, steps, rank)| RawJob {
                parents,
                sparse,
                condition,
                max_attempts,
                steps,
                rank,
            },
        )
}

fn policy_strategy() -> impl Strategy<Value = FailurePolicy> {
    prop_oneof![
        Just(FailurePolicy::FailFast),
        Just(FailurePolicy::ContinueOnFailure),
        Just(FailurePolicy::Manual),
    ]
}

impl RawScenario {
    fn normalize(self) -> Scenario {
        let n = self.jobs.len();
        let jobs = self
            .jobs
            .into_iter()
            .enumerate()
            .map(|(i, raw)| {
                // Each earlier job is a parent with probability 1/4. Bit k
                // names the job k + 1 places back, so removing a job while
                // shrinking keeps the edges between the jobs after it.
                let mask = raw.parents & raw.sparse;
                let mut parents: Vec<usize> = (0..i.min(16))
                    .filter(|k| mask & (1 << k) != 0)
                    .map(|k| i - 1 - k)
                    .collect();
                parents.sort_unstable();
                let condition = match (&raw.condition, parents.is_empty()) {
                    (Some(c), false) => Some(Cond {
                        first: Clause {
                            job: parents[c.parent % parents.len()],
                            op: c.op,
                            k: c.k,
                        },
                        second: c.second.map(|(or, job, op, k)| {
                            (
                                or,
                                Clause {
                                    job: i - 1 - job % i,
                                    op,
                                    k,
                                },
                            )
                        }),
                        negate: c.negate,
                    }),
                    _ => None,
                };
                JobSpec {
                    parents,
                    condition,
                    max_attempts: raw.max_attempts,
                    steps: raw.steps,
                    rank: raw.rank,
                }
            })
            .collect();
        let late = self
            .late
            .filter(|_| n >= 2)
            .map(|(from, round)| (1 + from % (n - 1), round));
        let kind = match (self.workflow, late) {
            (Some(policy), Some((from, round))) => Kind::PlainThenWorkflow {
                policy,
                from,
                round,
            },
            (Some(policy), None) => Kind::Workflow(policy),
            (None, late) => Kind::Plain { late },
        };
        let workflow = kind.policy().is_some();
        Scenario {
            kind,
            jobs,
            batch_settle: self.batch_settle,
            operator: self.operator.map(|(round, whole, job)| Operator {
                round,
                action: if whole && workflow {
                    Action::CancelWorkflow
                } else {
                    Action::CancelJob(job % n)
                },
            }),
            retries: if workflow { self.retries } else { 0 },
        }
    }
}

/// The generator of scenarios: 1 to 12 jobs, half of the cases a workflow.
pub fn scenario_strategy() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(job_strategy(), 1..=MAX_JOBS),
        proptest::option::of(policy_strategy()),
        proptest::option::weighted(0.4, (any::<usize>(), 0usize..6)),
        any::<bool>(),
        proptest::option::weighted(
            0.4,
            (0usize..5, proptest::bool::weighted(0.3), any::<usize>()),
        ),
        prop_oneof![2 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
    )
        .prop_map(|(jobs, workflow, late, batch_settle, operator, retries)| {
            RawScenario {
                jobs,
                workflow,
                late,
                batch_settle,
                operator,
                retries,
            }
            .normalize()
        })
}

// ---------------------------------------------------------------------------
// The reference model
// ---------------------------------------------------------------------------

/// A job's dependency state in the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dep {
    /// No dependencies.
    None,
    /// Waiting for `pending` parents (or, at zero, for its condition).
    Waiting,
    /// Released.
    Satisfied,
    /// A parent failed, was skipped or cancelled.
    Failed,
}

#[derive(Debug, Clone)]
struct ModelJob {
    stored: bool,
    status: JobStatus,
    dep: Dep,
    pending: i32,
    attempts: i32,
    claims: i64,
    result: Option<i64>,
}

/// What a transition needs to be followed: the job, its new status, and
/// whether it may have dependents (false for jobs ended at enqueue: their
/// dependents in the batch were planned ended already).
type Transition = (usize, JobStatus, bool);

/// What the model predicts of `cancel_job`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelResult {
    /// `Ok(true)`: it was unfinished and is now `Cancelled`.
    Cancelled,
    /// `Ok(false)`: it had finished.
    Finished,
    /// `Err(Error::NotFound)`: not enqueued (yet).
    NotFound,
}

/// The reference model: the documented rules of claims, settlements,
/// dependencies, conditions, failure policies, cancellation (of a job, of the
/// workflow), lease rescue and workflow retry, over a scenario's jobs, with
/// no storage.
///
/// Each method is one [`Storage`] call and returns what that call returns.
/// The order in which one call's consequences are followed is the engine's
/// (`hammerwork-engine/src/follow.rs`): completions release their dependents
/// first (a false condition skips), then skipped jobs end their unstarted
/// transitive dependents as `Skipped`, then dead jobs apply their failure
/// policy, then cancelled jobs end theirs as `Cancelled`.
#[derive(Debug, Clone)]
pub struct Model<'s> {
    scenario: &'s Scenario,
    jobs: Vec<ModelJob>,
    /// The workflow's stored state (`Running`, `Paused`, `Failed`,
    /// `Cancelled`).
    state: WorkflowStatus,
    /// Dependents of each job, among the stored jobs.
    dependents: Vec<Vec<usize>>,
}

fn unstarted(status: JobStatus) -> bool {
    matches!(status, JobStatus::Pending | JobStatus::Retrying)
}

fn unfinished(status: JobStatus) -> bool {
    matches!(
        status,
        JobStatus::Pending | JobStatus::Retrying | JobStatus::Running
    )
}

impl<'s> Model<'s> {
    /// The model of `scenario` before anything is enqueued.
    pub fn new(scenario: &'s Scenario) -> Self {
        let n = scenario.jobs.len();
        Model {
            scenario,
            jobs: vec![
                ModelJob {
                    stored: false,
                    status: JobStatus::Pending,
                    dep: Dep::None,
                    pending: 0,
                    attempts: 0,
                    claims: 0,
                    result: None,
                };
                n
            ],
            state: WorkflowStatus::Running,
            dependents: vec![Vec::new(); n],
        }
    }

    fn in_workflow(&self, i: usize) -> bool {
        self.scenario.kind.in_workflow(i)
    }

    /// The workflow's jobs (none without a workflow).
    fn workflow_jobs(&self) -> impl Iterator<Item = (usize, &ModelJob)> {
        self.jobs
            .iter()
            .enumerate()
            .filter(|(i, _)| self.in_workflow(*i))
    }

    /// Cancels the workflow's unfinished jobs (running ones included) and
    /// follows them.
    fn cancel_workflow_jobs(&mut self) {
        let mut cancelled = Vec::new();
        for i in 0..self.jobs.len() {
            if self.in_workflow(i) && self.jobs[i].stored && unfinished(self.jobs[i].status) {
                self.jobs[i].status = JobStatus::Cancelled;
                cancelled.push((i, JobStatus::Cancelled, true));
            }
        }
        self.follow(cancelled);
    }

    fn spec(&self, i: usize) -> &JobSpec {
        &self.scenario.jobs[i]
    }

    /// Whether `cond` of job `i` holds over its parents' results.
    fn condition_holds(&self, i: usize, cond: &Cond) -> bool {
        let parents = &self.spec(i).parents;
        cond.holds(|job| {
            if parents.contains(&job) && self.jobs[job].status == JobStatus::Completed {
                self.jobs[job].result
            } else {
                None
            }
        })
    }

    /// `enqueue_many` / `enqueue_workflow` of jobs `range`: each job's initial
    /// state from its parents (in the batch: as planned; stored: their
    /// status): a dead parent makes it `Dead`, else the first cancelled or
    /// skipped parent (in `depends_on` order) `Cancelled` / `Skipped`; any
    /// unfinished parent makes it wait; all parents completed evaluates its
    /// condition at once.
    pub fn enqueue(&mut self, range: std::ops::Range<usize>) {
        let mut ended = Vec::new();
        for i in range {
            let parents = self.spec(i).parents.clone();
            let mut pending = 0;
            let mut blocked: Option<JobStatus> = None;
            for &p in &parents {
                match self.jobs[p].status {
                    JobStatus::Completed => {}
                    JobStatus::Dead => blocked = Some(JobStatus::Dead),
                    s @ (JobStatus::Cancelled | JobStatus::Skipped) => {
                        blocked.get_or_insert(s);
                    }
                    _ => pending += 1,
                }
                self.dependents[p].push(i);
            }
            let condition = self.spec(i).condition;
            let job = &mut self.jobs[i];
            job.stored = true;
            job.pending = pending;
            if parents.is_empty() {
                job.dep = Dep::None;
            } else if let Some(status) = blocked {
                job.status = status;
                job.dep = Dep::Failed;
                ended.push((i, status, false));
            } else if pending > 0 {
                job.dep = Dep::Waiting;
            } else {
                job.dep = Dep::Satisfied;
                let runs = condition.is_none_or(|c| self.condition_holds(i, &c));
                if !runs {
                    self.jobs[i].status = JobStatus::Skipped;
                    ended.push((i, JobStatus::Skipped, false));
                }
            }
        }
        self.follow(ended);
    }

    /// `claim_jobs` of everything claimable: stored, `Pending` or
    /// `Retrying`, and depending on nothing or released. Returns the jobs
    /// claimed.
    pub fn claim(&mut self) -> BTreeSet<usize> {
        let mut claimed = BTreeSet::new();
        for (i, job) in self.jobs.iter_mut().enumerate() {
            if job.stored && unstarted(job.status) && matches!(job.dep, Dep::None | Dep::Satisfied)
            {
                job.status = JobStatus::Running;
                job.attempts += 1;
                job.claims += 1;
                claimed.insert(i);
            }
        }
        claimed
    }

    /// Job `i`'s status (`Pending` before it is enqueued).
    pub fn status(&self, i: usize) -> JobStatus {
        self.jobs[i].status
    }

    /// The claim number of job `i`'s current (or last) claim.
    pub fn claims(&self, i: usize) -> i64 {
        self.jobs[i].claims
    }

    /// `settle_jobs` of these attempts (each the job's latest claim) with
    /// these steps (never [`Step::Crash`]), in one call: each applies only
    /// if the job is still running. Returns how many applied.
    pub fn settle(&mut self, attempts: &[(usize, Step)]) -> u64 {
        let mut transitions = Vec::new();
        for &(i, step) in attempts {
            let max_attempts = self.spec(i).max_attempts;
            let job = &mut self.jobs[i];
            if job.status != JobStatus::Running {
                continue;
            }
            job.status = match step {
                Step::Complete(v) => {
                    job.result = Some(v);
                    JobStatus::Completed
                }
                Step::Fail { retry: true } if job.attempts < max_attempts => JobStatus::Retrying,
                Step::Fail { .. } => JobStatus::Dead,
                Step::Cancel => JobStatus::Cancelled,
                Step::GiveBack { started: true } if job.attempts >= max_attempts => JobStatus::Dead,
                Step::GiveBack { started } => {
                    if !started {
                        job.attempts -= 1;
                    }
                    JobStatus::Pending
                }
                Step::Crash => unreachable!("a crashed attempt is not settled"),
            };
            transitions.push((i, job.status, true));
        }
        let changed = transitions.len() as u64;
        self.follow(transitions);
        changed
    }

    /// `rescue_expired_jobs` past every lease: each running job goes back to
    /// `Pending`, or is `Dead` on its last attempt. Returns how many.
    pub fn rescue(&mut self) -> u64 {
        let mut transitions = Vec::new();
        for i in 0..self.jobs.len() {
            let max_attempts = self.spec(i).max_attempts;
            let job = &mut self.jobs[i];
            if job.status == JobStatus::Running {
                job.status = if job.attempts >= max_attempts {
                    JobStatus::Dead
                } else {
                    JobStatus::Pending
                };
                transitions.push((i, job.status, true));
            }
        }
        let rescued = transitions.len() as u64;
        self.follow(transitions);
        rescued
    }

    /// `cancel_job` of job `i`.
    pub fn cancel(&mut self, i: usize) -> CancelResult {
        let job = &mut self.jobs[i];
        if !job.stored {
            return CancelResult::NotFound;
        }
        if !unfinished(job.status) {
            return CancelResult::Finished;
        }
        job.status = JobStatus::Cancelled;
        self.follow(vec![(i, JobStatus::Cancelled, true)]);
        CancelResult::Cancelled
    }

    /// `cancel_workflow`: a paused workflow, or a running one with jobs
    /// unfinished, is `Cancelled` with every unfinished job (running ones
    /// included; their dependents follow); `false` for any other.
    /// `None` when the workflow is not enqueued yet (`WorkflowNotFound`).
    pub fn cancel_workflow(&mut self) -> Option<bool> {
        let mut jobs = self.workflow_jobs().peekable();
        if !jobs.peek().is_some_and(|(_, j)| j.stored) {
            return None;
        }
        let left = jobs.any(|(_, j)| !j.status.is_terminal());
        drop(jobs);
        let cancellable = match self.state {
            WorkflowStatus::Paused => true,
            WorkflowStatus::Running => left,
            _ => false,
        };
        if !cancellable {
            return Some(false);
        }
        self.state = WorkflowStatus::Cancelled;
        self.cancel_workflow_jobs();
        Some(true)
    }

    /// `retry_workflow`: the workflow runs again; its dead and cancelled jobs
    /// are `Pending` with no attempts; every unstarted job with parents is
    /// recounted (waiting for the parents not completed) and moved on as if
    /// its parents had ended now: one whose parents all completed is
    /// released, or skipped if its condition is false; one still waiting on a
    /// parent that ended without completing (skipped, or dead or cancelled
    /// outside the workflow, which a retry does not reset) ends as that
    /// parent's end ends its dependents: a dead one's failure policy applies
    /// again. (The rule of the conformance case
    /// `workflow_retry_respects_skipped_parents_and_conditions`.) Returns how
    /// many jobs were reset.
    pub fn retry_workflow(&mut self) -> u64 {
        self.state = WorkflowStatus::Running;
        let mut reset = 0;
        for i in 0..self.jobs.len() {
            let job = &mut self.jobs[i];
            if self.scenario.kind.in_workflow(i)
                && matches!(job.status, JobStatus::Dead | JobStatus::Cancelled)
            {
                job.status = JobStatus::Pending;
                job.attempts = 0;
                reset += 1;
            }
        }
        let mut waiting = Vec::new();
        let mut skipped = Vec::new();
        for i in 0..self.jobs.len() {
            let parents = &self.spec(i).parents;
            if parents.is_empty()
                || !self.in_workflow(i)
                || !self.jobs[i].stored
                || !unstarted(self.jobs[i].status)
            {
                continue;
            }
            let open = parents
                .iter()
                .filter(|p| self.jobs[**p].status != JobStatus::Completed)
                .count() as i32;
            self.jobs[i].pending = open;
            if open > 0 {
                self.jobs[i].dep = Dep::Waiting;
                waiting.push(i);
                continue;
            }
            let runs = match self.spec(i).condition {
                None => true,
                Some(cond) => self.condition_holds(i, &cond),
            };
            self.jobs[i].dep = Dep::Satisfied;
            if !runs {
                self.jobs[i].status = JobStatus::Skipped;
                skipped.push(i);
            }
        }
        // The parents the waiting jobs count that ended without completing.
        let mut ended: BTreeSet<usize> = BTreeSet::new();
        for &i in &waiting {
            ended.extend(self.spec(i).parents.iter().copied().filter(|p| {
                matches!(
                    self.jobs[*p].status,
                    JobStatus::Skipped | JobStatus::Dead | JobStatus::Cancelled
                )
            }));
        }
        let of = |status: JobStatus| -> Vec<usize> {
            ended
                .iter()
                .copied()
                .filter(|p| self.jobs[*p].status == status)
                .collect()
        };
        let (dead, cancelled) = (of(JobStatus::Dead), of(JobStatus::Cancelled));
        skipped.extend(of(JobStatus::Skipped));
        self.follow_ended(&skipped, &dead, &cancelled);
        reset
    }

    /// Whether any job is dead or cancelled (a workflow retry has work).
    pub fn has_failures(&self) -> bool {
        self.workflow_jobs()
            .any(|(_, j)| matches!(j.status, JobStatus::Dead | JobStatus::Cancelled))
    }

    /// Every job's status (a job not enqueued yet reads `Pending`).
    pub fn statuses(&self) -> Vec<JobStatus> {
        self.jobs.iter().map(|j| j.status).collect()
    }

    /// The workflow's expected counters (nothing is running at the end).
    pub fn workflow_stats(&self) -> WorkflowStats {
        let count =
            |s: JobStatus| self.workflow_jobs().filter(|(_, j)| j.status == s).count() as u64;
        WorkflowStats::from_counts(
            self.workflow_jobs().count() as u64,
            count(JobStatus::Completed),
            count(JobStatus::Dead),
            count(JobStatus::Skipped),
            count(JobStatus::Cancelled),
            count(JobStatus::Running),
        )
    }

    /// The workflow's expected status: a policy's decision (`Paused`,
    /// `Failed`) stands; otherwise `Running` while a job is pending or
    /// running, then `Failed` if a job is dead, else `Completed`.
    pub fn workflow_status(&self) -> WorkflowStatus {
        let stats = self.workflow_stats();
        match self.state {
            WorkflowStatus::Running if stats.pending_jobs + stats.running_jobs > 0 => {
                WorkflowStatus::Running
            }
            WorkflowStatus::Running if stats.failed_jobs > 0 => WorkflowStatus::Failed,
            WorkflowStatus::Running if stats.cancelled_jobs > 0 => WorkflowStatus::Cancelled,
            WorkflowStatus::Running => WorkflowStatus::Completed,
            decided => decided,
        }
    }

    /// Follows one call's transitions, in the engine's order.
    fn follow(&mut self, transitions: Vec<Transition>) {
        let mut completed = Vec::new();
        let mut dead = Vec::new();
        let mut skipped = Vec::new();
        let mut cancelled = Vec::new();
        for (i, status, followed) in transitions {
            match status {
                JobStatus::Completed if followed => completed.push(i),
                // A dead job of a workflow applies its policy even when
                // nothing depends on it.
                JobStatus::Dead if followed || self.in_workflow(i) => dead.push(i),
                JobStatus::Skipped if followed => skipped.push(i),
                JobStatus::Cancelled if followed => cancelled.push(i),
                _ => {}
            }
        }
        if !completed.is_empty() {
            skipped.extend(self.release(&completed));
        }
        self.follow_ended(&skipped, &dead, &cancelled);
    }

    /// Ends the dependents of jobs that ended without completing, in the
    /// engine's order: skipped, then dead (with their workflows' failure
    /// policies), then cancelled.
    fn follow_ended(&mut self, skipped: &[usize], dead: &[usize], cancelled: &[usize]) {
        if !skipped.is_empty() {
            self.end(skipped, JobStatus::Skipped);
        }
        if !dead.is_empty() {
            self.apply_failure_policy(dead);
        }
        if !cancelled.is_empty() {
            self.end(cancelled, JobStatus::Cancelled);
        }
    }

    /// Counts completed `parents` off their waiting dependents; a dependent
    /// at zero is released, or skipped if its condition is false. Returns
    /// the skipped ones.
    fn release(&mut self, parents: &[usize]) -> Vec<usize> {
        let mut counts: BTreeMap<usize, i32> = BTreeMap::new();
        for &p in parents {
            for &d in &self.dependents[p] {
                *counts.entry(d).or_default() += 1;
            }
        }
        let mut skipped = Vec::new();
        for (d, n) in counts {
            if self.jobs[d].dep != Dep::Waiting || !unstarted(self.jobs[d].status) {
                continue;
            }
            self.jobs[d].pending -= n;
            if self.jobs[d].pending > 0 {
                continue;
            }
            let runs = match self.spec(d).condition {
                None => true,
                Some(cond) => self.condition_holds(d, &cond),
            };
            let job = &mut self.jobs[d];
            job.dep = Dep::Satisfied;
            if !runs {
                job.status = JobStatus::Skipped;
                skipped.push(d);
            }
        }
        skipped
    }

    /// Ends every unstarted (`Pending`, `Retrying`) transitive dependent of
    /// `frontier` as `status`.
    fn end(&mut self, frontier: &[usize], status: JobStatus) -> Vec<usize> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = frontier.to_vec();
        while let Some(p) = stack.pop() {
            for &d in &self.dependents[p] {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        let mut ended = Vec::new();
        for d in seen {
            let job = &mut self.jobs[d];
            if unstarted(job.status) {
                job.status = status;
                job.dep = Dep::Failed;
                ended.push(d);
            }
        }
        ended
    }

    /// Dead jobs apply their workflow's policy: FailFast fails the workflow
    /// and cancels its unfinished jobs, Manual pauses it (dependents wait),
    /// ContinueOnFailure (and jobs outside workflows) kills the transitive
    /// dependents. When that kills jobs of a workflow whose policy this call
    /// has not applied (a plain job's death reaching into the workflow), the
    /// workflow's policy applies to them in turn.
    fn apply_failure_policy(&mut self, dead: &[usize]) {
        let policy = self.scenario.kind.policy();
        let applied = dead.iter().any(|&i| self.in_workflow(i));
        let cascade: Vec<usize> = dead
            .iter()
            .copied()
            .filter(|&i| !self.in_workflow(i) || policy == Some(FailurePolicy::ContinueOnFailure))
            .collect();
        if !cascade.is_empty() {
            let killed = self.end(&cascade, JobStatus::Dead);
            let others: Vec<usize> = killed
                .into_iter()
                .filter(|&k| self.in_workflow(k))
                .collect();
            if !applied && !others.is_empty() {
                self.apply_failure_policy(&others);
            }
        }
        if applied {
            let open = matches!(self.state, WorkflowStatus::Running | WorkflowStatus::Paused);
            match policy {
                Some(FailurePolicy::FailFast) => {
                    if open {
                        self.state = WorkflowStatus::Failed;
                    }
                    self.cancel_workflow_jobs();
                }
                Some(FailurePolicy::Manual) if open => self.state = WorkflowStatus::Paused,
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Running a scenario against a storage
// ---------------------------------------------------------------------------

/// The operation's clock: real time, but never going back, and jumping past
/// every lease when crashed attempts are rescued (so a rescued job, due at
/// the rescue's time, is claimable at the next claim).
struct Clock {
    last: DateTime<Utc>,
}

impl Clock {
    fn new() -> Self {
        Clock {
            last: Utc::now().trunc_subsecs(6),
        }
    }

    fn now(&mut self) -> DateTime<Utc> {
        let real = Utc::now().trunc_subsecs(6);
        self.last = real.max(self.last + chrono::Duration::microseconds(1));
        self.last
    }

    fn past_leases(&mut self) -> DateTime<Utc> {
        let lease =
            chrono::Duration::from_std(LEASE).expect("small") + chrono::Duration::seconds(1);
        self.last = self.now() + lease;
        self.last
    }
}

/// What happened so far, for the failure message.
struct Log {
    lines: String,
}

impl Log {
    fn push(&mut self, line: impl fmt::Display) {
        let _ = writeln!(self.lines, "  {line}");
    }
}

fn names(set: &BTreeSet<usize>) -> String {
    let names: Vec<String> = set.iter().map(|i| format!("j{i}")).collect();
    format!("[{}]", names.join(", "))
}

/// Why a case failed: the scenario, what was done, and the difference.
fn mismatch(scenario: &Scenario, log: &Log, what: impl fmt::Display) -> String {
    format!(
        "the storage and the model disagree: {what}\n\nscenario:\n{scenario}\nsteps taken:\n{}",
        log.lines
    )
}

fn outcome_of(step: Step, i: usize, now: DateTime<Utc>) -> Outcome {
    match step {
        Step::Complete(v) => Outcome::Completed {
            result: Some(json!({ format!("j{i}"): v })),
        },
        Step::Fail { retry } => Outcome::Failed {
            error: "failed by the model test".into(),
            retry_at: retry.then_some(now),
        },
        Step::Cancel => Outcome::Cancelled {
            reason: "cancelled by the model test".into(),
        },
        Step::GiveBack { started } => Outcome::GiveBack { started },
        Step::Crash => unreachable!("a crashed attempt is not settled"),
    }
}

/// The jobs of `scenario` on `queue`, with ids, dependencies, conditions and
/// attempts (a job's payload is its index).
fn build_jobs(scenario: &Scenario, queue: &str) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::with_capacity(scenario.jobs.len());
    for (i, spec) in scenario.jobs.iter().enumerate() {
        let mut job = Job::new(queue, json!({ "job": i }))
            .with_max_attempts(spec.max_attempts)
            .depends_on_jobs(spec.parents.iter().map(|p| jobs[*p].id));
        if let Some(cond) = &spec.condition {
            job = job.with_condition(cond.expression());
        }
        jobs.push(job);
    }
    jobs
}

/// Named counters of what runs exercised (kinds of case, calls made,
/// stale settlements, final statuses ...), summed over cases by
/// [`check_model`] and printed when it passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Counter name to count.
    pub counters: BTreeMap<String, u64>,
}

impl Coverage {
    fn add(&mut self, name: impl Into<String>, n: u64) {
        *self.counters.entry(name.into()).or_default() += n;
    }

    /// Adds `other`'s counters to these.
    pub fn merge(&mut self, other: &Coverage) {
        for (name, n) in &other.counters {
            self.add(name.clone(), *n);
        }
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, n) in &self.counters {
            writeln!(f, "  {name}: {n}")?;
        }
        Ok(())
    }
}

/// Runs `scenario` on `storage` in a queue of its own (so cases can share a
/// database) in lockstep with the [`Model`], comparing every claim set and
/// every count returned as it goes, then every job's status and the
/// workflow's status and counters. Returns what the case exercised; `Err`
/// says what differed, with the scenario and the steps taken.
///
/// Whatever happens, no job of the case is left running (the cases share
/// the database, and a lease rescue of a later case would find it).
pub async fn run_model_case<S: Storage>(
    storage: &S,
    scenario: &Scenario,
) -> Result<Coverage, String> {
    let queue = format!("model_{}", uuid::Uuid::new_v4().simple());
    let outcome = drive(storage, scenario, &queue).await;
    if outcome.is_err() {
        // Cancel what is left, so nothing stays running (and leased).
        if let Ok(jobs) = storage
            .list_jobs(ListJobsParams::new().queue(&queue).limit(1_000))
            .await
        {
            for job in jobs.iter().filter(|j| unfinished(j.status)) {
                let _ = storage.cancel_job(job.id).await;
            }
        }
    }
    outcome
}

async fn drive<S: Storage>(
    storage: &S,
    scenario: &Scenario,
    queue: &str,
) -> Result<Coverage, String> {
    let mut model = Model::new(scenario);
    let mut seen = Coverage::default();
    seen.add(
        match scenario.kind {
            Kind::Workflow(policy) => format!("case: workflow {policy:?}"),
            Kind::Plain { late: None } => "case: plain jobs".to_string(),
            Kind::Plain { late: Some(_) } => "case: plain jobs, two batches".to_string(),
            Kind::PlainThenWorkflow { policy, .. } => {
                format!("case: plain jobs then a workflow {policy:?}")
            }
        },
        1,
    );
    let batch = if scenario.batch_settle {
        "batch"
    } else {
        "one by one"
    };
    seen.add(format!("case: settled {batch}"), 1);
    seen.add("jobs", scenario.jobs.len() as u64);
    seen.add(
        "jobs with a condition",
        scenario
            .jobs
            .iter()
            .filter(|j| j.condition.is_some())
            .count() as u64,
    );
    let mut log = Log {
        lines: String::new(),
    };
    let mut clock = Clock::new();
    let jobs = build_jobs(scenario, queue);
    let ids: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
    let index: HashMap<JobId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let n = jobs.len();
    let fail = |log: &Log, what: String| mismatch(scenario, log, what);

    // The workflow (its id known before it is enqueued).
    let group = scenario.kind.policy().map(|policy| {
        let from = scenario.kind.second_batch().map_or(0, |(from, _)| from);
        jobs[from..]
            .iter()
            .cloned()
            .fold(JobGroup::new("model"), JobGroup::add_job)
            .with_failure_policy(policy)
    });
    let workflow = group.as_ref().map(|g| g.id);
    let mut group = group;
    let mut late = scenario.kind.second_batch();

    // Enqueues jobs `range`: as the workflow when they are its jobs.
    async fn enqueue<S: Storage>(
        storage: &S,
        jobs: &[Job],
        group: &mut Option<JobGroup>,
        workflow: bool,
        range: std::ops::Range<usize>,
    ) -> Result<String, String> {
        let (what, result) = match if workflow { group.take() } else { None } {
            Some(group) => (
                "enqueue_workflow",
                storage.enqueue_workflow(group).await.map(|_| ()),
            ),
            None => (
                "enqueue_many",
                storage
                    .enqueue_many(jobs[range.clone()].to_vec())
                    .await
                    .map(|_| ()),
            ),
        };
        match result {
            Ok(()) => Ok(format!("{what} of j{}..j{}", range.start, range.end - 1)),
            Err(e) => Err(format!("{what} failed: {e}")),
        }
    }

    // The first enqueue.
    let first = late.map_or(n, |(from, _)| from);
    let done = enqueue(
        storage,
        &jobs,
        &mut group,
        scenario.kind.in_workflow(0),
        0..first,
    )
    .await
    .map_err(|e| fail(&log, e))?;
    model.enqueue(0..first);
    log.push(done);

    let mut retries_left = scenario.retries;
    let mut round = 0;
    loop {
        if round == MAX_ROUNDS {
            return Err(fail(&log, format!("still busy after {MAX_ROUNDS} rounds")));
        }
        if let Some((from, at)) = late {
            if at == round {
                let done = enqueue(
                    storage,
                    &jobs,
                    &mut group,
                    scenario.kind.in_workflow(from),
                    from..n,
                )
                .await
                .map_err(|e| fail(&log, format!("round {round}: {e}")))?;
                model.enqueue(from..n);
                let ended = (from..n).filter(|i| model.status(*i).is_terminal()).count();
                seen.add("jobs ended at enqueue (stored parent ended)", ended as u64);
                log.push(format!("round {round}: {done}"));
                late = None;
            }
        }

        // Claim everything claimable.
        let now = clock.now();
        let claimed = storage
            .claim_jobs(ClaimParams::new(queue, 1_000, now, now + LEASE))
            .await
            .map_err(|e| fail(&log, format!("claim_jobs failed: {e}")))?;
        let expected = model.claim();
        let mut running: BTreeMap<usize, Job> = BTreeMap::new();
        for job in claimed {
            match index.get(&job.id) {
                Some(i) => {
                    running.insert(*i, job);
                }
                None => return Err(fail(&log, format!("claimed a stranger: {}", job.id))),
            }
        }
        let actual: BTreeSet<usize> = running.keys().copied().collect();
        seen.add("rounds", 1);
        seen.add("claims", actual.len() as u64);
        log.push(format!("round {round}: claim -> {}", names(&actual)));
        if actual != expected {
            return Err(fail(
                &log,
                format!(
                    "round {round}: claimed {}, the model claims {}",
                    names(&actual),
                    names(&expected)
                ),
            ));
        }
        for (i, job) in &running {
            if job.claims != model.claims(*i) {
                return Err(fail(
                    &log,
                    format!(
                        "j{i} claimed with claim number {}, the model counts {}",
                        job.claims,
                        model.claims(*i)
                    ),
                ));
            }
        }

        // The operator's action.
        if let Some(op) = scenario.operator.filter(|o| o.round == round) {
            match op.action {
                Action::CancelJob(job) => {
                    let got = match storage.cancel_job(ids[job]).await {
                        Ok(true) => CancelResult::Cancelled,
                        Ok(false) => CancelResult::Finished,
                        Err(Error::NotFound { .. }) => CancelResult::NotFound,
                        Err(e) => return Err(fail(&log, format!("cancel_job failed: {e}"))),
                    };
                    let before = model.status(job);
                    let want = model.cancel(job);
                    seen.add(
                        match want {
                            CancelResult::Cancelled => {
                                format!("operator cancel_job of a {before} job")
                            }
                            other => format!("operator cancel_job: {other:?}"),
                        },
                        1,
                    );
                    log.push(format!("round {round}: cancel_job(j{job}) -> {got:?}"));
                    if got != want {
                        return Err(fail(
                            &log,
                            format!("cancel_job(j{job}) gave {got:?}, the model {want:?}"),
                        ));
                    }
                }
                Action::CancelWorkflow => {
                    let id = workflow.expect("only workflows are cancelled whole");
                    let before = model.workflow_status();
                    let got = match storage.cancel_workflow(id).await {
                        Ok(cancelled) => Some(cancelled),
                        Err(Error::WorkflowNotFound { .. }) => None,
                        Err(e) => return Err(fail(&log, format!("cancel_workflow failed: {e}"))),
                    };
                    let want = model.cancel_workflow();
                    seen.add(
                        match want {
                            Some(want) => {
                                format!(
                                    "operator cancel_workflow of a {before:?} workflow -> {want}"
                                )
                            }
                            None => "operator cancel_workflow: not enqueued yet".to_string(),
                        },
                        1,
                    );
                    log.push(format!("round {round}: cancel_workflow -> {got:?}"));
                    if got != want {
                        return Err(fail(
                            &log,
                            format!("cancel_workflow gave {got:?}, the model {want:?}"),
                        ));
                    }
                }
            }
        }

        let future_events = late.is_some() || scenario.operator.is_some_and(|o| o.round > round);
        if running.is_empty() {
            if future_events {
                round += 1;
                continue;
            }
            if let Some(id) = workflow.filter(|_| group.is_none()) {
                if retries_left > 0 && model.has_failures() {
                    retries_left -= 1;
                    let got = storage
                        .retry_workflow(id)
                        .await
                        .map_err(|e| fail(&log, format!("retry_workflow failed: {e}")))?;
                    let want = model.retry_workflow();
                    seen.add("retry_workflow calls", 1);
                    seen.add("jobs reset by retry_workflow", want);
                    // Every dead or cancelled job of the workflow was reset:
                    // these the retry itself ended again (a parent outside
                    // the workflow is dead or cancelled).
                    let again = (0..n)
                        .filter(|i| scenario.kind.in_workflow(*i))
                        .filter(|i| {
                            matches!(model.status(*i), JobStatus::Dead | JobStatus::Cancelled)
                        })
                        .count();
                    seen.add("jobs ended again by retry_workflow", again as u64);
                    log.push(format!("round {round}: retry_workflow -> {got} reset"));
                    if got != want {
                        return Err(fail(
                            &log,
                            format!("retry_workflow reset {got} jobs, the model {want}"),
                        ));
                    }
                    round += 1;
                    continue;
                }
            }
            break;
        }

        // Settle what was claimed with its scripted outcome.
        let mut order: Vec<(usize, Step)> = running
            .keys()
            .map(|&i| (i, scenario.jobs[i].step(model.claims(i))))
            .collect();
        order.sort_by_key(|&(i, _)| (scenario.jobs[i].rank, i));
        let settled: Vec<(usize, Step)> = order
            .iter()
            .copied()
            .filter(|(_, step)| *step != Step::Crash)
            .collect();
        let calls: Vec<Vec<(usize, Step)>> = if scenario.batch_settle {
            vec![settled.clone()]
        } else {
            settled.iter().map(|s| vec![*s]).collect()
        };
        for call in calls.into_iter().filter(|c| !c.is_empty()) {
            let now = clock.now();
            let settlements: Vec<Settlement> = call
                .iter()
                .map(|&(i, step)| {
                    Settlement::new(Lease::of(&running[&i]), outcome_of(step, i, now))
                })
                .collect();
            let got = storage
                .settle_jobs(&settlements, now)
                .await
                .map_err(|e| fail(&log, format!("settle_jobs failed: {e}")))?;
            let want = model.settle(&call);
            seen.add("settle_jobs calls", 1);
            seen.add(
                "outcomes ignored (attempt no longer running)",
                call.len() as u64 - want,
            );
            let what: Vec<String> = call.iter().map(|(i, s)| format!("j{i} {s}")).collect();
            log.push(format!(
                "round {round}: settle [{}] -> {got} changed",
                what.join(", ")
            ));
            if got != want {
                return Err(fail(
                    &log,
                    format!("settle_jobs changed {got} jobs, the model {want}"),
                ));
            }
        }

        // Crashed attempts: rescued once their lease has expired.
        if order.iter().any(|(_, step)| *step == Step::Crash) {
            let got = storage
                .rescue_expired_jobs(clock.past_leases())
                .await
                .map_err(|e| fail(&log, format!("rescue_expired_jobs failed: {e}")))?;
            let want = model.rescue();
            seen.add("jobs rescued after a crash", want);
            log.push(format!(
                "round {round}: rescue_expired_jobs -> {got} rescued"
            ));
            if got != want {
                return Err(fail(
                    &log,
                    format!("rescue_expired_jobs rescued {got} jobs, the model {want}"),
                ));
            }
        }
        round += 1;
    }

    // Every job's final status.
    let stored = storage
        .get_jobs(&ids)
        .await
        .map_err(|e| fail(&log, format!("get_jobs failed: {e}")))?;
    let actual: HashMap<usize, JobStatus> = stored
        .iter()
        .filter_map(|j| index.get(&j.id).map(|i| (*i, j.status)))
        .collect();
    let expected = model.statuses();
    let mut table = String::new();
    let mut differ = false;
    for (i, want) in expected.iter().enumerate() {
        let got = actual.get(&i);
        let mark = if got == Some(want) {
            ""
        } else {
            "   <-- differs"
        };
        differ |= got != Some(want);
        let got = got.map_or("missing".to_string(), |s| s.to_string());
        let _ = writeln!(table, "  j{i}: storage {got}, model {want}{mark}");
    }
    if differ {
        return Err(fail(&log, format!("final job statuses:\n{table}")));
    }
    for status in &expected {
        seen.add(format!("final job status: {status}"), 1);
    }

    if let Some(id) = workflow {
        let stored = storage
            .get_workflow(id)
            .await
            .map_err(|e| fail(&log, format!("get_workflow failed: {e}")))?
            .ok_or_else(|| fail(&log, "the workflow is gone".to_string()))?;
        let (got, want) = (stored.stats, model.workflow_stats());
        if got != want {
            return Err(fail(
                &log,
                format!("workflow counters: storage {got:?}, model {want:?}\n{table}"),
            ));
        }
        let (got, want) = (stored.status(), model.workflow_status());
        if got != want {
            return Err(fail(
                &log,
                format!("workflow status: storage {got:?}, model {want:?}\n{table}"),
            ));
        }
        seen.add(format!("final workflow status: {want:?}"), 1);
    }
    Ok(seen)
}

/// The number of cases from [`CASES_VAR`], else [`DEFAULT_CASES`].
///
/// # Panics
/// When the variable is set to something that is not a number.
pub fn cases_from_env() -> u32 {
    match std::env::var(CASES_VAR) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{CASES_VAR}={value:?} is not a number")),
        _ => DEFAULT_CASES,
    }
}

fn seed_from_env() -> u64 {
    match std::env::var(SEED_VAR) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{SEED_VAR}={value:?} is not a u64")),
        _ => rand_seed(),
    }
}

/// A random seed without another dependency: the low bits of a v4 uuid.
fn rand_seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

/// Runs `cases` random scenarios (see [`scenario_strategy`]) on `storage`
/// with [`run_model_case`], each in a queue of its own; shrinks a failure to
/// a small scenario and panics with it, the steps taken and the seed
/// ([`SEED_VAR`] replays it).
///
/// Call it from a multi-threaded tokio test (`#[tokio::test(flavor =
/// "multi_thread")]`): proptest is synchronous, so this blocks the test's
/// thread ([`tokio::task::block_in_place`]) and runs each case on the
/// test's runtime.
///
/// # Panics
/// When a scenario fails, or when not called from a multi-threaded runtime.
pub fn check_model<S: Storage>(storage: S, cases: u32) {
    let handle = tokio::runtime::Handle::current();
    let seed = seed_from_env();
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let started = std::time::Instant::now();
    let seen = std::sync::Mutex::new(Coverage::default());
    let result = tokio::task::block_in_place(|| {
        runner.run(&scenario_strategy(), |scenario| {
            let case = handle
                .block_on(run_model_case(&storage, &scenario))
                .map_err(TestCaseError::fail)?;
            seen.lock().unwrap_or_else(|e| e.into_inner()).merge(&case);
            Ok(())
        })
    });
    let seen = seen.into_inner().unwrap_or_else(|e| e.into_inner());
    match result {
        Ok(()) => eprintln!(
            "hammerwork-testkit: model test passed {cases} cases in {:.1?} \
             ({SEED_VAR}={seed}); they exercised:\n{seen}",
            started.elapsed()
        ),
        // `why` shows the (shrunk) scenario, the steps taken and the difference.
        Err(TestError::Fail(why, _)) => {
            panic!("model test failed ({SEED_VAR}={seed} replays it), smallest case found:\n{why}")
        }
        Err(TestError::Abort(why)) => {
            panic!("model test aborted ({SEED_VAR}={seed}): {why}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    fn job(parents: &[usize], steps: &[Step]) -> JobSpec {
        JobSpec {
            parents: parents.to_vec(),
            condition: None,
            max_attempts: 1,
            steps: steps.to_vec(),
            rank: 0,
        }
    }

    fn workflow(policy: FailurePolicy, jobs: Vec<JobSpec>) -> Scenario {
        Scenario {
            kind: Kind::Workflow(policy),
            jobs,
            batch_settle: true,
            operator: None,
            retries: 0,
        }
    }

    fn set(items: &[usize]) -> BTreeSet<usize> {
        items.iter().copied().collect()
    }

    /// The conformance case `dependency_conditions_run_skip_and_propagate`:
    /// the true branch runs, the false one is skipped with its dependent.
    #[test]
    fn conditions_skip_and_propagate() {
        let mut on_one = job(&[0], &[]);
        on_one.condition = Some(Cond {
            first: Clause {
                job: 0,
                op: CmpOp::Eq,
                k: 1,
            },
            second: None,
            negate: false,
        });
        let mut on_two = on_one.clone();
        on_two.condition.as_mut().unwrap().first.k = 2;
        let scenario = workflow(
            FailurePolicy::FailFast,
            vec![job(&[], &[]), on_one, on_two, job(&[2], &[])],
        );
        let mut model = Model::new(&scenario);
        model.enqueue(0..4);
        assert_eq!(model.claim(), set(&[0]));
        assert_eq!(model.settle(&[(0, Step::Complete(1))]), 1);
        assert_eq!(model.claim(), set(&[1]));
        use JobStatus::*;
        assert_eq!(model.statuses(), vec![Completed, Running, Skipped, Skipped]);
        model.settle(&[(1, Step::Complete(0))]);
        assert_eq!(model.workflow_status(), WorkflowStatus::Completed);
    }

    /// FailFast cancels the unfinished jobs, running ones included; a
    /// completion in the same call stands and is followed first.
    #[test]
    fn fail_fast_in_one_call() {
        let scenario = workflow(
            FailurePolicy::FailFast,
            vec![job(&[], &[]), job(&[], &[]), job(&[], &[]), job(&[0], &[])],
        );
        let mut model = Model::new(&scenario);
        model.enqueue(0..4);
        assert_eq!(model.claim(), set(&[0, 1, 2]));
        let changed = model.settle(&[(0, Step::Complete(0)), (1, Step::Fail { retry: true })]);
        assert_eq!(changed, 2);
        use JobStatus::*;
        assert_eq!(
            model.statuses(),
            vec![Completed, Dead, Cancelled, Cancelled]
        );
        assert_eq!(model.settle(&[(2, Step::Complete(0))]), 0);
        assert_eq!(model.workflow_status(), WorkflowStatus::Failed);
        let stats = model.workflow_stats();
        assert_eq!(
            (
                stats.completed_jobs,
                stats.failed_jobs,
                stats.cancelled_jobs
            ),
            (1, 1, 2)
        );
    }

    /// Manual pauses with dependents waiting; a retry runs them.
    #[test]
    fn manual_then_retry() {
        let scenario = workflow(FailurePolicy::Manual, vec![job(&[], &[]), job(&[0], &[])]);
        let mut model = Model::new(&scenario);
        model.enqueue(0..2);
        model.claim();
        model.settle(&[(0, Step::Fail { retry: false })]);
        assert_eq!(model.workflow_status(), WorkflowStatus::Paused);
        assert!(model.claim().is_empty());
        assert_eq!(model.retry_workflow(), 1);
        assert_eq!(model.claim(), set(&[0]));
        model.settle(&[(0, Step::Complete(0))]);
        assert_eq!(model.claim(), set(&[1]));
        model.settle(&[(1, Step::Complete(0))]);
        assert_eq!(model.workflow_status(), WorkflowStatus::Completed);
    }

    /// Outside workflows a dead job kills its transitive dependents; a
    /// later job depending on the dead one is dead at enqueue, on a skipped
    /// one skipped.
    #[test]
    fn plain_cascade_and_late_enqueue() {
        let mut skipped = job(&[0], &[]);
        skipped.condition = Some(Cond {
            first: Clause {
                job: 0,
                op: CmpOp::Lt,
                k: 0,
            },
            second: None,
            negate: false,
        });
        let scenario = Scenario {
            kind: Kind::Plain { late: Some((3, 1)) },
            jobs: vec![
                job(&[], &[]),
                skipped,
                job(&[], &[]),
                job(&[2], &[]),
                job(&[1], &[]),
                job(&[0, 3], &[]),
            ],
            batch_settle: false,
            operator: None,
            retries: 0,
        };
        let mut model = Model::new(&scenario);
        model.enqueue(0..3);
        assert_eq!(model.claim(), set(&[0, 2]));
        model.settle(&[(0, Step::Complete(0))]);
        model.settle(&[(2, Step::Fail { retry: false })]);
        model.enqueue(3..6);
        use JobStatus::*;
        assert_eq!(
            model.statuses(),
            vec![Completed, Skipped, Dead, Dead, Skipped, Dead]
        );
    }

    /// A plain job's death kills its dependents in the workflow, which then
    /// apply the workflow's policy (FailFast: the rest is cancelled); a
    /// retry revives them, and the dead plain parent kills them again.
    #[test]
    fn plain_death_reaches_into_the_workflow() {
        let scenario = Scenario {
            kind: Kind::PlainThenWorkflow {
                policy: FailurePolicy::FailFast,
                from: 1,
                round: 0,
            },
            jobs: vec![job(&[], &[]), job(&[0], &[]), job(&[], &[])],
            batch_settle: true,
            operator: None,
            retries: 1,
        };
        let mut model = Model::new(&scenario);
        model.enqueue(0..1);
        model.enqueue(1..3);
        assert_eq!(model.claim(), set(&[0, 2]));
        model.settle(&[(0, Step::Fail { retry: false })]);
        use JobStatus::*;
        assert_eq!(model.statuses(), vec![Dead, Dead, Cancelled]);
        assert_eq!(model.workflow_status(), WorkflowStatus::Failed);
        assert_eq!(model.retry_workflow(), 2);
        assert_eq!(model.statuses(), vec![Dead, Dead, Cancelled]);
        assert_eq!(model.workflow_status(), WorkflowStatus::Failed);
    }

    /// Every generated scenario is a DAG with conditions on parents only.
    #[test]
    fn generated_scenarios_are_well_formed() {
        let mut runner = TestRunner::deterministic();
        for _ in 0..500 {
            let scenario = scenario_strategy().new_tree(&mut runner).unwrap().current();
            for (i, job) in scenario.jobs.iter().enumerate() {
                assert!(job.parents.iter().all(|p| *p < i));
                if let Some(cond) = &job.condition {
                    assert!(job.parents.contains(&cond.first.job));
                    hammerwork_api::workflow::Condition::parse(&cond.expression()).unwrap();
                }
            }
        }
    }
}
