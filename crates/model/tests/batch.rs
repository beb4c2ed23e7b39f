//! The batched forward pass against the single-sequence one and HF's logits: several
//! sequences of different lengths and histories, prefilled together, then decoded in
//! lockstep. Tolerance 1e-4 absolute, as for parity.

use std::path::{Path, PathBuf};

use nexttoken_model::{Config, Gpt2, KvCache, NoRecorder, Sequence, Weights};

const TOLERANCE: f32 = 1e-4;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tiny-gpt2")
}

fn load_model() -> Gpt2 {
    let dir = fixture_dir();
    let config = Config::from_file(&dir.join("config.json")).unwrap();
    let weights = Weights::load(&dir.join("model.safetensors"), &config).unwrap();
    Gpt2::new(config, weights)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn argmax(x: &[f32]) -> u32 {
    (0..x.len()).fold(0, |best, i| if x[i] > x[best] { i } else { best }) as u32
}

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
fn one_at_a_time(model: &Gpt2, steps: usize) -> Vec<Vec<Vec<f32>>> {
    prompts()
        .iter()
        .map(|prompt| {
            let mut cache = KvCache::new(&model.config);
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
fn batched_prefill_and_lockstep_decoding_match_single_sequences() {
    let model = load_model();
    let steps = 10;
    let want = one_at_a_time(&model, steps);
    let prompts = prompts();
    let mut caches: Vec<KvCache> = prompts
        .iter()
        .map(|_| KvCache::new(&model.config))
        .collect();
    let mut batch: Vec<Sequence> = prompts
        .iter()
        .zip(caches.iter_mut())
        .map(|(p, cache)| Sequence { tokens: p, cache })
        .collect();
    let mut logits = model.forward_batch(&mut batch).unwrap();
    let mut worst = 0.0f32;
    for step in 0..=steps {
        for (i, l) in logits.iter().enumerate() {
            worst = worst.max(max_abs_diff(l, &want[i][step]));
        }
        if step == steps {
            break;
        }
        let next: Vec<[u32; 1]> = logits.iter().map(|l| [argmax(l)]).collect();
        let mut batch: Vec<Sequence> = next
            .iter()
            .zip(caches.iter_mut())
            .map(|(t, cache)| Sequence { tokens: t, cache })
            .collect();
        logits = model.forward_batch(&mut batch).unwrap();
    }
    println!("batched vs one at a time: max |logit diff| = {worst:e}");
    assert!(worst <= TOLERANCE, "{worst:e}");
    assert!(caches
        .iter()
        .zip(&prompts)
        .all(|(c, p)| c.len() == p.len() + steps));
}

#[test]
fn a_bad_sequence_fails_the_batch_before_any_cache_changes() {
    let model = load_model();
    let (mut a, mut b) = (KvCache::new(&model.config), KvCache::new(&model.config));
    let bad = [model.config.vocab_size as u32];
    let mut batch = [
        Sequence {
            tokens: &[1, 2],
            cache: &mut a,
        },
        Sequence {
            tokens: &bad,
            cache: &mut b,
        },
    ];
    let err = model.forward_batch(&mut batch).unwrap_err();
    assert!(err.to_string().contains("outside the vocabulary"), "{err}");
    assert!(a.is_empty() && b.is_empty());
    assert!(model.forward_batch(&mut []).unwrap().is_empty());
}
