//! Where model work runs: on tokio's blocking threads (a forward pass would stall the async
//! workers), at most `max_concurrent` at a time, with a short bounded queue and a deadline,
//! so a burst of requests is answered 503 quickly instead of piling up.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{timeout_at, Instant};

use nexttoken_model::Stop;

use super::errors::ApiError;

#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Model jobs running at once.
    pub max_concurrent: usize,
    /// Requests allowed to wait for a permit; one more is refused with 503.
    pub queue: usize,
    /// From arrival to answer, waiting included.
    pub request_timeout: Duration,
}

pub struct Pool {
    /// Public so tests can hold permits and watch the queue fill.
    pub permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// Jobs that saw their request go away and stopped before finishing.
    cancelled: Arc<AtomicUsize>,
    config: PoolConfig,
}

/// Whether the request a job works for is gone (client disconnected, or past its deadline),
/// so a long job can stop between steps instead of computing an answer nobody reads.
pub struct Cancel {
    gone: Stop,
    counted: AtomicBool,
    cancelled: Arc<AtomicUsize>,
}

impl Cancel {
    /// True once the request is gone; the first call that sees it counts the job as cancelled.
    pub fn is_cancelled(&self) -> bool {
        let gone = self.gone.is_raised();
        if gone && !self.counted.swap(true, Ordering::SeqCst) {
            self.cancelled.fetch_add(1, Ordering::SeqCst);
        }
        gone
    }
}

impl Cancel {
    /// The flag a model pass checks between layers (`Session::with_stop`), raised with this.
    pub fn stop(&self) -> Stop {
        self.gone.clone()
    }
}

/// Held by the request's future: dropping it (the answer is sent, the deadline passed, or
/// hyper dropped the future because the client went away) tells the job to stop.
struct CancelOnDrop(Stop);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.raise();
    }
}

/// Counts a request as waiting for as long as it lives (dropped on every exit path).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Pool {
    pub fn new(config: PoolConfig) -> Pool {
        Pool {
            permits: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
            waiting: AtomicUsize::new(0),
            cancelled: Arc::default(),
            config,
        }
    }

    /// Runs `job` on a blocking thread once a permit is free. The permit moves into the
    /// thread: a job that outlives its deadline still counts until it really ends.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    {
        self.run_cancellable(move |_| job()).await
    }

    /// Like `run`, for a job that checks `Cancel` between its steps and stops early once
    /// its request is gone.
    pub async fn run_cancellable<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Cancel) -> Result<T, ApiError> + Send + 'static,
    {
        let deadline = Instant::now() + self.config.request_timeout;
        let permit = self.acquire(deadline).await?;
        let gone = Stop::default();
        let _on_drop = CancelOnDrop(gone.clone());
        let cancel = Cancel {
            gone,
            counted: AtomicBool::new(false),
            cancelled: Arc::clone(&self.cancelled),
        };
        let handle = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job(&cancel)
        });
        match timeout_at(deadline, handle).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(ApiError::internal("the model job failed unexpectedly")),
            Err(_) => Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!("the model took longer than {}", self.describe_timeout()),
            )),
        }
    }

    async fn acquire(&self, deadline: Instant) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.config.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::busy(format!(
                "the server is busy ({} running, {} waiting): retry in a second",
                self.config.max_concurrent, self.config.queue
            )));
        }
        let _waiting = Waiting(&self.waiting);
        match timeout_at(deadline, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) => Err(ApiError::internal("the model pool was closed")),
            Err(_) => Err(ApiError::busy(format!(
                "waited {} for the model without a turn: retry in a second",
                self.describe_timeout()
            ))),
        }
    }

    /// Requests waiting for a permit now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Model jobs running now (permits taken).
    pub fn running(&self) -> usize {
        self.config.max_concurrent.max(1) - self.permits.available_permits()
    }

    /// Jobs that have stopped early because their request went away, since the start.
    pub fn cancelled(&self) -> usize {
        self.cancelled.load(Ordering::SeqCst)
    }

    fn describe_timeout(&self) -> String {
        format!("{:.1} s", self.config.request_timeout.as_secs_f64())
    }
}
