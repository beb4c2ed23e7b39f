//! What the server accepts. The bounds on requests themselves, and their checks, are
//! nexttoken-api's ([`Bounds`]); these add what belongs to HTTP and to this process.

use std::time::Duration;

use nexttoken_api::prefix_cache::DEFAULT_BUDGET_BYTES;
use nexttoken_api::Bounds;

use super::guard::AllowedHosts;

/// What the server accepts; the sizes are readable from `/api/model`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Tokens one `/api/trace` may generate.
    pub max_steps: usize,
    /// Request bodies above this are refused with 413.
    pub max_body_bytes: usize,
    /// Bytes the cache of logits and states may hold (`PrefixCache`).
    pub cache_bytes: usize,
    /// Time to receive a request's body once its headers arrived.
    pub body_timeout: Duration,
    /// Host names requests may be addressed to, beyond loopback names and addresses.
    pub hosts: AllowedHosts,
}

impl Limits {
    /// The bounds the API holds each request to.
    pub fn bounds(&self) -> Bounds {
        Bounds {
            max_steps: self.max_steps,
            max_body_bytes: self.max_body_bytes,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        let bounds = Bounds::default();
        Limits {
            max_steps: bounds.max_steps,
            max_body_bytes: bounds.max_body_bytes,
            cache_bytes: DEFAULT_BUDGET_BYTES,
            body_timeout: Duration::from_secs(30),
            hosts: AllowedHosts::default(),
        }
    }
}
