//! The server's memory stays within its cache budget whatever the request mix: a bounded soak
//! of the real binary (bench/soak.py is the long one, docs/hardening.md).

use serde_json::{json, Value};

use crate::binary::serve;

/// The budget the soaked server runs with, in MiB.
const CACHE_MB: u64 = 4;

/// Resident memory of process `pid` in MiB, from /proc (Linux only, as is the bound).
fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A fixed mix of every kind of model request; `n` picks the kind and the tokens, so nearly
/// every step and distribution is a sequence not seen before (each its own 201 KB of logits).
fn request(n: u64) -> (&'static str, Value) {
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    // One-token steps: the old cache, bounded by positions, kept 2,048 of them.
    let len = if n % 8 <= 2 { 1 } else { 1 + next(63) };
    let tokens: Vec<u64> = (0..len).map(|_| next(50_257)).collect();
    match n % 8 {
        0..=2 => ("/api/step", json!({ "tokens": tokens })),
        3 => ("/api/distribution", json!({ "tokens": tokens })),
        4 => (
            "/api/trace",
            json!({ "prompt": format!("soak {n}"), "steps": 3 }),
        ),
        5 => (
            "/api/attention",
            json!({ "tokens": tokens, "layer": next(2), "head": next(4) }),
        ),
        6 => ("/api/lens", json!({ "tokens": tokens })),
        _ => (
            "/api/compare",
            json!({ "before": tokens, "after": [n % 50_257] }),
        ),
    }
}

/// Before the budget, the cache counted positions, not bytes: these 800 requests grew the
/// server by 90 MiB (each one-token step kept its logits, and on GPT-2 a whole context's
/// room). Now the cache's bytes stay under the budget and resident memory levels off.
#[test]
fn memory_levels_off_under_a_long_mix_of_requests() {
    let budget = CACHE_MB.to_string();
    let (server, address) = serve(&["--cache-mb", &budget, "--max-concurrent", "2"]);
    let pid = server.0.id();
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut send = |n: u64| {
        let (path, body) = request(n);
        let reply = agent
            .post(format!("http://{address}{path}"))
            .send_json(&body);
        let status = reply.expect("an answer").status().as_u16();
        assert_eq!(status, 200, "{path} {body}");
    };
    (0..200).for_each(&mut send); // fills the cache and the allocator's pools
    let warm = rss_mb(pid).expect("VmRSS");
    (200..1_000).for_each(&mut send);
    let after = rss_mb(pid).expect("VmRSS");
    let health: Value = agent
        .get(format!("http://{address}/api/health"))
        .call()
        .expect("health")
        .body_mut()
        .read_json()
        .expect("JSON");
    let cache = &health["cache"];
    assert_eq!(cache["budget_bytes"], CACHE_MB << 20);
    let held = cache["bytes"].as_u64().expect("cache bytes");
    assert!(held <= CACHE_MB << 20 && held > 0, "{cache}");
    assert!(
        after - warm <= 2.0 * CACHE_MB as f64 + 8.0,
        "RSS grew from {warm:.1} to {after:.1} MiB over 800 requests ({cache})"
    );
}
