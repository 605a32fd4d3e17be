//! Coalesced enqueue: single-job `enqueue` calls that arrive together on one
//! storage share one transaction and one commit.
//!
//! A call hands its job to the storage's flusher task and awaits its own
//! result. The flusher takes every call waiting (up to [`MAX_CALLERS`], fewer
//! when the storage's [`Limits`] would let their payloads exceed one batch)
//! and writes their jobs in one statement or transaction while the next calls
//! queue up, so under load each commit carries many callers' jobs and one
//! caller alone pays one channel hop.
//!
//! - When the shared write fails because of a job (a duplicate id, a payload
//!   the database refuses), each job is written alone, so a bad job fails
//!   only its caller. Any other failure (the database unreachable) is every
//!   caller's answer, without writing the jobs one by one.
//! - A call whose future was dropped before its turn is not written.
//! - The flusher holds the driver, not the storage: when the last clone of
//!   the storage is dropped the channel closes and the task ends. It runs on
//!   the runtime of the call that started it; a call from another runtime
//!   starts its own, and a call outside any tokio runtime writes directly.

use std::sync::{Arc, Mutex, PoisonError};

use hammerwork_api::driver::Driver;
use hammerwork_api::workflow::PlannedJob;
use hammerwork_api::{Error, Job, Limits, Result};
use tokio::runtime::{Handle, Id};
use tokio::sync::{mpsc, oneshot};

use crate::enqueue::write_independent_jobs;

/// Most calls written by one commit.
pub(crate) const MAX_CALLERS: usize = 64;

/// One call waiting for its job to be written.
struct Waiting {
    job: Job,
    plan: PlannedJob,
    /// How many calls may share this one's commit: the storage's batch limit
    /// over its payload limit, so the shared statement stays within the batch
    /// limit.
    cap: usize,
    done: oneshot::Sender<Result<()>>,
}

/// The sending side of a storage's flusher task, started on first use, with
/// the runtime it runs on.
#[derive(Debug, Default)]
pub(crate) struct Coalescer {
    sender: Mutex<Option<(Id, mpsc::UnboundedSender<Waiting>)>>,
}

impl Coalescer {
    /// Writes `job` (independent, checked, planned as `plan`) together with
    /// the other calls waiting, and returns this job's own result.
    pub(crate) async fn enqueue<D: Driver>(
        &self,
        driver: &Arc<D>,
        limits: &Limits,
        job: Job,
        plan: PlannedJob,
    ) -> Result<()> {
        let Ok(runtime) = Handle::try_current() else {
            return write_independent_jobs(&**driver, &[job], &[plan]).await;
        };
        let cap = (limits.max_batch_bytes / limits.max_payload_bytes.max(1)).clamp(1, MAX_CALLERS);
        let (done, result) = oneshot::channel();
        self.send(
            driver,
            &runtime,
            Waiting {
                job,
                plan,
                cap,
                done,
            },
        );
        result.await.unwrap_or_else(|_| {
            Err(Error::Backend(
                "the enqueue task stopped with its runtime".into(),
            ))
        })
    }

    fn send<D: Driver>(&self, driver: &Arc<D>, runtime: &Handle, waiting: Waiting) {
        let mut sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        let waiting = match sender.as_ref() {
            Some((id, tx)) if *id == runtime.id() => match tx.send(waiting) {
                Ok(()) => return,
                Err(mpsc::error::SendError(waiting)) => waiting,
            },
            _ => waiting,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        runtime.spawn(flush_loop(driver.clone(), rx));
        let _ = tx.send(waiting);
        *sender = Some((runtime.id(), tx));
    }
}

async fn flush_loop<D: Driver>(driver: Arc<D>, mut rx: mpsc::UnboundedReceiver<Waiting>) {
    let mut waiting = Vec::with_capacity(MAX_CALLERS);
    while rx.recv_many(&mut waiting, MAX_CALLERS).await > 0 {
        waiting.retain(|w| !w.done.is_closed());
        while !waiting.is_empty() {
            // The longest prefix whose size every member's cap allows.
            let (mut cap, mut n) = (MAX_CALLERS, 0);
            for w in &waiting {
                cap = cap.min(w.cap);
                if n >= cap {
                    break;
                }
                n += 1;
            }
            let group: Vec<Waiting> = waiting.drain(..n.max(1)).collect();
            flush(&*driver, group).await;
        }
    }
}

/// Writes the group's jobs in one go and answers each caller; when that fails
/// because of a job, writes each alone so each caller gets its own answer.
async fn flush<D: Driver>(driver: &D, group: Vec<Waiting>) {
    let mut jobs = Vec::with_capacity(group.len());
    let mut plans = Vec::with_capacity(group.len());
    let mut dones = Vec::with_capacity(group.len());
    for w in group {
        jobs.push(w.job);
        plans.push(w.plan);
        dones.push(w.done);
    }
    let err = match write_independent_jobs(driver, &jobs, &plans).await {
        Ok(()) => {
            for done in dones {
                let _ = done.send(Ok(()));
            }
            return;
        }
        Err(err) => err,
    };
    let about_a_job = matches!(
        err,
        Error::DuplicateJob { .. } | Error::InvalidPayload(_) | Error::InvalidJob { .. }
    );
    if dones.len() == 1 || !about_a_job {
        let mut dones = dones.into_iter();
        let first = dones.next();
        for done in dones {
            let _ = done.send(Err(like(&err)));
        }
        if let Some(first) = first {
            let _ = first.send(Err(err));
        }
        return;
    }
    for ((job, plan), done) in jobs.iter().zip(&plans).zip(dones) {
        let alone = write_independent_jobs(
            driver,
            std::slice::from_ref(job),
            std::slice::from_ref(plan),
        );
        let _ = done.send(alone.await);
    }
}

/// An error of the same kind and message as `err`, for a second caller
/// (errors are not `Clone`).
fn like(err: &Error) -> Error {
    match err {
        Error::Conflict(e) => Error::Conflict(e.to_string().into()),
        other => Error::Backend(other.to_string().into()),
    }
}
