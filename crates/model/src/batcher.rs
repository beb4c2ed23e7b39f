//! Decode steps of many generations run together. A server answering eight requests at once
//! would otherwise stream all the weights eight times per step; here each generation hands
//! its next token (and its KV cache) to one thread, which runs everything that has gathered as
//! one [`Gpt2::forward_batch`] and hands each its logits back.
//!
//! Generations join with [`Batcher::session`]. A batch starts once every session has a step
//! waiting, or [`GATHER`] after its first step arrived (a session may be busy explaining its
//! last step or finishing), so one lone generation never waits at all.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::forward::{Gpt2, KvCache, Sequence};
use crate::model::Model;
use crate::{Error, Result};

/// The longest a waiting step is held back for the other sessions' steps.
pub const GATHER: Duration = Duration::from_millis(5);

/// Most steps in one batch: the kernels read the weights once for up to 8 rows, and in L2
/// blocks beyond; more rows than this would make every step of the batch slower to answer.
pub const MAX_BATCH: usize = 16;

/// Runs the decode steps of every [`Session`] of one model on a thread of its own.
pub struct Batcher {
    shared: Arc<Shared>,
}

/// One generation's place in the batches; dropping it leaves.
pub struct Session {
    shared: Arc<Shared>,
}

struct Shared {
    model: Arc<Model>,
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    queue: Vec<Job>,
    /// Sessions alive: a batch waits (at most `GATHER`) for a step from each.
    sessions: usize,
    /// The batcher was dropped: the thread ends once the queue is empty.
    closed: bool,
    stats: BatchStats,
}

/// What the batches have done so far: `steps / batches` is the mean batch size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchStats {
    pub batches: u64,
    pub steps: u64,
}

/// One decode step: the cache travels to the batch thread and back with the logits.
struct Job {
    token: u32,
    cache: KvCache,
    reply: SyncSender<(KvCache, Result<Vec<f32>>)>,
}

impl Batcher {
    /// Starts the batch thread for `model`.
    pub fn new(model: Arc<Model>) -> std::io::Result<Batcher> {
        let shared = Arc::new(Shared {
            model,
            state: Mutex::default(),
            wake: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("nexttoken-batch".into())
            .spawn(move || worker.run())?;
        Ok(Batcher { shared })
    }

    pub fn model(&self) -> &Arc<Model> {
        &self.shared.model
    }

    pub fn stats(&self) -> BatchStats {
        self.shared.lock().stats
    }

    /// Joins the batches until the session is dropped.
    pub fn session(&self) -> Session {
        self.shared.lock().sessions += 1;
        Session {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

impl Session {
    /// Runs `token` after the positions in `cache`, in the next batch, and returns the logits
    /// (V,), as `Gpt2::forward` would.
    pub fn forward(&self, token: u32, cache: &mut KvCache) -> Result<Vec<f32>> {
        let (reply, answer) = sync_channel(1);
        let job = Job {
            token,
            cache: std::mem::replace(cache, KvCache::detached()),
            reply,
        };
        self.shared.lock().queue.push(job);
        self.shared.wake.notify_all();
        let (back, logits) = answer
            .recv()
            .map_err(|_| Error::Input("the batch decoder stopped".into()))?;
        *cache = back;
        logits
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.lock().sessions -= 1;
        self.shared.wake.notify_all(); // the batch may have been waiting for this one
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The batch thread: gather, run, answer, until the batcher is dropped. A panic in a
    /// batch (a bug) drops its jobs, whose sessions get an error, and the thread goes on.
    fn run(&self) {
        while let Some(jobs) = self.gather() {
            let gpt2 = &self.model.gpt2;
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| answer(gpt2, jobs)));
        }
    }

    /// The next batch: once a step waits, until every session has one or `GATHER` passes.
    /// `None` when the batcher is dropped and nothing is left.
    fn gather(&self) -> Option<Vec<Job>> {
        let mut state = self.lock();
        while state.queue.is_empty() {
            if state.closed {
                return None;
            }
            state = self
                .wake
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let deadline = Instant::now() + GATHER;
        while state.queue.len() < state.sessions.min(MAX_BATCH) && !state.closed {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = self
                .wake
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let n = state.queue.len().min(MAX_BATCH);
        state.stats.batches += 1;
        state.stats.steps += n as u64;
        Some(state.queue.drain(..n).collect())
    }
}

/// Runs one batch and sends every job its cache and logits.
fn answer(gpt2: &Gpt2, mut jobs: Vec<Job>) {
    let tokens: Vec<[u32; 1]> = jobs.iter().map(|j| [j.token]).collect();
    let mut batch: Vec<Sequence> = jobs
        .iter_mut()
        .zip(&tokens)
        .map(|(job, token)| Sequence {
            tokens: token,
            cache: &mut job.cache,
        })
        .collect();
    let result = gpt2.forward_batch(&mut batch);
    let mut logits: Vec<Result<Vec<f32>>> = match result {
        Ok(all) => all.into_iter().map(Ok).collect(),
        // forward_batch checks every sequence first: one bad step (a full context) fails the
        // batch before any cache changes, so each job is run again alone for its own answer.
        Err(_) => jobs
            .iter_mut()
            .zip(&tokens)
            .map(|(job, token)| {
                gpt2.forward_batch(&mut [Sequence {
                    tokens: token,
                    cache: &mut job.cache,
                }])
                .map(|mut l| l.swap_remove(0))
            })
            .collect(),
    };
    for job in jobs.into_iter().rev() {
        let l = logits.pop().expect("one answer per job");
        let _ = job.reply.send((job.cache, l)); // a session that went away needs no answer
    }
}
