//! From the bundled model to GPT-2: the download runs in the background while the bundled
//! model serves, the terminal and the page show its progress, and the page offers the
//! switch once the files are in the cache.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use nexttoken_hub::{HubConfig, IndicatifProgress, Progress};

use super::lock;
use serde::Serialize;

/// What `/api/model` says about the download, as `download`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DownloadStatus {
    Downloading {
        model: String,
        file: String,
        bytes: u64,
        total: Option<u64>,
    },
    /// In the cache: `POST /api/model/switch` loads it.
    Ready {
        model: String,
    },
    /// No network (or `HF_HUB_OFFLINE`): the bundled model stays, and `message` says how to
    /// fetch the model later.
    Offline {
        model: String,
        message: String,
    },
    Failed {
        model: String,
        message: String,
    },
}

pub struct Upgrade {
    status: Mutex<DownloadStatus>,
    dir: Mutex<Option<PathBuf>>,
}

impl Upgrade {
    /// Starts fetching `model` on its own thread (unless offline) and returns at once.
    pub fn start(hub: HubConfig, model: &str) -> Arc<Upgrade> {
        let status = if hub.offline {
            DownloadStatus::Offline {
                model: model.to_string(),
                message: format!(
                    "HF_HUB_OFFLINE is set, so {model} is not downloaded: unset it and restart \
                     (or run `nexttoken --model {model}`) with a network to fetch it"
                ),
            }
        } else {
            DownloadStatus::Downloading {
                model: model.to_string(),
                file: String::new(),
                bytes: 0,
                total: None,
            }
        };
        let upgrade = Arc::new(Upgrade {
            status: Mutex::new(status),
            dir: Mutex::new(None),
        });
        if !hub.offline {
            let (worker, model) = (Arc::clone(&upgrade), model.to_string());
            std::thread::spawn(move || worker.run(&hub, &model));
        }
        upgrade
    }

    pub fn status(&self) -> DownloadStatus {
        lock(&self.status).clone()
    }

    /// The downloaded snapshot, once complete.
    pub fn ready_dir(&self) -> Option<PathBuf> {
        lock(&self.dir).clone()
    }

    fn run(&self, hub: &HubConfig, model: &str) {
        let progress = Report {
            upgrade: self,
            bar: IndicatifProgress::new(),
        };
        let status = match nexttoken_hub::resolve(hub, model, "main", &progress) {
            Ok(dir) => {
                eprintln!("nexttoken: {model} is downloaded; the page offers the switch");
                *lock(&self.dir) = Some(dir);
                DownloadStatus::Ready {
                    model: model.to_string(),
                }
            }
            Err(e) if e.is_network() => {
                eprintln!("nexttoken: staying on the bundled model: {e}");
                let message = format!("{e}. The bundled model stays; restart with a network (or run `nexttoken --model {model}`) to fetch it");
                DownloadStatus::Offline {
                    model: model.to_string(),
                    message,
                }
            }
            Err(e) => {
                eprintln!("nexttoken: downloading {model} failed: {e}");
                DownloadStatus::Failed {
                    model: model.to_string(),
                    message: e.to_string(),
                }
            }
        };
        *lock(&self.status) = status;
    }
}

/// Tells the terminal bar and the page's status about each transfer.
struct Report<'a> {
    upgrade: &'a Upgrade,
    bar: IndicatifProgress,
}

impl Progress for Report<'_> {
    fn start(&self, file: &str, total: Option<u64>, already: u64) {
        if let DownloadStatus::Downloading {
            file: f,
            bytes,
            total: t,
            ..
        } = &mut *lock(&self.upgrade.status)
        {
            (*f, *bytes, *t) = (file.to_string(), already, total);
        }
        self.bar.start(file, total, already);
    }

    fn advance(&self, n: u64) {
        if let DownloadStatus::Downloading { bytes, .. } = &mut *lock(&self.upgrade.status) {
            *bytes += n;
        }
        self.bar.advance(n);
    }

    fn finish(&self, file: &str) {
        self.bar.finish(file);
    }
}
