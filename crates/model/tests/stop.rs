//! A raised `Stop` ends a forward pass within a layer, alone or batched, and leaves the cache
//! as it was: a closed tab frees its slot without waiting for a long prompt's whole pass.

use nexttoken_model::{Batcher, Error, Forward, KvCache, NoRecorder, Recorder, Stop};
use std::sync::Arc;

mod common;

use common::tiny;

/// Records every hook name, and raises `stop` when `at` fires.
struct RaiseAt {
    stop: Stop,
    at: &'static str,
    seen: Vec<String>,
}

impl Recorder for RaiseAt {
    fn wants(&self, _: &str) -> bool {
        true
    }

    fn record(&mut self, name: &str, _: &[usize], _: &[f32]) {
        self.seen.push(name.to_string());
        if name == self.at {
            self.stop.raise();
        }
    }
}

#[test]
fn a_pass_stops_at_the_next_layer_and_leaves_its_cache_unchanged() {
    let model = tiny();
    let tokens: Vec<u32> = (0..40).map(|i| 100 + 7 * i).collect();
    let mut cache = KvCache::new(model.config());
    let first = model
        .forward(&tokens[..10], &mut cache, &mut NoRecorder)
        .unwrap();
    let stop = Stop::default();
    cache.set_stop(Some(stop.clone()));
    let mut rec = RaiseAt {
        stop,
        at: "blocks.0.hook_resid_pre",
        seen: Vec::new(),
    };
    let err = model.forward(&tokens[10..], &mut cache, &mut rec);
    assert!(matches!(err, Err(Error::Cancelled)), "{err:?}");
    assert!(rec.seen.iter().any(|n| n == "blocks.0.hook_resid_post"));
    assert!(
        !rec.seen.iter().any(|n| n.starts_with("blocks.1.")),
        "layer 1 ran: {:?}",
        rec.seen
    );
    // The cache still holds the first 10 positions only, and goes on exactly as before.
    assert_eq!(cache.len(), 10);
    cache.set_stop(None);
    let resumed = model
        .forward(&tokens[10..], &mut cache, &mut NoRecorder)
        .unwrap();
    let mut fresh = KvCache::new(model.config());
    model
        .forward(&tokens[..10], &mut fresh, &mut NoRecorder)
        .unwrap();
    let want = model
        .forward(&tokens[10..], &mut fresh, &mut NoRecorder)
        .unwrap();
    assert_eq!(resumed, want);
    assert!(!first.is_empty());
}

/// In the batcher: a session whose stop is raised gets `Cancelled` without running its
/// layers; one without a stop, and the stopped one's next session, are answered as usual.
#[test]
fn a_stopped_session_is_cancelled_and_the_batcher_serves_the_others() {
    let model = Arc::new(tiny());
    let batcher = Batcher::new(Arc::clone(&model));
    let tokens: Vec<u32> = (0..30).map(|i| 50 + 11 * i).collect();
    let stop = Stop::default();
    stop.raise();
    let mut rec = RaiseAt {
        stop: stop.clone(),
        at: "",
        seen: Vec::new(),
    };
    let stopped = batcher.session().with_stop(stop);
    let mut cache = KvCache::new(model.config());
    let err = stopped.forward(&tokens, &mut cache, &mut rec);
    assert!(matches!(err, Err(Error::Cancelled)), "{err:?}");
    assert!(
        !rec.seen.iter().any(|n| n.starts_with("blocks.")),
        "{:?}",
        rec.seen
    );
    assert_eq!(cache.len(), 0);
    let want = model
        .forward(&tokens, &mut KvCache::new(model.config()), &mut NoRecorder)
        .unwrap();
    let got = batcher
        .session()
        .forward(&tokens, &mut cache, &mut NoRecorder)
        .unwrap();
    assert_eq!(got, want, "the cache the stopped pass left is whole");
}
