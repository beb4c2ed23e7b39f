//! The batched forward pass against the single-sequence one: several sequences of different
//! lengths and histories, prefilled together, then decoded in lockstep, and generations
//! sharing a `Batcher`, bit for bit (tests/invariance.rs varies the batches further).

use std::sync::{Arc, Barrier};

use nexttoken_model::{
    ActivationCache, Batcher, Forward, GenerateOptions, Generator, KvCache, Model, NoRecorder,
    Recorder, Sampling, Sequence,
};

mod common;

use common::{argmax, fixture_dir, run_steps, tiny};

/// Prompts of different lengths, among them HF's golden prompt.
fn prompts() -> Vec<Vec<u32>> {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture_dir().join("golden.json")).unwrap()).unwrap();
    let golden: Vec<u32> = meta["prompt_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    vec![
        golden.clone(),
        vec![464],
        vec![50256, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000],
        golden[..2].to_vec(),
        vec![7, 8, 9],
        vec![40000, 30000],
    ]
}

/// Greedy continuations of every prompt, one sequence at a time: (logits per step, tokens).
fn one_at_a_time(model: &Model, steps: usize) -> Vec<Vec<Vec<f32>>> {
    prompts()
        .iter()
        .map(|prompt| {
            let mut cache = KvCache::new(model.config());
            let mut logits = model.forward(prompt, &mut cache, &mut NoRecorder).unwrap();
            let mut all = vec![logits.clone()];
            for _ in 0..steps {
                let next = argmax(&logits);
                logits = model.forward(&[next], &mut cache, &mut NoRecorder).unwrap();
                all.push(logits.clone());
            }
            all
        })
        .collect()
}

#[test]
#[allow(clippy::needless_range_loop)] // `step` indexes every sequence's logits
fn batched_prefill_and_lockstep_decoding_match_single_sequences() {
    let model = tiny();
    let steps = 10;
    let want = one_at_a_time(&model, steps);
    let prompts = prompts();
    let mut caches: Vec<KvCache> = prompts
        .iter()
        .map(|_| KvCache::new(model.config()))
        .collect();
    let mut batch: Vec<Sequence> = prompts
        .iter()
        .zip(caches.iter_mut())
        .map(|(p, cache)| Sequence::new(p, cache))
        .collect();
    let mut logits = model.arch.forward_batch(&mut batch).unwrap();
    for step in 0..=steps {
        for (i, l) in logits.iter().enumerate() {
            assert_eq!(l, &want[i][step], "sequence {i}, step {step}");
        }
        if step == steps {
            break;
        }
        let next: Vec<[u32; 1]> = logits.iter().map(|l| [argmax(l)]).collect();
        let mut batch: Vec<Sequence> = next
            .iter()
            .zip(caches.iter_mut())
            .map(|(t, cache)| Sequence::new(t, cache))
            .collect();
        logits = model.arch.forward_batch(&mut batch).unwrap();
    }
    assert!(caches
        .iter()
        .zip(&prompts)
        .all(|(c, p)| c.len() == p.len() + steps));
}

#[test]
fn a_bad_sequence_fails_the_batch_before_any_cache_changes() {
    let model = tiny();
    let (mut a, mut b) = (KvCache::new(model.config()), KvCache::new(model.config()));
    let bad = [model.config().vocab_size as u32];
    let mut batch = [Sequence::new(&[1, 2], &mut a), Sequence::new(&bad, &mut b)];
    let err = model.arch.forward_batch(&mut batch).unwrap_err();
    assert!(err.to_string().contains("outside the vocabulary"), "{err}");
    assert!(a.is_empty() && b.is_empty());
    assert!(model.arch.forward_batch(&mut []).unwrap().is_empty());
}

/// Steps of `prompt` by a generator, batched or alone: (chosen ids, every candidate's logit).
fn generate(
    model: &Model,
    batcher: Option<&Batcher>,
    prompt: &[u32],
    sampling: Sampling,
    ready: &Barrier,
) -> (Vec<u32>, Vec<f32>) {
    let options = GenerateOptions {
        sampling,
        seed: 7,
        top_n: 5,
    };
    ready.wait(); // every generation starts together: the batches can hold them all
    let tokens = prompt.to_vec();
    match batcher {
        Some(b) => {
            let session = b.session();
            run_steps(
                &mut Generator::new(session, tokens, 0, options, &mut NoRecorder).unwrap(),
                8,
            )
        }
        None => run_steps(
            &mut Generator::new(model, tokens, 0, options, &mut NoRecorder).unwrap(),
            8,
        ),
    }
}

#[test]
fn generations_through_a_batcher_match_generations_alone() {
    let model = Arc::new(tiny());
    let batcher = Batcher::new(Arc::clone(&model));
    let samplings = [
        Sampling::greedy(),
        Sampling {
            greedy: false,
            temperature: 0.8,
            top_k: Some(40),
            top_p: Some(0.9),
        },
    ];
    let jobs: Vec<(Vec<u32>, Sampling)> = prompts()
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, samplings[i % 2]))
        .collect();
    let ready = Barrier::new(jobs.len());
    let batched: Vec<(Vec<u32>, Vec<f32>)> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|(p, sampling)| s.spawn(|| generate(&model, Some(&batcher), p, *sampling, &ready)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let alone = Barrier::new(1);
    for ((p, sampling), (ids, logits)) in jobs.iter().zip(&batched) {
        let (want_ids, want_logits) = generate(&model, None, p, *sampling, &alone);
        assert_eq!(ids, &want_ids, "{p:?}");
        assert_eq!(logits, &want_logits, "{p:?}");
    }
    let stats = batcher.stats();
    // Each generation's prefill and 7 decode steps (the 8th step's token is never fed).
    assert_eq!(stats.steps, 8 * jobs.len() as u64);
    assert!(
        stats.batches < stats.steps,
        "nothing was batched: {stats:?}"
    );
}

#[test]
fn each_recorder_in_a_batch_sees_its_own_sequence() {
    let model = tiny();
    let prompts = prompts();
    let alone: Vec<ActivationCache> = prompts
        .iter()
        .map(|p| {
            let mut rec = ActivationCache::all();
            model
                .forward(p, &mut KvCache::new(model.config()), &mut rec)
                .unwrap();
            rec
        })
        .collect();
    let mut caches: Vec<KvCache> = prompts
        .iter()
        .map(|_| KvCache::new(model.config()))
        .collect();
    let mut recs: Vec<ActivationCache> = prompts.iter().map(|_| ActivationCache::all()).collect();
    let mut batch: Vec<Sequence> = prompts
        .iter()
        .zip(caches.iter_mut())
        .zip(recs.iter_mut())
        .map(|((p, cache), rec)| Sequence {
            tokens: p,
            cache,
            rec: Some(rec as &mut dyn Recorder),
        })
        .collect();
    model.arch.forward_batch(&mut batch).unwrap();
    for (got, want) in recs.iter().zip(&alone) {
        let names =
            |c: &ActivationCache| c.entries.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(got), names(want));
        for (g, w) in got.entries.iter().zip(&want.entries) {
            assert_eq!(g.shape, w.shape, "{}", g.name);
            assert_eq!(g.data, w.data, "{}", g.name);
        }
    }
}

/// A session's recorder stays on its own thread; the batch relays what it asks for, in order.
#[test]
fn a_recorder_through_a_session_sees_what_it_sees_alone() {
    let model = Arc::new(tiny());
    let batcher = Batcher::new(Arc::clone(&model));
    let prompt = &prompts()[0];
    let names = [
        "blocks.1.hook_resid_pre",
        "blocks.0.attn.hook_pattern",
        "logits",
    ];
    let (mut alone, mut relayed) = (ActivationCache::only(&names), ActivationCache::only(&names));
    let want = model
        .forward(prompt, &mut KvCache::new(model.config()), &mut alone)
        .unwrap();
    let mut cache = KvCache::new(model.config());
    let got = batcher
        .session()
        .forward(prompt, &mut cache, &mut relayed)
        .unwrap();
    assert_eq!(got, want);
    assert_eq!(cache.len(), prompt.len());
    let order = |c: &ActivationCache| c.entries.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    assert_eq!(order(&relayed), order(&alone));
    assert_eq!(relayed.entries.len(), names.len());
    for (g, w) in relayed.entries.iter().zip(&alone.entries) {
        assert_eq!((&g.shape, &g.data), (&w.shape, &w.data), "{}", g.name);
    }
}

#[test]
fn a_bad_pass_fails_alone_and_its_batch_mates_still_run() {
    let model = Arc::new(tiny());
    let batcher = Batcher::new(Arc::clone(&model));
    let (good, bad) = (batcher.session(), batcher.session()); // a batch waits for both
    let mut want_cache = KvCache::new(model.config());
    let want = model
        .forward(&[464, 3290], &mut want_cache, &mut NoRecorder)
        .unwrap();
    let vocab = model.config().vocab_size as u32;
    let (got, err) = std::thread::scope(|s| {
        let got = s.spawn(|| {
            good.forward(
                &[464, 3290],
                &mut KvCache::new(model.config()),
                &mut NoRecorder,
            )
        });
        let err = s.spawn(|| {
            bad.forward(
                &[1, vocab],
                &mut KvCache::new(model.config()),
                &mut NoRecorder,
            )
        });
        (got.join().unwrap(), err.join().unwrap())
    });
    assert_eq!(got.unwrap(), want);
    let err = err.unwrap_err().to_string();
    assert!(err.contains("outside the vocabulary"), "{err}");
    // One batch held both (it waits up to 20 ms for every session), so the failed batch was
    // split and each pass answered alone.
    let stats = batcher.stats();
    assert_eq!((stats.batches, stats.steps), (1, 2));
}

/// A session that outlives its batcher gets an error, not a wait for a thread that has ended;
/// its cache is left as it was.
#[test]
fn a_session_after_its_batcher_is_dropped_fails() {
    let model = Arc::new(tiny());
    let batcher = Batcher::new(Arc::clone(&model));
    let session = batcher.session();
    drop(batcher);
    let (done, result) = std::sync::mpsc::channel();
    let config = model.config().clone();
    std::thread::spawn(move || {
        let mut cache = KvCache::new(&config);
        let out = session.forward(&[464], &mut cache, &mut NoRecorder);
        let _ = done.send((out.map(|_| ()), cache));
    });
    // Generous for a loaded machine: an answer comes at once, a hang never.
    let (out, mut cache) = result
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the session blocked");
    assert!(out.unwrap_err().to_string().contains("stopped"));
    model.forward(&[464], &mut cache, &mut NoRecorder).unwrap();
}
