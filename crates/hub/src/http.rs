//! Talking to the hub the way huggingface_hub does: a HEAD request on
//! `{endpoint}/{repo}/resolve/{revision}/{file}` tells the commit, the etag,
//! the size and where to download from; a GET then fetches the bytes.

use std::time::Duration;

use ureq::http::{HeaderMap, Response, StatusCode, Uri};
use ureq::{Agent, Body};

use crate::config::HubConfig;
use crate::error::HubError;
use crate::names;

const USER_AGENT: &str = concat!("nexttoken-hub/", env!("CARGO_PKG_VERSION"));
const MAX_REDIRECTS: u32 = 10;

/// What the hub says about one file at one revision.
#[derive(Debug, Clone)]
pub(crate) struct FileMeta {
    pub commit: String,
    /// Name of the blob in the cache; the sha256 of the content for LFS files.
    pub etag: String,
    pub size: Option<u64>,
    /// Where the bytes are: the hub itself, or a CDN for LFS files.
    pub url: String,
}

pub(crate) struct Client<'a> {
    cfg: &'a HubConfig,
    repo_id: &'a str,
    /// Returns redirects unfollowed, so `metadata` sees the hub's own headers.
    head_agent: Agent,
    /// Follows redirects, never carrying the token along.
    get_agent: Agent,
}

impl<'a> Client<'a> {
    pub(crate) fn new(cfg: &'a HubConfig, repo_id: &'a str) -> Client<'a> {
        Client {
            cfg,
            repo_id,
            head_agent: agent(0),
            get_agent: agent(MAX_REDIRECTS),
        }
    }

    pub(crate) fn repo_id(&self) -> &str {
        self.repo_id
    }

    pub(crate) fn file_url(&self, revision: &str, file: &str) -> String {
        // A revision like `refs/pr/1` is one path segment in the URL.
        let revision = revision.replace('/', "%2F");
        format!(
            "{}/{}/resolve/{revision}/{file}",
            self.cfg.endpoint, self.repo_id
        )
    }

    /// `Ok(None)` when the file does not exist at that revision.
    pub(crate) fn metadata(
        &self,
        revision: &str,
        file: &str,
    ) -> Result<Option<FileMeta>, HubError> {
        let mut url = self.file_url(revision, file);
        for _ in 0..=MAX_REDIRECTS {
            let response = self.send(self.head_agent.head(&url), &url)?;
            let (status, headers) = (response.status(), response.headers());
            if status.is_success() {
                return meta_from(headers, &url, true).map(Some);
            }
            if !status.is_redirection() {
                return self.status_error(headers, status, &url, revision);
            }
            let next = redirect_target(&url, headers)?;
            // The hub renames repos (gpt2 -> openai-community/gpt2) with
            // same-host redirects: follow those. A redirect elsewhere is the
            // LFS CDN: the hub's headers here describe the file.
            if same_origin(&next, &url) {
                url = next;
            } else {
                let meta = meta_from(headers, &url, false)?;
                return Ok(Some(FileMeta { url: next, ..meta }));
            }
        }
        Err(bad_response(&url, "too many redirects"))
    }

    /// Starts a download, asking for the bytes from `from` on when non-zero.
    pub(crate) fn get(&self, url: &str, from: u64) -> Result<Response<Body>, HubError> {
        let mut request = self.get_agent.get(url);
        if from > 0 {
            request = request.header("Range", format!("bytes={from}-"));
        }
        self.send(request, url)
    }

    fn send(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithoutBody>,
        url: &str,
    ) -> Result<Response<Body>, HubError> {
        // Raw bytes only: sizes, ranges and sha256 all refer to them.
        let mut request = request.header("Accept-Encoding", "identity");
        if let Some(token) = self.token_for(url) {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        request.call().map_err(|e| HubError::Network {
            repo: self.repo_id.to_string(),
            url: url.to_string(),
            reason: e.to_string(),
        })
    }

    /// The token is for the hub only, never for a CDN it redirects to.
    fn token_for(&self, url: &str) -> Option<&str> {
        let token = self.cfg.token.as_deref()?;
        same_origin(url, &self.cfg.endpoint).then_some(token)
    }

    /// Turns the hub's refusals into errors, reading `X-Error-Code` as
    /// huggingface_hub does (the hub answers 401 for unknown repos).
    fn status_error(
        &self,
        headers: &HeaderMap,
        status: StatusCode,
        url: &str,
        revision: &str,
    ) -> Result<Option<FileMeta>, HubError> {
        let code = headers.get("X-Error-Code").and_then(|v| v.to_str().ok());
        let repo = self.repo_id.to_string();
        match (status.as_u16(), code) {
            (_, Some("RepoNotFound")) => Err(HubError::RepoNotFound {
                repo,
                endpoint: self.cfg.endpoint.clone(),
            }),
            (_, Some("RevisionNotFound")) => Err(HubError::RevisionNotFound {
                repo,
                revision: revision.to_string(),
            }),
            (404, _) => Ok(None),
            (401 | 403, _) => Err(HubError::Denied {
                repo,
                url: url.to_string(),
                status: status.as_u16(),
            }),
            (status, _) => Err(HubError::Http {
                url: url.to_string(),
                status,
            }),
        }
    }
}

fn agent(max_redirects: u32) -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(max_redirects)
        .max_redirects_will_error(max_redirects > 0)
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::Never)
        .user_agent(USER_AGENT)
        // Fail rather than hang when the network is gone; no limit on the
        // whole download, which may legitimately take many minutes.
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Reads the headers huggingface_hub reads. `Content-Length` is the file's
/// size only when the response is the file itself, not a redirect.
fn meta_from(headers: &HeaderMap, url: &str, is_file: bool) -> Result<FileMeta, HubError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let commit = header("X-Repo-Commit")
        .filter(|c| names::is_safe_name(c))
        .ok_or_else(|| {
            bad_response(
                url,
                "no valid X-Repo-Commit header: is HF_ENDPOINT a Hugging Face hub?",
            )
        })?;
    let etag = header("X-Linked-Etag")
        .or_else(|| header("ETag"))
        .map(normalize_etag)
        .filter(|e| names::is_safe_name(e))
        .ok_or_else(|| bad_response(url, "no valid ETag header"))?;
    let size = header("X-Linked-Size")
        .or_else(|| header("Content-Length").filter(|_| is_file))
        .and_then(|s| s.parse().ok());
    Ok(FileMeta {
        commit: commit.to_string(),
        etag,
        size,
        url: url.to_string(),
    })
}

/// `W/"abc"` and `"abc"` both name the blob `abc`.
fn normalize_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_string()
}

fn redirect_target(url: &str, headers: &HeaderMap) -> Result<String, HubError> {
    let location = headers
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad_response(url, "redirect without a Location header"))?;
    if location.contains("://") {
        return Ok(location.to_string());
    }
    let base: Uri = url
        .parse()
        .map_err(|_| bad_response(url, "unparsable URL"))?;
    match (base.scheme_str(), base.authority()) {
        (Some(scheme), Some(authority)) if location.starts_with('/') => {
            Ok(format!("{scheme}://{authority}{location}"))
        }
        _ => Err(bad_response(url, "unsupported redirect Location")),
    }
}

/// Same scheme, host and port.
fn same_origin(a: &str, b: &str) -> bool {
    let origin = |url: &str| {
        let uri: Uri = url.parse().ok()?;
        Some((
            uri.scheme_str()?.to_ascii_lowercase(),
            uri.host()?.to_ascii_lowercase(),
            uri.port_u16(),
        ))
    };
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

fn bad_response(url: &str, reason: &str) -> HubError {
    HubError::BadResponse {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_lose_quotes_and_weakness() {
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert_eq!(normalize_etag("abc"), "abc");
    }

    #[test]
    fn origins_include_the_port() {
        assert!(same_origin(
            "https://huggingface.co/a",
            "https://huggingface.co"
        ));
        assert!(same_origin(
            "https://HuggingFace.co/a",
            "https://huggingface.co/b"
        ));
        assert!(!same_origin(
            "https://cdn-lfs.hf.co/a",
            "https://huggingface.co"
        ));
        assert!(!same_origin("http://127.0.0.1:1/a", "http://127.0.0.1:2"));
        assert!(!same_origin(
            "http://huggingface.co/a",
            "https://huggingface.co"
        ));
    }
}
