use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use hammerwork_api::retention::{RetentionPolicy, MAINTENANCE_ROLE, PRUNE_BATCH};
use hammerwork_api::schedule::{SeriesBackoff, SCHEDULER_ROLE};
use hammerwork_api::{
    later, ClaimParams, DatabaseQueue, Error, Job, JobId, Lease, Outcome, Settlement, Storage,
    StorageDatabase, WakeupScope,
};
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinSet};
use tracing::Instrument;

use crate::claim_size::{ClaimReturn, ClaimSize, PACE_MARGIN};
use crate::clock::Clock;
use crate::metrics::{self as recorded, QueueMetrics};
use crate::spawn::{SpawnError, SpawnManager, SpawnPlan, Spawner, SPAWN_CONFIG_KEY};

use crate::handler::{JobContext, JobHandler};
use crate::pool::{WorkerPool, WorkerPoolHandle};

/// Leases held by this worker (claimed and not yet settled), for heartbeats.
type Leases = Arc<Mutex<HashMap<JobId, i64>>>;

/// The recurring jobs this worker has started and not yet settled: when one
/// settles, the scheduler looks at once (see [`complete_loop`]).
type Recurring = Arc<Mutex<HashSet<JobId>>>;

/// Where a running attempt hands its outcome: the settle queue, the leases
/// to stop heartbeating, the worker's metrics.
#[derive(Clone)]
struct Outbox {
    settle_tx: mpsc::UnboundedSender<Settlement>,
    leases: Leases,
    metrics: Arc<QueueMetrics>,
    recurring: Recurring,
}

/// Gives back `jobs`, claimed and never started: they go back to their
/// queue, the attempt not counted.
fn give_back(outbox: &Outbox, jobs: impl IntoIterator<Item = Job>) {
    for job in jobs {
        let settlement = Settlement::new(Lease::of(&job), Outcome::GiveBack { started: false });
        let _ = outbox.settle_tx.send(settlement);
    }
}

/// How long jobs beyond the starting claim size may wait in a worker's
/// buffer after its last claim came back (or [`PACE_MARGIN`] round trips,
/// if longer): a buffer grown while jobs were fast drains in a few round
/// trips, so one that has not by then holds jobs that turned slow, and
/// gives back what it cannot start soon for other workers to take.
const SURPLUS_WAIT: Duration = Duration::from_secs(1);

/// Records the leases of `jobs` for heartbeats.
fn hold(leases: &Leases, jobs: &[Job]) {
    let mut held = leases.lock().expect("lease map poisoned");
    for job in jobs {
        held.insert(job.id, job.claims);
    }
}

/// How often a worker measures its offset to the database's clock.
const CLOCK_SYNC_INTERVAL: Duration = Duration::from_secs(60);

/// Pruning transactions per maintenance tick at most, so a backlog (the
/// first run over a long history) is worked off over several ticks.
const PRUNE_BATCHES_PER_TICK: u32 = 10;

/// Shortest lease of a role's lead (scheduler, maintenance).
const LEAD_TTL_MIN: Duration = Duration::from_secs(5);

/// Most settlements written in one `settle_jobs` call.
const MAX_SETTLE_BATCH: usize = 1_000;

/// Attempts to write outcomes once shutdown has begun before giving up.
const SHUTDOWN_SETTLE_TRIES: u32 = 5;

/// Writes of a spawn (completion + children) tried before the attempt fails:
/// with backoff doubling from 50 ms to 5 s, about 20 s.
const SPAWN_WRITE_TRIES: u32 = 8;

/// When an attempt that panicked outside its handler runs again.
const PANIC_RETRY_DELAY: Duration = Duration::from_secs(60);

/// First idle re-poll delay after a claim comes back short; doubles up to the
/// poll interval.
const MIN_IDLE_DELAY: Duration = Duration::from_millis(10);

/// The shortest sleep until a due time: a job due now but not yet claimable
/// by the claim's clock is retried after this, never in a busy loop.
const MIN_DUE_PAUSE: Duration = Duration::from_millis(1);

/// Processes one queue: claims jobs in batches, runs them with bounded
/// concurrency, batches their outcomes, heartbeats their leases, rescues
/// expired leases, and shuts down without losing a job.
///
/// ```no_run
/// # async fn demo(storage: impl hammerwork::Storage + Clone) {
/// use std::time::Duration;
/// use hammerwork::{HandlerResult, JobContext, Worker};
///
/// let running = Worker::new(storage, "emails", |ctx: JobContext| async move {
///     let _to = ctx.payload["to"].as_str();
///     HandlerResult::Ok(None)
/// })
/// .with_concurrency(32)
/// .start();
/// running.shutdown().await;
/// # }
/// ```
pub struct Worker<S: Storage + Clone> {
    pub(crate) storage: S,
    /// The same storage, type-erased for handlers' [`JobContext`].
    context_storage: Arc<dyn Storage>,
    pub(crate) queue: String,
    handler: Arc<dyn JobHandler>,
    concurrency: usize,
    batch_size: Option<u32>,
    poll_interval: Option<Duration>,
    lease_duration: Duration,
    rescue_interval: Duration,
    scheduler_interval: Duration,
    maintenance_interval: Duration,
    retention: RetentionPolicy,
    shutdown_timeout: Duration,
    spawner: Option<Arc<dyn Spawner>>,
    clock: Clock,
}

impl<S: Storage + Clone> Worker<S> {
    /// A worker for `queue` on `storage`, running `handler` for each job.
    ///
    /// Defaults: 16 jobs at once, claims sized to keep those slots busy
    /// (see [`with_batch_size`](Self::with_batch_size)), a 30 s lease
    /// renewed every 10 s, expired leases rescued every 15 s, recurring
    /// (cron) jobs and workflows continued every second, finished jobs
    /// pruned after 24 hours (completed, skipped) or 7 days (cancelled,
    /// dead), an idle re-poll of at most 1 s on a backend that pushes
    /// wakeups (100 ms otherwise), and 30 s for running jobs to finish at
    /// shutdown.
    ///
    /// # Panics
    /// When `queue` is empty (no job can be enqueued to it).
    pub fn new(storage: S, queue: impl Into<String>, handler: impl JobHandler) -> Self {
        let queue = queue.into();
        assert!(
            !queue.trim().is_empty(),
            "Worker::new: the queue name is empty"
        );
        Worker {
            context_storage: Arc::new(storage.clone()),
            storage,
            queue,
            handler: Arc::new(handler),
            concurrency: 16,
            batch_size: None,
            poll_interval: None,
            lease_duration: Duration::from_secs(30),
            rescue_interval: Duration::from_secs(15),
            scheduler_interval: Duration::from_secs(1),
            maintenance_interval: Duration::from_secs(1),
            retention: RetentionPolicy::default(),
            spawner: None,
            shutdown_timeout: Duration::from_secs(30),
            clock: Clock::new(Arc::new(Utc::now)),
        }
    }

    /// Reads the time from `clock` instead of the system clock, for tests of
    /// a host whose clock is off (or of time itself). Either way the worker
    /// works by the database's clock: at start and every minute it measures
    /// the offset from its clock to
    /// [`Storage::database_time`](hammerwork_api::Storage::database_time) and
    /// adds it, so claims, leases, retries and rescue agree across hosts
    /// whose clocks drift apart.
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Clock::new(Arc::new(clock));
        self
    }

    /// How long [`start`](Self::start)'s shutdown waits for running jobs before
    /// giving them back (in a [`WorkerPool`], the pool's setting applies).
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Runs at most `n` jobs at once (at least 1).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Holds up to `n` claimed jobs (at least 1), fixed.
    ///
    /// Claimed jobs wait in a local buffer until a slot frees. When fewer
    /// than half of `n` are left, a claim goes out for the difference (it
    /// tops the buffer up to `n`), and its round trip overlaps with starting
    /// the rest; on shutdown the unstarted ones are given back.
    ///
    /// By default the size adapts to the jobs. It starts at 4 x concurrency
    /// (10..=200); doubles, up to 10,000, when a full claim that followed
    /// another full one comes back to an empty buffer and an idle slot (jobs
    /// that finish faster than a round trip); before each claim, shrinks to
    /// about eight round trips' worth of jobs at the pace they left the
    /// buffer, never below the start; and goes back to the start when the
    /// queue runs dry. Jobs beyond the starting size still waiting a second
    /// after the last claim came back (jobs turned slow) go back to the
    /// queue for other workers. Slow jobs thus keep the starting size, and
    /// no-op jobs reach thousands per claim. Set a size to hold fewer jobs
    /// per process (fairer sharing of long jobs between processes) or more.
    pub fn with_batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n.max(1));
        self
    }

    /// Longest wait between claims while the queue looks empty. Wakeups from the
    /// backend cut it short, and so does the queue's next due time
    /// ([`Storage::next_due`]): a delayed job, a retry after its backoff or a
    /// cron occurrence starts when it falls due. The poll finds work the
    /// backend did not announce (another process's enqueue on MySQL or
    /// SQLite).
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// How long a claim is leased for; heartbeats renew it every third of it. A
    /// worker that dies stops renewing, and the job is rescued after the lease.
    pub fn with_lease_duration(mut self, lease: Duration) -> Self {
        self.lease_duration = lease.max(Duration::from_millis(100));
        self
    }

    /// How often this worker looks for expired leases to rescue (and for
    /// workflows past their timeout).
    pub fn with_rescue_interval(mut self, interval: Duration) -> Self {
        self.rescue_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How often this worker enqueues the next occurrence of finished
    /// recurring (cron) jobs and workflows, for every queue (see
    /// [`DatabaseQueue::advance_recurrences`](hammerwork_api::DatabaseQueue::advance_recurrences)),
    /// when it is the scheduler: of all workers on one database, one at a
    /// time is ([`Storage::try_lead`](hammerwork_api::Storage::try_lead) of
    /// [`SCHEDULER_ROLE`](hammerwork_api::schedule::SCHEDULER_ROLE), renewed
    /// every tick; another takes over when it stops, or ten ticks (at least
    /// 5 s) after it crashed). A series that fails to move is tried again
    /// after 1 s, then twice as long each time, at most 10 minutes. The
    /// scheduler also looks as soon as a recurring job this worker ran has
    /// settled, so its successor is enqueued before its time whatever the
    /// interval (a job run by another worker waits for the next tick).
    pub fn with_scheduler_interval(mut self, interval: Duration) -> Self {
        self.scheduler_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How often this worker maintains the database when it is the
    /// maintenance leader: of all workers on one database, one at a time is
    /// ([`Storage::try_lead`](hammerwork_api::Storage::try_lead) of
    /// [`MAINTENANCE_ROLE`](hammerwork_api::retention::MAINTENANCE_ROLE);
    /// another takes over when it stops, or ten ticks, at least 5 s, after
    /// it crashed). Each tick the leader prunes finished jobs past their
    /// retention (see [`with_retention`](Self::with_retention)), up to
    /// 50,000 in transactions of 5,000, and gives back the space of
    /// finished rows when enough has piled up
    /// ([`Storage::reclaim_space`](hammerwork_api::Storage::reclaim_space)).
    /// Every second by default.
    pub fn with_maintenance_interval(mut self, interval: Duration) -> Self {
        self.maintenance_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How long finished jobs are kept before the maintenance leader prunes
    /// them ([`Storage::prune_at`](hammerwork_api::Storage::prune_at)). By
    /// default [`RetentionPolicy::default()`]: completed and skipped jobs
    /// 24 hours, cancelled and dead ones 7 days after they ended;
    /// [`RetentionPolicy::keep_everything()`] keeps every job for ever.
    /// Workers that share a database should share a policy: whichever
    /// leads applies its own.
    pub fn with_retention(mut self, retention: RetentionPolicy) -> Self {
        self.retention = retention;
        self
    }

    /// Runs the spawn handlers of `manager` for jobs that carry a spawn
    /// configuration (see [`spawn`](crate::spawn)): after the job's handler
    /// succeeds, its [`SpawnHandler`](crate::spawn::SpawnHandler) builds the
    /// children, and the completion, the children and the operation record
    /// are written in one transaction. An unknown handler, a configuration
    /// that does not parse, too many children, too deep a tree, a
    /// `validate_spawn` refusal or children that do not validate fail the job
    /// for good with an [`Error::Spawn`] (or validation) message, writing no
    /// child; an error from `spawn_jobs` fails the attempt, retried like a
    /// handler error. A worker without a manager fails such jobs with
    /// [`SpawnError::UnknownHandler`](crate::spawn::SpawnError).
    ///
    /// The manager's database type must be this storage's (`sqlx::Postgres`
    /// for `PostgresStorage`, ...). The spec's trailing `.build()` is not
    /// needed: this returns the worker.
    pub fn with_spawn_manager<DB: 'static>(mut self, manager: SpawnManager<DB>) -> Self
    where
        S: StorageDatabase<Database = DB>,
    {
        self.spawner = Some(Arc::new(manager));
        self
    }

    /// Starts this worker alone; see [`WorkerPool`] to run several.
    pub fn start(self) -> WorkerPoolHandle {
        let grace = self.shutdown_timeout;
        WorkerPool::new()
            .with_shutdown_timeout(grace)
            .add_worker(self)
            .start()
    }

    fn claim_size(&self) -> ClaimSize {
        match self.batch_size {
            Some(n) => ClaimSize::fixed(n),
            None => ClaimSize::adaptive(self.concurrency),
        }
    }

    fn poll_interval(&self) -> Duration {
        self.poll_interval
            .unwrap_or_else(|| match self.storage.capabilities().wakeups {
                WakeupScope::Cluster => Duration::from_secs(1),
                _ => Duration::from_millis(100),
            })
    }

    /// Runs until `shutdown` turns true, then stops claiming, gives back
    /// unstarted jobs, waits up to `grace` for running ones (giving back those
    /// still running after it), and flushes every outcome.
    pub(crate) async fn run(self, mut shutdown: watch::Receiver<bool>, grace: Duration) {
        let leases: Leases = Arc::default();
        let metrics = Arc::new(QueueMetrics::new(&self.queue));
        let (settle_tx, settle_rx) = mpsc::unbounded_channel::<Settlement>();
        let wake = Arc::new(Notify::new());
        let recurring: Recurring = Arc::default();
        // Wakes the scheduler when a recurring job of this worker settled.
        let scheduler_nudge = Arc::new(Notify::new());
        let (stop_aux_tx, stop_aux) = watch::channel(false);

        if let Err(err) = self.clock.sync(&self.storage).await {
            tracing::warn!(error = %err, "could not read the database's clock; using this host's until the next try");
        }
        let clock_sync = tokio::spawn(clock_loop(
            self.storage.clone(),
            self.clock.clone(),
            stop_aux.clone(),
        ));
        let completer = tokio::spawn(complete_loop(
            Completer {
                storage: self.storage.clone(),
                senders: settle_tx.downgrade(),
                leases: leases.clone(),
                clock: self.clock.clone(),
                nudges: Nudges {
                    claim: wake.clone(),
                    scheduler: scheduler_nudge.clone(),
                    recurring: recurring.clone(),
                },
                metrics: metrics.clone(),
            },
            settle_rx,
        ));
        let heartbeat = tokio::spawn(heartbeat_loop(
            self.storage.clone(),
            leases.clone(),
            self.lease_duration,
            self.clock.clone(),
            stop_aux.clone(),
        ));
        let rescuer = tokio::spawn(rescue_loop(
            self.storage.clone(),
            self.rescue_interval,
            self.clock.clone(),
            stop_aux.clone(),
        ));
        let scheduler = tokio::spawn(scheduler_loop(
            self.storage.clone(),
            self.scheduler_interval,
            self.clock.clone(),
            scheduler_nudge,
            stop_aux.clone(),
        ));
        let maintainer = tokio::spawn(maintenance_loop(
            self.storage.clone(),
            self.maintenance_interval,
            self.retention.clone(),
            self.clock.clone(),
            stop_aux.clone(),
        ));
        let listener = (self.storage.capabilities().wakeups != WakeupScope::None).then(|| {
            tokio::spawn(listen_loop(
                self.storage.clone(),
                self.queue.clone(),
                wake.clone(),
            ))
        });

        let outbox = Outbox {
            settle_tx,
            leases: leases.clone(),
            metrics: metrics.clone(),
            recurring,
        };
        let semaphore = Arc::new(Semaphore::new(self.concurrency));
        let mut size = self.claim_size();
        let poll_interval = self.poll_interval();
        let mut buffer: VecDeque<Job> = VecDeque::new();
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut running: HashMap<tokio::task::Id, Lease> = HashMap::new();
        // The claim on the wire, if any, and how many jobs it asked for. It
        // runs while buffered jobs go on starting.
        let mut claim: Option<BoxFuture<'_, (hammerwork_api::Result<Vec<Job>>, u32)>> = None;
        // When it went out.
        let mut sent_at = Instant::now();
        // Whether the last claim that came back was full (one claim is on
        // the wire at a time, so while one is, this is of the one before).
        let mut last_full = false;
        // The last claim that came back: when, the buffer's level after it,
        // and its round trip.
        let mut filled: Option<(Instant, usize, Duration)> = None;
        let mut drained = false;
        // Whether the buffer's surplus went back while a claim was on the
        // wire: what that claim brings beyond the starting size goes too.
        let mut shrunk_in_flight = false;
        let mut idle_delay = MIN_IDLE_DELAY;
        let mut found_none = false;

        while !*shutdown.borrow() {
            while let Some(done) = tasks.try_join_next_with_id() {
                running.remove(&task_id(&done));
            }
            while !buffer.is_empty() {
                let Ok(permit) = semaphore.clone().try_acquire_owned() else {
                    break;
                };
                let job = buffer.pop_front().expect("buffer is not empty");
                self.spawn_job(&mut tasks, &mut running, job, permit, &outbox);
            }
            if claim.is_none() && !drained && buffer.len() < size.refill_below() {
                if let Some((at, level, round_trip)) = filled {
                    let started = level.saturating_sub(buffer.len());
                    size.pace(started, at.elapsed(), round_trip);
                }
                // Paced down, the buffer may hold enough for now.
                if buffer.len() < size.refill_below() {
                    let want = size.get() - buffer.len() as u32;
                    sent_at = Instant::now();
                    let now = self.clock.now();
                    let params =
                        ClaimParams::new(self.queue.clone(), want, now, now + self.lease_duration);
                    let storage = &self.storage;
                    claim = Some(Box::pin(
                        async move { (storage.claim_jobs(params).await, want) },
                    ));
                }
            }
            // Jobs beyond the starting size, still waiting a while after the
            // last claim came back: when they are to go back.
            let floor = size.floor() as usize;
            let surplus_at = filled.filter(|_| buffer.len() > floor).map(|(at, _, rt)| {
                let wait = SURPLUS_WAIT.max(rt.mul_f64(PACE_MARGIN));
                tokio::time::Instant::from_std(at + wait)
            });
            if claim.is_none() && buffer.is_empty() {
                // Drained (otherwise a claim went out just above): nothing to
                // start until the queue has work again.
                let pause = if found_none {
                    self.until_due(idle_delay).await
                } else {
                    idle_delay
                };
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.changed() => {}
                }
                drained = false;
                continue;
            }
            tokio::select! {
                (claimed, want) = async { claim.as_mut().expect("a claim is on the wire").await }, if claim.is_some() => {
                    claim = None;
                    let shrunk = std::mem::take(&mut shrunk_in_flight);
                    match claimed {
                        Ok(jobs) => {
                            metrics.claimed(jobs.len());
                            size.observe(ClaimReturn {
                                wanted: want,
                                got: jobs.len(),
                                after_full_claim: last_full,
                                buffered: buffer.len(),
                                slot_free: semaphore.available_permits() > 0,
                            });
                            drained = (jobs.len() as u32) < want;
                            last_full = !drained;
                            found_none = jobs.is_empty();
                            idle_delay = if jobs.is_empty() {
                                (idle_delay * 2).min(poll_interval)
                            } else {
                                MIN_IDLE_DELAY
                            };
                            hold(&leases, &jobs);
                            buffer.extend(jobs);
                            if shrunk && buffer.len() > floor {
                                give_back(&outbox, buffer.drain(floor..));
                            }
                            filled = Some((Instant::now(), buffer.len(), sent_at.elapsed()));
                        }
                        Err(err) => {
                            tracing::warn!(queue = %self.queue, error = %err, "claim failed; backing off");
                            drained = true;
                            last_full = false;
                            idle_delay = poll_interval;
                        }
                    }
                }
                permit = semaphore.clone().acquire_owned(), if !buffer.is_empty() => {
                    let permit = permit.expect("semaphore is never closed");
                    let job = buffer.pop_front().expect("buffer is not empty");
                    self.spawn_job(&mut tasks, &mut running, job, permit, &outbox);
                }
                () = async { tokio::time::sleep_until(surplus_at.expect("a surplus")).await }, if surplus_at.is_some() => {
                    // The last to arrive go back.
                    tracing::debug!(queue = %self.queue, jobs = buffer.len() - floor, "jobs turned slow; giving back the buffer's surplus");
                    give_back(&outbox, buffer.drain(floor..));
                    size.shrink();
                    shrunk_in_flight = claim.is_some();
                    filled = filled.map(|(_, _, round_trip)| (Instant::now(), buffer.len(), round_trip));
                }
                _ = shutdown.changed() => {}
            }
        }

        // A claim still on the wire may have leased jobs already: take them,
        // to give them back with the rest of the buffer.
        if let Some(claim) = claim.take() {
            if let (Ok(jobs), _) = claim.await {
                hold(&leases, &jobs);
                buffer.extend(jobs);
            }
        }
        // Shutdown: give back what never started, then let running jobs finish.
        give_back(&outbox, buffer.drain(..));
        let drain = async {
            while let Some(done) = tasks.join_next_with_id().await {
                running.remove(&task_id(&done));
            }
        };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!(queue = %self.queue, still_running = running.len(), "shutdown grace elapsed; giving back running jobs");
            tasks.abort_all();
            while let Some(done) = tasks.join_next_with_id().await {
                if let Some(lease) = running.remove(&task_id(&done)) {
                    let _ = outbox
                        .settle_tx
                        .send(Settlement::new(lease, Outcome::GiveBack { started: true }));
                }
            }
        }
        // The completer ends once this last sender (and every attempt's) is gone.
        drop(outbox);
        let _ = completer.await;
        let _ = stop_aux_tx.send(true);
        let _ = heartbeat.await;
        let _ = rescuer.await;
        let _ = scheduler.await;
        let _ = maintainer.await;
        let _ = clock_sync.await;
        if let Some(listener) = listener {
            listener.abort();
        }
    }

    /// How long an idle worker sleeps: `idle_delay`, or less when a job of
    /// its queue falls due sooner (a delayed job, a retry after backoff, a
    /// cron occurrence), so it starts on time rather than at the next poll.
    async fn until_due(&self, idle_delay: Duration) -> Duration {
        let now = self.clock.now();
        match self.storage.next_due(&self.queue, now).await {
            Ok(Some(due)) => (due - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(MIN_DUE_PAUSE, idle_delay.max(MIN_DUE_PAUSE)),
            Ok(None) => idle_delay,
            Err(err) => {
                tracing::debug!(queue = %self.queue, error = %err, "could not read the next due time; polling");
                idle_delay
            }
        }
    }

    fn spawn_job(
        &self,
        tasks: &mut JoinSet<()>,
        running: &mut HashMap<tokio::task::Id, Lease>,
        job: Job,
        permit: OwnedSemaphorePermit,
        outbox: &Outbox,
    ) {
        let lease = Lease::of(&job);
        if job.cron_schedule.is_some() {
            let mut recurring = outbox.recurring.lock().expect("recurring set poisoned");
            recurring.insert(job.id);
        }
        let Outbox {
            settle_tx,
            leases,
            metrics,
            ..
        } = outbox.clone();
        let span = tracing::info_span!(
            "hammerwork.job",
            job.id = %job.id,
            job.queue = %job.queue_name,
            job.attempt = job.attempts,
            trace_id = job.trace_id.as_deref().unwrap_or(""),
            correlation_id = job.correlation_id.as_deref().unwrap_or(""),
        );
        let handler = self.handler.clone();
        let spawning = job
            .payload
            .get(SPAWN_CONFIG_KEY)
            .is_some()
            .then(|| (Box::new(job.clone()), self.spawner.clone()));
        let storage = self.context_storage.clone();
        let attempts_left = job.attempts < job.max_attempts;
        let in_workflow = job.workflow_id.is_some();
        let ctx = JobContext::new(job, storage.clone());
        let clock = self.clock.clone();
        // Boxed once here: the attempt's future holds the whole job, and
        // unboxed it would be copied again at each move into tokio's task.
        let handle: AbortHandle = tasks.spawn(Box::pin(
            async move {
                let attempt = async {
                    let mut outcome =
                        Box::pin(run_attempt(handler.as_ref(), ctx, &clock, &metrics)).await;
                    if let (Outcome::Completed { result }, Some((parent, spawner))) =
                        (&outcome, spawning)
                    {
                        // Boxed: the spawn path's state would otherwise make
                        // every job's task larger, copied into and out of
                        // tokio's task cell.
                        let spawned = Box::pin(spawn_children(
                            &parent,
                            spawner,
                            storage,
                            lease,
                            result.clone(),
                            &clock,
                            &metrics,
                        ))
                        .await;
                        match spawned {
                            // Written (or already settled by someone else).
                            Ok(true) => return None,
                            Ok(false) => {}
                            Err(failure) => outcome = failure,
                        }
                    }
                    Some(outcome)
                };
                // The handler runs under its own guard; this one covers the
                // rest of the attempt (backoff, spawning), so that no panic
                // leaves the job running while its lease is renewed.
                let outcome = AssertUnwindSafe(attempt)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| {
                        let detail = panic_detail(panic.as_ref());
                        let error = format!("{detail} (after the handler returned)");
                        tracing::error!(error = %error, "job attempt panicked outside its handler");
                        let retry_at = attempts_left.then(|| later(clock.now(), PANIC_RETRY_DELAY));
                        Some(Outcome::Failed { error, retry_at })
                    });
                drop(permit);
                match outcome {
                    Some(outcome) => {
                        let settled = Settlement::new(lease, outcome).in_workflow(in_workflow);
                        let _ = settle_tx.send(settled);
                    }
                    None => {
                        release(&leases, lease);
                    }
                }
            }
            .instrument(span),
        ));
        running.insert(handle.id(), lease);
    }
}

/// Stops heartbeating `lease`, unless the job has been claimed again since
/// (by this worker: the entry is then the newer claim's).
fn release(leases: &Leases, lease: Lease) {
    release_all(leases, [lease]);
}

/// [`release`] of each lease, under one lock.
fn release_all(leases: &Leases, released: impl IntoIterator<Item = Lease>) {
    let mut held = leases.lock().expect("lease map poisoned");
    for lease in released {
        if held.get(&lease.id) == Some(&lease.claim) {
            held.remove(&lease.id);
        }
    }
}

fn task_id(done: &Result<(tokio::task::Id, ()), tokio::task::JoinError>) -> tokio::task::Id {
    match done {
        Ok((id, ())) => *id,
        Err(err) => err.id(),
    }
}

/// Runs one attempt under its timeout, turning a panic into a failure.
async fn run_attempt(
    handler: &dyn JobHandler,
    ctx: JobContext,
    clock: &Clock,
    metrics: &QueueMetrics,
) -> Outcome {
    let timeout = ctx.job.timeout;
    let retry = ctx.job.retry_state();
    let started = std::time::Instant::now();
    let attempt = AssertUnwindSafe(handler.handle(ctx)).catch_unwind();
    let result = match timeout {
        Some(limit) => match tokio::time::timeout(limit, attempt).await {
            Ok(result) => result,
            Err(_) => Ok(Err(format!("timed out after {limit:?}").into())),
        },
        None => attempt.await,
    };
    metrics.ran(started.elapsed());
    let error = match result {
        Ok(Ok(value)) => {
            tracing::debug!("job completed");
            return Outcome::Completed { result: value };
        }
        Ok(Err(err)) => err.to_string(),
        Err(panic) => panic_message(panic.as_ref()),
    };
    let retry_at = retry.next_retry_at(clock.now(), rand::random::<f64>());
    tracing::warn!(error = %error, retry = retry_at.is_some(), "job attempt failed");
    Outcome::Failed { error, retry_at }
}

/// Runs `parent`'s spawn after its handler succeeded and writes completion and
/// children together. `Ok(true)`: done; `Ok(false)`: the job does not spawn
/// after all (settle it as completed); `Err(outcome)`: settle this failure.
async fn spawn_children(
    parent: &Job,
    spawner: Option<Arc<dyn Spawner>>,
    storage: Arc<dyn Storage>,
    lease: Lease,
    result: Option<serde_json::Value>,
    clock: &Clock,
    metrics: &QueueMetrics,
) -> Result<bool, Outcome> {
    let fail = |error: Error, retryable: bool| {
        let retry_at = if retryable {
            parent.next_retry_at(clock.now(), rand::random::<f64>())
        } else {
            None
        };
        tracing::warn!(error = %error, retry = retry_at.is_some(), "spawn failed");
        Outcome::Failed {
            error: error.to_string(),
            retry_at,
        }
    };
    // The spawn handler runs under the job's timeout too.
    let plan = async {
        match &spawner {
            Some(spawner) => spawner.plan(parent, storage.clone(), clock.now()).await,
            None => crate::spawn::plan_with::<()>(None, parent, storage.clone(), clock.now()).await,
        }
    };
    let planned = match parent.timeout {
        Some(limit) => match tokio::time::timeout(limit, plan).await {
            Ok(planned) => planned,
            Err(_) => {
                let error = SpawnError::failed(format!("spawn handler timed out after {limit:?}"));
                return Err(fail(error, true));
            }
        },
        None => plan.await,
    };
    let set = match planned {
        Ok(SpawnPlan::None) => return Ok(false),
        Ok(SpawnPlan::Spawn(set)) => set,
        Err((error, retryable)) => return Err(fail(error, retryable)),
    };
    // The write is fenced by the attempt, so retrying it is safe: a database
    // hiccup must not fail a job whose handler already succeeded. The lease
    // is heartbeated meanwhile.
    let mut backoff = Duration::from_millis(50);
    for tries in 1.. {
        match storage
            .complete_and_spawn(lease, result.clone(), &set, clock.now())
            .await
        {
            Ok(written) => {
                if written {
                    metrics.spawned(set.children.len());
                    tracing::debug!(children = set.children.len(), operation = %set.operation.id, "job completed and spawned");
                }
                return Ok(true);
            }
            Err(error @ Error::Backend(_)) if tries < SPAWN_WRITE_TRIES => {
                tracing::warn!(error = %error, "writing the spawn failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            // Still unreachable: fail the attempt (retried later) rather
            // than hold the job.
            Err(error @ Error::Backend(_)) => return Err(fail(error, true)),
            // The children do not validate (missing dependency, cycle, taken
            // operation id): that will not change on retry.
            Err(error) => return Err(fail(error, false)),
        }
    }
    unreachable!("the retry loop returns")
}

/// `"panicked: <message>"` of a panic payload.
fn panic_detail(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    format!("panicked: {detail}")
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    format!("handler {}", panic_detail(panic))
}

/// Whom [`complete_loop`] wakes once a batch is written.
#[derive(Clone)]
struct Nudges {
    /// The claim loop, when a retry waits for its backoff.
    claim: Arc<Notify>,
    /// The scheduler, when a recurring job settled: its successor is
    /// enqueued now, not at the scheduler's next tick, which may come after
    /// the successor's time (an every-second job would then start late).
    scheduler: Arc<Notify>,
    recurring: Recurring,
}

/// What writing a batch of outcomes needs, shared by the batches in flight.
#[derive(Clone)]
struct Completer<S> {
    storage: S,
    /// The settle queue's senders, held weakly: none left means shutdown.
    senders: mpsc::WeakUnboundedSender<Settlement>,
    leases: Leases,
    clock: Clock,
    nudges: Nudges,
    metrics: Arc<QueueMetrics>,
}

/// Writes outcomes in batches, as many at once as the backend's
/// [`Capabilities::settle_batches`](hammerwork_api::Capabilities::settle_batches):
/// whatever has arrived while the batches in flight were being written goes
/// in the next one, on another connection. Two batches never hold the same
/// attempt, so they change different job rows; what they may share (a
/// workflow, a parent) the engine locks in one order, retrying a deadlock. A
/// failed write is retried, never dropped (until the leases expire, the jobs
/// are ours).
async fn complete_loop<S: Storage + Clone + 'static>(
    completer: Completer<S>,
    mut rx: mpsc::UnboundedReceiver<Settlement>,
) {
    let in_flight = completer.storage.capabilities().settle_batches.max(1);
    // Polled by this task (no task per batch: a chain of jobs settles one at
    // a time, and a hop to another task would add to each step).
    let mut writing = FuturesUnordered::new();
    loop {
        let mut batch = Vec::new();
        // One branch is always on: with every batch slot taken, a write is
        // in flight.
        tokio::select! {
            biased;
            Some(()) = writing.next(), if !writing.is_empty() => {}
            // Cancel-safe: nothing is taken unless it completes.
            received = rx.recv_many(&mut batch, MAX_SETTLE_BATCH), if writing.len() < in_flight => {
                if received == 0 {
                    break;
                }
                writing.push(completer.clone().write(batch));
            }
        }
    }
    while writing.next().await.is_some() {}
}

impl<S: Storage> Completer<S> {
    /// Writes one batch, then releases its leases and wakes whom it concerns.
    async fn write(self, batch: Vec<Settlement>) {
        let mut backoff = Duration::from_millis(50);
        let mut tries = 0;
        loop {
            let started = std::time::Instant::now();
            match self.storage.settle_jobs(&batch, self.clock.now()).await {
                Ok(_) => {
                    self.metrics.settled(&batch, Some(started.elapsed()));
                    break;
                }
                // A result the database refuses (e.g. JSON it cannot store)
                // must not hold back the rest of the batch: settle one by one,
                // failing the job whose result cannot be stored.
                Err(Error::InvalidPayload(_)) => {
                    settle_one_by_one(&self.storage, &batch, &self.clock, &self.metrics).await;
                    break;
                }
                // Shutting down with the database unreachable: stop trying. The
                // leases expire and the jobs are rescued and run again.
                Err(err) if self.senders.strong_count() == 0 && tries >= SHUTDOWN_SETTLE_TRIES => {
                    tracing::error!(error = %err, jobs = batch.len(), "could not write outcomes before shutdown; the jobs will be rescued when their leases expire");
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, jobs = batch.len(), "settling outcomes failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    tries += 1;
                }
            }
        }
        // A retry now waits for its backoff: the claim loop reads when it
        // falls due (it may have looked before this was written).
        let retrying = batch.iter().any(|s| {
            matches!(
                s.outcome,
                Outcome::Failed {
                    retry_at: Some(_),
                    ..
                }
            )
        });
        let recurring_settled = {
            let mut recurring = self
                .nudges
                .recurring
                .lock()
                .expect("recurring set poisoned");
            !recurring.is_empty()
                && batch
                    .iter()
                    .filter(|s| recurring.remove(&s.lease.id))
                    .count()
                    > 0
        };
        release_all(&self.leases, batch.iter().map(|s| s.lease));
        if retrying {
            self.nudges.claim.notify_one();
        }
        if recurring_settled {
            self.nudges.scheduler.notify_one();
        }
    }
}

/// Settles each outcome on its own; an outcome whose result the database
/// refuses becomes a permanent failure naming why. Other errors are logged:
/// those jobs are rescued when their leases expire.
async fn settle_one_by_one<S: Storage>(
    storage: &S,
    batch: &[Settlement],
    clock: &Clock,
    metrics: &QueueMetrics,
) {
    for settlement in batch {
        let mut result = storage
            .settle_jobs(std::slice::from_ref(settlement), clock.now())
            .await;
        let mut written = settlement.clone();
        if let Err(Error::InvalidPayload(why)) = &result {
            let failed = Outcome::Failed {
                error: format!("the job's result could not be stored: {why}"),
                retry_at: None,
            };
            written.outcome = failed;
            result = storage
                .settle_jobs(std::slice::from_ref(&written), clock.now())
                .await;
        }
        match result {
            Ok(_) => metrics.settled(std::slice::from_ref(&written), None),
            Err(err) => {
                tracing::error!(job = %settlement.lease.id, error = %err, "could not write the job's outcome; it will be rescued when its lease expires");
            }
        }
    }
}

/// Renews the leases of every job this worker holds, every third of the lease.
async fn heartbeat_loop<S: Storage>(
    storage: S,
    leases: Leases,
    lease_duration: Duration,
    clock: Clock,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(lease_duration / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let held: Vec<Lease> = leases
            .lock()
            .expect("lease map poisoned")
            .iter()
            .map(|(&id, &claim)| Lease { id, claim })
            .collect();
        if held.is_empty() {
            continue;
        }
        if let Err(err) = storage
            .heartbeat_jobs(&held, clock.now() + lease_duration)
            .await
        {
            tracing::warn!(error = %err, jobs = held.len(), "heartbeat failed");
        }
    }
}

/// Runs `task` at each tick of `tick`, and whenever `nudge` is notified,
/// until `stop` changes (missed ticks are delayed, not bunched).
async fn every<F, Fut>(
    mut tick: tokio::time::Interval,
    nudge: Option<&Notify>,
    mut stop: watch::Receiver<bool>,
    mut task: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let nudged = || async {
        match nudge {
            Some(nudge) => nudge.notified().await,
            None => std::future::pending().await,
        }
    };
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = nudged() => {}
            _ = stop.changed() => return,
        }
        task().await;
    }
}

/// Rescues jobs whose worker stopped heartbeating, and fails workflows past
/// their timeout.
async fn rescue_loop<S: Storage>(
    storage: S,
    interval: Duration,
    clock: Clock,
    stop: watch::Receiver<bool>,
) {
    every(tokio::time::interval(interval), None, stop, || async {
        match storage.rescue_expired_jobs(clock.now()).await {
            Ok(0) => {}
            Ok(n) => {
                recorded::rescued(n);
                tracing::info!(rescued = n, "rescued jobs with expired leases");
            }
            Err(err) => tracing::warn!(error = %err, "rescue failed"),
        }
        match storage.expire_workflows(clock.now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "failed workflows past their timeout"),
            Err(err) => tracing::warn!(error = %err, "expiring workflows failed"),
        }
    })
    .await
}

/// Runs `work` every `interval` while this worker leads `role` (one worker
/// of all that share the database does at a time), renewing the lead each
/// tick; gives the role up when the worker stops. A leader that crashed is
/// taken over ten ticks (at least 5 s) after its last renewal.
async fn lead_loop<S, F, Fut>(
    storage: &S,
    role: &'static str,
    interval: Duration,
    nudge: Option<&Notify>,
    stop: watch::Receiver<bool>,
    work: F,
) where
    S: Storage,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let holder = format!("worker-{}-{}", std::process::id(), JobId::new());
    let ttl = (interval * 10).max(LEAD_TTL_MIN);
    let (work, holder) = (&work, &holder);
    every(
        tokio::time::interval(interval),
        nudge,
        stop,
        || async move {
            match storage.try_lead(role, holder, ttl).await {
                Ok(true) => work().await,
                Ok(false) => {}
                Err(err) => tracing::warn!(error = %err, role, "could not take the lead"),
            }
        },
    )
    .await;
    if let Err(err) = storage.resign(role, holder).await {
        tracing::warn!(error = %err, role, "could not give up the lead");
    }
}

/// Continues the series of finished recurring jobs and workflows while this
/// worker leads the scheduler role, backing off series that fail: at each
/// tick, and at once when `nudge` says one of this worker's recurring jobs
/// settled.
async fn scheduler_loop<S: Storage>(
    storage: S,
    interval: Duration,
    clock: Clock,
    nudge: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    let backoff = tokio::sync::Mutex::new(SeriesBackoff::new());
    lead_loop(
        &storage,
        SCHEDULER_ROLE,
        interval,
        Some(&nudge),
        stop,
        || {
            let (storage, clock, backoff) = (&storage, &clock, &backoff);
            async move {
                let mut backoff = backoff.lock().await;
                match storage
                    .advance_recurrences_with(clock.now(), &mut backoff)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::debug!(advanced = n, "enqueued next occurrences of recurring work")
                    }
                    Err(err) => tracing::warn!(error = %err, "scheduling recurring work failed"),
                }
            }
        },
    )
    .await
}

/// Maintains the database while this worker leads the maintenance role:
/// prunes finished jobs past their retention, in transactions of
/// [`PRUNE_BATCH`] jobs (at most [`PRUNE_BATCHES_PER_TICK`] a tick), then
/// gives back the space of finished rows when enough has piled up.
async fn maintenance_loop<S: Storage>(
    storage: S,
    interval: Duration,
    retention: RetentionPolicy,
    clock: Clock,
    stop: watch::Receiver<bool>,
) {
    let stopping = stop.clone();
    let (storage, retention, clock, stopping) = (&storage, &retention, &clock, &stopping);
    lead_loop(
        storage,
        MAINTENANCE_ROLE,
        interval,
        None,
        stop,
        || async move {
            // A stopping worker ends its tick at the next transaction boundary.
            let stopped = || *stopping.borrow();
            for _ in 0..PRUNE_BATCHES_PER_TICK {
                if stopped() {
                    return;
                }
                match storage.prune_at(retention, clock.now(), PRUNE_BATCH).await {
                    Ok(pruned) if pruned.jobs == 0 => break,
                    Ok(pruned) => {
                        tracing::debug!(jobs = pruned.jobs, "pruned finished jobs");
                        if pruned.jobs < u64::from(PRUNE_BATCH) {
                            break;
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "pruning failed");
                        break;
                    }
                }
            }
            if stopped() {
                return;
            }
            match storage.reclaim_space().await {
                Ok(false) => {}
                Ok(true) => tracing::debug!("reclaimed the space of finished jobs"),
                Err(err) => tracing::warn!(error = %err, "reclaiming space failed"),
            }
        },
    )
    .await
}

/// Measures the offset to the database's clock again every minute, the first
/// time a minute after the measure taken at start.
async fn clock_loop<S: Storage>(storage: S, clock: Clock, stop: watch::Receiver<bool>) {
    let first = tokio::time::Instant::now() + CLOCK_SYNC_INTERVAL;
    let tick = tokio::time::interval_at(first, CLOCK_SYNC_INTERVAL);
    every(tick, None, stop, || async {
        if let Err(err) = clock.sync(&storage).await {
            tracing::warn!(error = %err, "could not read the database's clock");
        }
    })
    .await
}

/// Wakes the fetch loop when the backend says `queue` (or any queue) got work.
async fn listen_loop<S: Storage>(storage: S, queue: String, wake: Arc<Notify>) {
    loop {
        match storage.listen().await {
            Ok(Some(mut listener)) => {
                while let Some(name) = listener.recv().await {
                    if name.is_empty() || name == queue {
                        wake.notify_one();
                    }
                }
            }
            Ok(None) => return,
            Err(err) => tracing::warn!(error = %err, "listen failed; polling meanwhile"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
