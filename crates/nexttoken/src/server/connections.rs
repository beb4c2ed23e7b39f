//! The accept loop: HTTP/1 over each TCP connection (hyper), with what `axum::serve` lacks for
//! a server left running in a classroom: a deadline for request headers, which also closes idle
//! keep-alive connections, and a cap on open connections that never locks out a new visitor.
//!
//! At the cap, a new connection takes the place of the oldest one that has no request running
//! (one that sends nothing, half a header, or sits idle between requests); only when every
//! open connection is running a request is the newcomer answered 503 at once. The cap stays
//! below the process's file limit, so `accept` keeps working and `/api/health` answers however
//! many sockets a client holds open.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use super::lock;
use super::router::CSP;

/// How long connections may stay open and how many at once.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections at most (lowered to fit the file limit, see [`fit_to_file_limit`]).
    pub max_connections: usize,
    /// From the moment the server waits for a request (a new connection, or the end of the
    /// last answer on a kept-alive one) until its headers are complete.
    pub header_timeout: Duration,
}

/// File descriptors kept for the process itself (standard streams, the runtime's, the
/// listener, model files being read) below the limit.
const RESERVED_FILES: usize = 32;

/// Raises the soft limit on open files to the hard one, then returns at most `wanted`
/// connections that fit under it with room for the process's own files.
pub fn fit_to_file_limit(wanted: usize) -> usize {
    match raise_file_limit() {
        Some(files) => wanted.min(files.saturating_sub(RESERVED_FILES).max(1)),
        None => wanted,
    }
}

#[cfg(unix)]
fn raise_file_limit() -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    usize::try_from(limit.rlim_cur).ok()
}

#[cfg(not(unix))]
fn raise_file_limit() -> Option<usize> {
    None
}

/// One open connection: how many of its requests are running, and how to close it.
#[derive(Default)]
struct Conn {
    busy: AtomicUsize,
    close: Notify,
}

/// The open connections, oldest first.
#[derive(Default)]
struct Open {
    next: u64,
    conns: BTreeMap<u64, Arc<Conn>>,
}

impl Open {
    fn add(open: &Mutex<Open>) -> (u64, Arc<Conn>) {
        let mut open = lock(open);
        let id = open.next;
        open.next += 1;
        let conn = Arc::new(Conn::default());
        open.conns.insert(id, Arc::clone(&conn));
        (id, conn)
    }

    /// Closes the oldest connection with no request running; false when every one has one.
    fn close_oldest_idle(open: &Mutex<Open>) -> bool {
        let mut open = lock(open);
        let idle = open
            .conns
            .iter()
            .find(|(_, c)| c.busy.load(Ordering::SeqCst) == 0)
            .map(|(&id, _)| id);
        match idle.and_then(|id| open.conns.remove(&id)) {
            Some(conn) => {
                conn.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets running requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of files or memory for a moment: free a connection, breathe.
                    Open::close_oldest_idle(&open);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                if tasks.len() >= limits.max_connections && !Open::close_oldest_idle(&open) {
                    tasks.spawn(refuse(stream));
                    continue;
                }
                let (app, open, stopped) = (app.clone(), Arc::clone(&open), stopped.clone());
                tasks.spawn(connection(stream, app, open, limits, stopped));
            }
        }
    }
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Serves one connection until it ends, is closed to make room, or the server stops.
async fn connection(
    stream: TcpStream,
    app: Router,
    open: Arc<Mutex<Open>>,
    limits: ConnectionLimits,
    mut stopped: watch::Receiver<bool>,
) {
    let (id, conn) = Open::add(&open);
    let service = Tracked {
        inner: TowerToHyperService::new(app),
        conn: Arc::clone(&conn),
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut served = pin!(builder.serve_connection(TokioIo::new(stream), service));
    tokio::select! {
        _ = served.as_mut() => {}
        _ = conn.close.notified() => {} // dropped: the socket closes
        _ = stopped.changed() => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
    }
    lock(&open).conns.remove(&id);
}

/// Every open connection is running a request: says so, without reading the request.
async fn refuse(stream: TcpStream) {
    let body = r#"{"error":{"code":"busy","message":"every connection is running a request: retry in a second"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\ncontent-security-policy: {CSP}\r\nx-content-type-options: nosniff\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    // A fresh socket's send buffer takes these few hundred bytes at once; a client that has
    // not drained it is not waited for.
    if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(1), stream.writable()).await {
        let _ = stream.try_write(response.as_bytes());
    }
}

/// Counts the requests of a connection while they run, so it is never closed mid-request to
/// make room.
struct Tracked {
    inner: TowerToHyperService<Router>,
    conn: Arc<Conn>,
}

/// Holds one request's place in its connection's count until dropped.
struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<Incoming>) -> Answer {
        self.conn.busy.fetch_add(1, Ordering::SeqCst);
        let busy = Busy(Arc::clone(&self.conn));
        let answer = self.inner.call(request.map(Body::new));
        Box::pin(async move {
            let response = answer.await;
            drop(busy);
            response
        })
    }
}
