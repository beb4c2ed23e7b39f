//! The same bits everywhere: a sequence's logits, residual norms and greedy tokens do not
//! depend on what runs beside it in a batch, on where its tokens were split between passes,
//! or on the number of threads. Compared bit for bit, with f32, bf16 and f16 weights.
//!
//! Thread counts and kernel paths are fixed once per process (`NEXTTOKEN_THREADS`,
//! `NEXTTOKEN_KERNELS`), so the last test runs this binary again under each and compares the
//! digests the runs print.

use std::process::Command;

use nexttoken_model::kernels::Path;
use nexttoken_model::{DType, KvCache, Model, Recorder, ResidNorms, Sequence};

mod common;

use common::{argmax, fixture_dir};

const STEPS: usize = 6;

fn model(dtype: DType) -> Model {
    Model::load_with(&fixture_dir(), "tiny", dtype).unwrap()
}

/// A 20-token prompt (a newcomer of 20 rows beside one decode row passed the old 16-row limit
/// of the decode kernels).
fn prompt() -> Vec<u32> {
    (0..20).map(|i| (1000 + 7919 * i) % 50257).collect()
}

/// What one sequence's run produced, as bits: the logits after the prompt and after each
/// greedy step, every residual norm, and the tokens chosen.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    logits: Vec<Vec<u32>>,
    norms: Vec<u32>,
    tokens: Vec<u32>,
}

/// One sequence of a run in progress: its cache, recorder and results so far.
struct Seq {
    cache: KvCache,
    norms: ResidNorms,
    logits: Vec<Vec<f32>>,
}

impl Seq {
    fn new(m: &Model) -> Seq {
        Seq {
            cache: KvCache::new(m.config()),
            norms: ResidNorms::new(m.config().n_layer),
            logits: Vec::new(),
        }
    }

    /// The run as bits; norms by hook, then position, across all the passes.
    fn finish(self, n_layer: usize) -> Run {
        let hooks = n_layer + 1;
        let passes = self.norms.rows.len() / hooks;
        let mut norms = Vec::new();
        for h in 0..hooks {
            for p in 0..passes {
                norms.extend(self.norms.rows[p * hooks + h].iter().map(|v| v.to_bits()));
            }
        }
        let tokens = self.logits[..self.logits.len() - 1]
            .iter()
            .map(|l| argmax(l))
            .collect();
        let logits = self
            .logits
            .iter()
            .map(|l| l.iter().map(|v| v.to_bits()).collect());
        Run {
            logits: logits.collect(),
            norms,
            tokens,
        }
    }
}

/// One batched pass: each `(seq, tokens)` runs after its cache; every sequence keeps the
/// logits of its pass.
fn pass(m: &Model, jobs: Vec<(&mut Seq, Vec<u32>)>) {
    let (seqs, tokens): (Vec<&mut Seq>, Vec<Vec<u32>>) = jobs.into_iter().unzip();
    let mut batch: Vec<Sequence> = Vec::new();
    let mut seqs = seqs;
    for (seq, t) in seqs.iter_mut().zip(&tokens) {
        let Seq { cache, norms, .. } = &mut **seq;
        batch.push(Sequence {
            tokens: t,
            cache,
            rec: Some(norms as &mut dyn Recorder),
        });
    }
    let logits = m.arch.forward_batch(&mut batch).unwrap();
    drop(batch);
    for (seq, l) in seqs.into_iter().zip(logits) {
        seq.logits.push(l);
    }
}

/// The prompt in passes of the given lengths, then greedy steps, alone.
fn split(m: &Model, cuts: &[usize]) -> Run {
    let prompt = prompt();
    let mut seq = Seq::new(m);
    let mut start = 0;
    for &end in cuts.iter().chain([&prompt.len()]) {
        pass(m, vec![(&mut seq, prompt[start..end].to_vec())]);
        start = end;
    }
    seq.logits.drain(..seq.logits.len() - 1); // only the whole prompt's prediction counts
    for _ in 0..STEPS {
        let next = argmax(seq.logits.last().unwrap());
        pass(m, vec![(&mut seq, vec![next])]);
    }
    seq.finish(m.config().n_layer)
}

/// The prompt prefilled together with `others` (prompts of other lengths), then decoded in
/// lockstep with them; after two steps a newcomer's prompt of 20 tokens joins the batch, and
/// later the others leave.
fn batched(m: &Model, others: &[Vec<u32>]) -> Run {
    let mut target = Seq::new(m);
    let mut rest: Vec<Seq> = others.iter().map(|_| Seq::new(m)).collect();
    let mut jobs = vec![(&mut target, prompt())];
    jobs.extend(rest.iter_mut().zip(others).map(|(s, p)| (s, p.clone())));
    jobs.rotate_right(others.len() / 2); // the target somewhere in the middle
    pass(m, jobs);
    let mut newcomer = Seq::new(m);
    for step in 0..STEPS {
        let next = |s: &Seq| vec![argmax(s.logits.last().unwrap())];
        let t = next(&target);
        let mut jobs: Vec<(&mut Seq, Vec<u32>)> = Vec::new();
        let staying = if step < STEPS - 2 {
            rest.len()
        } else {
            rest.len() / 2
        };
        for s in rest.iter_mut().take(staying) {
            let t = next(s);
            jobs.push((s, t));
        }
        match step {
            2 => jobs.push((&mut newcomer, prompt())),
            3.. => {
                let t = next(&newcomer);
                jobs.push((&mut newcomer, t));
            }
            _ => {}
        }
        jobs.insert(jobs.len() / 2, (&mut target, t));
        pass(m, jobs);
    }
    target.finish(m.config().n_layer)
}

/// Prompts of 1 to 40 tokens.
fn others(n: usize) -> Vec<Vec<u32>> {
    (0..n)
        .map(|i| {
            (0..1 + (i * 13) % 40)
                .map(|j| (7 + 31 * i + 101 * j) as u32 % 50257)
                .collect()
        })
        .collect()
}

#[test]
fn a_batch_and_its_neighbours_change_no_bits() {
    for dtype in [DType::F32, DType::Bf16, DType::F16] {
        let m = model(dtype);
        let alone = split(&m, &[]);
        for n in [1, 3, 8] {
            assert_eq!(batched(&m, &others(n)), alone, "{dtype:?} with {n} others");
        }
    }
}

#[test]
fn where_the_prompt_is_split_changes_no_bits() {
    for dtype in [DType::F32, DType::Bf16, DType::F16] {
        let m = model(dtype);
        let whole = split(&m, &[]);
        for at in 1..prompt().len() {
            assert_eq!(split(&m, &[at]), whole, "{dtype:?} split at {at}");
        }
        assert_eq!(
            split(&m, &[1, 2, 3, 10, 19]),
            whole,
            "{dtype:?} in six passes"
        );
    }
}

/// FNV-1a over every bit of a run.
fn digest(run: &Run) -> u64 {
    let words = run
        .logits
        .iter()
        .flatten()
        .chain(&run.norms)
        .chain(&run.tokens);
    words.fold(0xcbf2_9ce4_8422_2325, |h, &w| {
        (h ^ w as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Prints the digest of the batched run of each dtype, for the test below.
#[test]
#[ignore = "run by threads_and_kernel_paths_change_no_bits under each setting"]
fn print_digests() {
    for dtype in [DType::F32, DType::Bf16, DType::F16] {
        let run = batched(&model(dtype), &others(8));
        println!("digest {} {:016x}", dtype.name(), digest(&run));
    }
}

/// This binary's `print_digests` with `NEXTTOKEN_THREADS` and `NEXTTOKEN_KERNELS` set.
fn digests(threads: usize, path: Path) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    // Under an emulator (qemu-user for AArch64) the child needs it too.
    let mut command = match std::env::var("NEXTTOKEN_TEST_RUNNER") {
        Ok(runner) if !runner.trim().is_empty() => {
            let mut words = runner.split_whitespace();
            let mut c = Command::new(words.next().unwrap());
            c.args(words).arg(exe);
            c
        }
        _ => Command::new(exe),
    };
    let out = command
        .args([
            "--ignored",
            "--exact",
            "print_digests",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NEXTTOKEN_THREADS", threads.to_string())
        .env("NEXTTOKEN_KERNELS", path.name())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} on {threads} threads: {text}",
        path.name()
    );
    // The harness may print the test's name on the first digest's line.
    let lines: Vec<String> = text
        .lines()
        .filter_map(|l| l.find("digest ").map(|at| l[at..].to_string()))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    lines
}

/// The digests of `print_digests` (f32, bf16, f16) on every FMA path, x86 and AArch64 alike:
/// the bits of the tiny fixture's batched run. A deliberate change to the forward pass's
/// arithmetic changes them; update them then, from this test's failure message.
const FMA_DIGESTS: [&str; 3] = [
    "digest f32 4eb30ba38a6e6cea",
    "digest bf16 6068523c5eeab8bd",
    "digest f16 2487c2227bcd23d2",
];

/// Every thread count gives each path's bits; the FMA paths (AVX-512, AVX2, NEON) give the
/// same bits as each other, on any machine, except for bf16 weights on `avx512bf16` and `amx`,
/// which round activations to bf16.
#[test]
fn threads_and_kernel_paths_change_no_bits() {
    // Under an emulator (qemu-user for AArch64) each run takes minutes: two counts there.
    let emulated = std::env::var("NEXTTOKEN_TEST_RUNNER").is_ok_and(|r| !r.trim().is_empty());
    let counts: &[usize] = if emulated { &[3] } else { &[2, 3, 8] };
    let mut by_path = Vec::new();
    for path in Path::available() {
        let first = digests(1, path);
        for &threads in counts {
            assert_eq!(
                digests(threads, path),
                first,
                "{} on {threads} threads",
                path.name()
            );
        }
        println!("{}: {first:?}", path.name());
        by_path.push((path, first));
    }
    for (path, got) in by_path.iter().filter(|(p, _)| *p != Path::Portable) {
        for (dtype, (got, want)) in got.iter().zip(FMA_DIGESTS).enumerate() {
            if matches!(path, Path::Avx512Bf16 | Path::Amx) && dtype == 1 {
                continue; // its own bf16 products
            }
            assert_eq!(got, want, "{}", path.name());
        }
    }
}
