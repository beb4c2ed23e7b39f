//! The forward passes of many generations run together. A server answering eight requests at
//! once would otherwise stream all the weights eight times per step; here each generation
//! hands its new tokens (its prompt, then one token a step) and its KV cache to one thread,
//! which runs everything that has gathered as one [`Architecture::forward_batch`] and hands
//! each its logits back.
//!
//! Generations join with [`Batcher::session`]; a [`Session`] is a [`Forward`] like the model
//! itself. A batch starts once every session has a pass waiting, or [`GATHER`] after the first
//! arrived (a session may be busy explaining its last step or finishing); a batch with a new
//! generation's prompt waits [`JOIN`] for company. A lone generation so waits only for its
//! prompt, and only 2 ms.
//!
//! A session's recorder stays on its own thread: the batch records through a [`Relay`] that
//! asks it up front which hooks it wants and streams those activations back to it.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::analysis::recorder::{Activation, Recorder};
use crate::arch::{Architecture, KvCache, Sequence, Stop};
use crate::model::{Forward, Model};
use crate::{Error, Result};

/// The longest a waiting pass is held back for the other sessions' passes. Sessions step in
/// lockstep, each explaining its last step (about half a millisecond of CPU each) before
/// sending the next; on 2 busy cores eight of them can take several milliseconds.
pub const GATHER: Duration = Duration::from_millis(20);

/// How long a new generation's prompt waits for others arriving with it (requests sent
/// together reach the server a little apart), so that they start, and then step, together.
pub const JOIN: Duration = Duration::from_millis(2);

/// Most passes in one batch: the kernels read the weights once for up to 8 rows, and in L2
/// blocks beyond; more than this would make every step of the batch slower to answer.
pub const MAX_BATCH: usize = 16;

/// Most new tokens in one batch (prompts are many): activations grow with the rows. A longer
/// pass than this runs in a batch of its own.
pub const MAX_BATCH_TOKENS: usize = 1024;

/// Runs the forward passes of every [`Session`] of one model on a thread of its own.
pub struct Batcher {
    shared: Arc<Shared>,
}

/// One generation's place in the batches; dropping it leaves.
pub struct Session {
    shared: Arc<Shared>,
    /// Raised when the generation is abandoned: its pass then ends within a layer.
    stop: Option<Stop>,
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
    /// No batch thread could start: each session runs its own passes, as the model alone.
    direct: bool,
    stats: BatchStats,
}

/// What the batches have done so far: `steps / batches` is the mean batch size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BatchStats {
    pub batches: u64,
    pub steps: u64,
}

/// One forward pass: the cache travels to the batch thread and back with the logits.
struct Job {
    tokens: Vec<u32>,
    cache: KvCache,
    /// Records for the session's recorder, when it wants anything.
    relay: Option<Relay>,
    reply: SyncSender<Reply>,
}

/// What the batch thread sends a session: activations as they are recorded, then the answer.
enum Reply {
    Recorded(Activation),
    Done {
        cache: KvCache,
        logits: Result<Vec<f32>>,
    },
}

/// Stands in on the batch thread for a session's recorder: it wants what that recorder said
/// it wants, and sends each activation back to the session's thread, which is waiting for
/// its answer and hands them on. The channel holds one at a time, so a long prompt's
/// activations never pile up.
struct Relay {
    wanted: Vec<String>,
    reply: SyncSender<Reply>,
}

impl Recorder for Relay {
    fn wants(&self, name: &str) -> bool {
        self.wanted.iter().any(|w| w == name)
    }

    fn record(&mut self, name: &str, shape: &[usize], data: &[f32]) {
        let activation = Activation {
            name: name.to_string(),
            shape: shape.to_vec(),
            data: data.to_vec(),
        };
        let _ = self.reply.send(Reply::Recorded(activation)); // a session that left needs none
    }
}

impl Batcher {
    /// Starts the batch thread for `model`. Where no thread can start (a browser's wasm, or
    /// a machine out of threads), sessions run their passes themselves instead.
    pub fn new(model: Arc<Model>) -> Batcher {
        let shared = Arc::new(Shared {
            model,
            state: Mutex::default(),
            wake: Condvar::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("nexttoken-batch".into())
            .spawn(move || worker.run());
        if thread.is_err() {
            shared.lock().direct = true;
        }
        Batcher { shared }
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
            stop: None,
        }
    }
}

impl Session {
    /// This session, its passes abandoned within a layer once `stop` is raised (they fail
    /// with [`Error::Cancelled`]); a batch shared with other sessions runs on for them.
    pub fn with_stop(mut self, stop: Stop) -> Session {
        self.stop = Some(stop);
        self
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

impl Forward for Session {
    fn model(&self) -> &Model {
        &self.shared.model
    }

    /// Runs `tokens` after the positions in `cache`, in the next batch, and returns the
    /// logits (V,) of the last, as the model alone would.
    fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        cache.set_stop(self.stop.clone()); // travels with the cache into the batch
        let logits = self.pass(tokens, cache, rec);
        cache.set_stop(None); // a state kept for later never carries this run's flag
        logits
    }
}

impl Session {
    /// One pass, in the next batch (or alone when there is no batch thread).
    fn pass(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        rec: &mut dyn Recorder,
    ) -> Result<Vec<f32>> {
        let model = &self.shared.model;
        let wanted: Vec<String> = model
            .arch
            .hook_names()
            .into_iter()
            .filter(|name| rec.wants(name))
            .collect();
        let (reply, replies) = sync_channel(1);
        let mut state = self.shared.lock();
        // A patch must change the activations inside the pass, not a relayed copy.
        if state.direct || rec.edits() {
            state.stats.count(1);
            drop(state);
            return model.forward(tokens, cache, rec);
        }
        if state.closed {
            // The batch thread ends once the queue is empty: nothing would answer.
            return Err(Error::Input("the batch decoder stopped".into()));
        }
        state.queue.push(Job {
            tokens: tokens.to_vec(),
            cache: std::mem::replace(cache, KvCache::detached()),
            relay: (!wanted.is_empty()).then(|| Relay {
                wanted,
                reply: reply.clone(),
            }),
            reply,
        });
        drop(state);
        self.shared.wake.notify_all();
        receive(replies, cache, rec)
    }
}

/// Hands the activations the batch sends to `rec` until the answer comes, then puts the
/// cache back. The channel closes without an answer only if the batch thread lost the job.
fn receive(
    replies: Receiver<Reply>,
    cache: &mut KvCache,
    rec: &mut dyn Recorder,
) -> Result<Vec<f32>> {
    for reply in replies {
        match reply {
            Reply::Recorded(a) => rec.record(&a.name, &a.shape, &a.data),
            Reply::Done {
                cache: back,
                logits,
            } => {
                *cache = back;
                return logits;
            }
        }
    }
    Err(Error::Input("the batch decoder stopped".into()))
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
            let arch = &*self.model.arch;
            let _ = std::panic::catch_unwind(AssertUnwindSafe(|| answer(arch, jobs)));
        }
    }

    /// The next batch: once a pass waits, until every session has one (and `JOIN` has passed
    /// when one is a new prompt) or `GATHER` passes.
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
        let started = Instant::now();
        loop {
            let all_in = state.queue.len() >= state.sessions.min(MAX_BATCH);
            let newcomer = state.queue.iter().any(|job| job.cache.is_empty());
            let until = match (all_in, newcomer) {
                (true, false) => break,
                (true, true) => started + JOIN,
                (false, _) => started + GATHER,
            };
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() || state.closed {
                break;
            }
            state = self
                .wake
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let (mut n, mut tokens) = (0, 0);
        for job in state.queue.iter().take(MAX_BATCH) {
            tokens += job.tokens.len();
            if n > 0 && tokens > MAX_BATCH_TOKENS {
                break;
            }
            n += 1;
        }
        state.stats.count(n);
        Some(state.queue.drain(..n).collect())
    }
}

impl BatchStats {
    fn count(&mut self, passes: usize) {
        self.batches += 1;
        self.steps += passes as u64;
    }
}

/// Runs one batch and sends every job its cache and logits.
fn answer(arch: &dyn Architecture, mut jobs: Vec<Job>) {
    let logits: Vec<Result<Vec<f32>>> = match run(arch, &mut jobs) {
        Ok(all) => all.into_iter().map(Ok).collect(),
        Err(Error::Cancelled) => jobs.iter().map(|_| Err(Error::Cancelled)).collect(),
        // forward_batch checks every sequence first: one bad pass (a full context) fails the
        // batch before any cache changes, so each job runs again alone for its own answer.
        Err(_) => jobs
            .iter_mut()
            .map(|job| run(arch, std::slice::from_mut(job)).map(|mut l| l.swap_remove(0)))
            .collect(),
    };
    for (job, logits) in jobs.into_iter().zip(logits) {
        let Job { cache, reply, .. } = job;
        let _ = reply.send(Reply::Done { cache, logits }); // a session that left needs none
    }
}

/// One `forward_batch` over the jobs' sequences.
fn run(arch: &dyn Architecture, jobs: &mut [Job]) -> Result<Vec<Vec<f32>>> {
    let mut batch: Vec<Sequence> = jobs
        .iter_mut()
        .map(|job| Sequence {
            tokens: &job.tokens,
            cache: &mut job.cache,
            rec: job.relay.as_mut().map(|r| r as &mut dyn Recorder),
        })
        .collect();
    arch.forward_batch(&mut batch)
}
