//! The HTTP server (docs/api.md): the page and the JSON API over one loaded model. The API's
//! endpoints are nexttoken-api's; here they get HTTP, a pool of model threads with deadlines,
//! connection limits and the switch to a downloaded GPT-2.

pub mod assets;
pub mod connections;
pub mod errors;
pub mod extract;
pub mod guard;
pub mod handlers;
pub mod limits;
pub mod memory;
pub mod pool;
pub mod router;
pub mod state;
pub mod upgrade;

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use nexttoken_hub::HubConfig;
use nexttoken_model::{DType, Model};

use crate::models::{self, Source, BUNDLED_MODEL, DEFAULT_MODEL};
use upgrade::{DownloadStatus, Upgrade};

pub use connections::ConnectionLimits;
pub use limits::Limits;
pub use pool::PoolConfig;
pub use router::router;
pub use state::AppState;

/// Where to listen and how much work to accept.
pub struct ServeOptions {
    pub host: String,
    pub port: u16,
    /// Open the page in a browser once listening.
    pub open: bool,
    pub limits: Limits,
    pub pool: PoolConfig,
    pub connections: ConnectionLimits,
}

/// What to serve when no model is named: GPT-2 when cached; otherwise the bundled model at
/// once, with GPT-2 downloading in the background (unless offline).
pub fn default_model() -> Result<(Model, Source, Option<Arc<Upgrade>>)> {
    let hub = HubConfig::from_env();
    if let Some(dir) = models::cached_default(&hub) {
        return Ok((
            models::load_snapshot(&dir, DEFAULT_MODEL, DType::F32)?,
            Source::Hub,
            None,
        ));
    }
    let model = models::bundled()?;
    let upgrade = Upgrade::start(hub, DEFAULT_MODEL);
    match upgrade.status() {
        DownloadStatus::Offline { message, .. } => {
            eprintln!("nexttoken: serving the bundled {BUNDLED_MODEL} model. {message}")
        }
        _ => eprintln!(
            "nexttoken: {DEFAULT_MODEL} is not in the Hugging Face cache: serving the bundled \
             {BUNDLED_MODEL} model now while {DEFAULT_MODEL} downloads in the background"
        ),
    }
    Ok((model, Source::Bundled, Some(upgrade)))
}

/// Serves `model` until Ctrl-C. Runs its own tokio runtime: the CLI's other commands need none.
pub fn serve(
    model: Model,
    source: Source,
    upgrade: Option<Arc<Upgrade>>,
    options: ServeOptions,
) -> Result<()> {
    memory::return_freed_memory();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(run(model, source, upgrade, options))
}

async fn run(
    model: Model,
    source: Source,
    upgrade: Option<Arc<Upgrade>>,
    options: ServeOptions,
) -> Result<()> {
    let address = (options.host.as_str(), options.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {}:{}", options.host, options.port))?;
    let local = listener.local_addr()?;
    if !local.ip().is_loopback() {
        eprintln!(
            "warning: listening on {} — other machines can reach this server; it has no \
             authentication",
            local.ip()
        );
    }
    let url = format!("http://{local}/");
    let line = format!("nexttoken: serving {} at {url} (Ctrl-C stops)", model.name);
    // Informational: a closed stdout (`nexttoken | head -1`) must not stop the server.
    let _ = writeln!(std::io::stdout(), "{line}");
    if options.open {
        open_browser(&url);
    }
    let state = AppState::with_upgrade(
        Arc::new(model),
        source,
        options.limits,
        options.pool,
        upgrade,
    );
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut connections = options.connections;
    connections.max_connections = connections::fit_to_file_limit(connections.max_connections);
    if connections.max_connections < options.connections.max_connections {
        eprintln!(
            "nexttoken: at most {} open connections, to stay under this process's open-file \
             limit (ulimit -n)",
            connections.max_connections
        );
    }
    connections::serve(listener, router(state), connections, stop).await;
    Ok(())
}

/// Best effort: a machine without a browser still has the printed URL.
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reaped on its own thread so the opener does not linger as a zombie.
        Ok(mut child) => drop(std::thread::spawn(move || child.wait())),
        Err(e) => {
            eprintln!("warning: could not open a browser with {opener} ({e}); open {url} yourself")
        }
    }
}

/// A mutex's data even when another thread panicked holding it: every value kept under these
/// locks (caches, states, statuses) stays whole between statements.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
