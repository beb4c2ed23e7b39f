//! Sampling against distributions computed by hand.

use nexttoken_model::explain::explain;
use nexttoken_model::sampling::{uniform, Distribution, Sampling};

/// Logits whose temperature-1 probabilities are 1/2, 1/4, 1/8, 1/8 (ids 2, 0, 3, 1).
fn logits() -> Vec<f32> {
    [2.0f32, 1.0, 4.0, 1.0].iter().map(|p| p.ln()).collect()
}

fn settings(temperature: f32, top_k: Option<usize>, top_p: Option<f32>) -> Sampling {
    Sampling {
        greedy: false,
        temperature,
        top_k,
        top_p,
    }
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
}

#[test]
fn temperature_one_is_the_softmax() {
    let d = Distribution::new(&logits(), &settings(1.0, None, None));
    assert_eq!(d.order, [2, 0, 1, 3]); // the tie between ids 1 and 3 goes to the lower id
    assert!(close(&d.base, &[0.5, 0.25, 0.125, 0.125]));
    assert!(close(&d.final_probs, &d.base));
    assert_eq!(d.kept, 4);
    assert!((d.entropy_bits - 1.75).abs() < 1e-6);
}

#[test]
fn temperature_two_takes_square_roots() {
    let d = Distribution::new(&logits(), &settings(2.0, None, None));
    let z = 2.0 + 2f64.sqrt() + 1.0 + 1.0;
    assert!(close(
        &d.final_probs,
        &[2.0 / z, 2f64.sqrt() / z, 1.0 / z, 1.0 / z]
    ));
    assert!(
        close(&d.base, &[0.5, 0.25, 0.125, 0.125]),
        "base stays at temperature 1"
    );
}

#[test]
fn top_p_keeps_the_smallest_set_reaching_p() {
    for (p, kept) in [
        (0.5, 1),
        (0.6, 2),
        (0.75, 2),
        (0.76, 3),
        (1.0, 4),
        (0.01, 1),
    ] {
        let d = Distribution::new(&logits(), &settings(1.0, None, Some(p)));
        assert_eq!(d.kept, kept, "top_p = {p}");
    }
    let d = Distribution::new(&logits(), &settings(1.0, None, Some(0.6)));
    assert!(close(&d.final_probs, &[2.0 / 3.0, 1.0 / 3.0, 0.0, 0.0]));
}

#[test]
fn top_k_keeps_ties_and_runs_before_top_p() {
    let d = Distribution::new(&logits(), &settings(1.0, Some(3), None));
    assert_eq!(d.kept, 4, "the 4th token ties with the 3rd");
    let d = Distribution::new(&logits(), &settings(1.0, Some(2), None));
    assert!(close(&d.scaled, &[2.0 / 3.0, 1.0 / 3.0, 0.0, 0.0]));
    // After top-k the nucleus is computed on the renormalised pair: 2/3 < 0.7 so both stay.
    let d = Distribution::new(&logits(), &settings(1.0, Some(2), Some(0.7)));
    assert_eq!(d.kept, 2);
    let d = Distribution::new(&logits(), &settings(1.0, Some(2), Some(0.6)));
    assert_eq!(d.kept, 1);
    assert!(close(&d.final_probs, &[1.0, 0.0, 0.0, 0.0]));
}

#[test]
fn greedy_keeps_only_the_argmax() {
    let d = Distribution::new(&logits(), &Sampling::greedy());
    assert_eq!((d.kept, d.pick(0.999)), (1, 2));
}

/// HF clients send `temperature: 0` meaning greedy, with or without `greedy`: the limit of
/// ever lower temperatures, all the mass on the top logit.
#[test]
fn temperature_zero_is_greedy() {
    for greedy in [false, true] {
        let s = Sampling {
            greedy,
            ..settings(0.0, None, Some(0.9))
        };
        assert_eq!(s.validate(4), Ok(()));
        let d = Distribution::new(&logits(), &s);
        assert_eq!((d.kept, d.pick(0.999)), (1, 2));
        assert!(close(&d.scaled, &[1.0, 0.0, 0.0, 0.0]), "{:?}", d.scaled);
        assert!(close(&d.final_probs, &[1.0, 0.0, 0.0, 0.0]));
        assert_eq!(d.sample_entropy_bits, 0.0);
        assert!(
            (d.entropy_bits - 1.75).abs() < 1e-6,
            "base stays at temperature 1"
        );
    }
    // Tied top logits share the limit's mass; the lower id is taken, as greedy does.
    let tied = [0.5f32, 3.0, -1.0, 3.0];
    let d = Distribution::new(&tied, &settings(0.0, None, None));
    assert!(close(&d.scaled, &[0.5, 0.5, 0.0, 0.0]), "{:?}", d.scaled);
    assert_eq!((d.kept, d.pick(0.9)), (1, 1));
    assert!(settings(-0.1, None, None).validate(4).is_err());
}

/// `top_k: 0` is "off" in HF clients: it keeps every token, as `None` does.
#[test]
fn top_k_zero_is_off() {
    let off = settings(0.8, Some(0), Some(0.9));
    assert_eq!(off.validate(4), Ok(()));
    let (got, want) = (
        Distribution::new(&logits(), &off),
        Distribution::new(&logits(), &settings(0.8, None, Some(0.9))),
    );
    assert_eq!((got.kept, &got.order), (want.kept, &want.order));
    assert!(close(&got.final_probs, &want.final_probs));
    assert!(settings(1.0, Some(5), None).validate(4).is_err());
}

#[test]
fn pick_walks_the_cumulative_distribution() {
    let d = Distribution::new(&logits(), &settings(1.0, None, None));
    for (u, id) in [
        (0.0, 2),
        (0.49, 2),
        (0.51, 0),
        (0.74, 0),
        (0.76, 1),
        (0.9, 3),
        (0.999_999, 3),
    ] {
        assert_eq!(d.pick(u), id, "u = {u}");
    }
}

#[test]
fn sampled_tokens_stay_in_the_kept_set() {
    let d = Distribution::new(&logits(), &settings(0.7, Some(3), Some(0.8)));
    let kept = &d.order[..d.kept];
    for draw in 0..2000 {
        assert!(kept.contains(&d.pick(uniform(42, draw))));
    }
}

#[test]
fn uniform_is_portable_and_in_range() {
    // SplitMix64's published first output for seed 0 is 0xE220A8397B1DCDAF.
    assert_eq!(
        uniform(0, 0),
        (0xE220_A839_7B1D_CDAFu64 >> 11) as f64 / (1u64 << 53) as f64
    );
    let draws: Vec<f64> = (0..10_000).map(|i| uniform(7, i)).collect();
    assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
}

#[test]
fn explanation_reports_candidates_and_mass() {
    let l = logits();
    let d = Distribution::new(&l, &settings(1.0, None, Some(0.6)));
    let e = explain(&d, &l, 3, |id| (format!("t{id}"), format!("·t{id}")));
    let ids: Vec<u32> = e.candidates.iter().map(|c| c.id).collect();
    assert_eq!(ids, [2, 0, 1]);
    assert_eq!(
        (
            e.candidates[1].text.as_str(),
            e.candidates[1].display.as_str()
        ),
        ("t0", "·t0")
    );
    assert!((e.candidates[1].cumulative - 0.75).abs() < 1e-6);
    assert_eq!(
        e.candidates.iter().map(|c| c.kept).collect::<Vec<_>>(),
        [true, true, false]
    );
    assert_eq!(e.nucleus_size, 2);
    assert!((e.mass_outside_shown - 0.125).abs() < 1e-6);
    assert!(e.sample_mass_outside_shown.abs() < 1e-12);
    assert!((e.sample_entropy_bits - 0.918_295_834_054_489_6).abs() < 1e-6);
}

/// The distribution by fully sorting the vocabulary: what `Distribution::new` computed before it
/// sorted only the top ranks. Returns (order, final probabilities by rank, kept).
fn fully_sorted(logits: &[f32], s: &Sampling) -> (Vec<u32>, Vec<f64>, usize) {
    let mut order: Vec<u32> = (0..logits.len() as u32).collect();
    order.sort_by(|&a, &b| {
        logits[b as usize]
            .total_cmp(&logits[a as usize])
            .then(a.cmp(&b))
    });
    let l: Vec<f64> = order.iter().map(|&i| logits[i as usize] as f64).collect();
    let t = s.temperature as f64;
    let soft = |n: usize| {
        let e: Vec<f64> = (0..l.len())
            .map(|i| {
                if i < n {
                    ((l[i] - l[0]) / t).exp()
                } else {
                    0.0
                }
            })
            .collect();
        let z: f64 = e.iter().sum();
        e.into_iter().map(|p| p / z).collect::<Vec<f64>>()
    };
    let by_k = s.top_k.map_or(l.len(), |k| {
        k + l[k..].iter().take_while(|&&x| x >= l[k - 1]).count()
    });
    let scaled = soft(by_k);
    let kept = match (s.greedy, s.top_p) {
        (true, _) => 1,
        (false, Some(p)) => {
            let (mut above, mut n) = (0.0, 0);
            while n < by_k && above < p as f64 {
                above += scaled[n];
                n += 1;
            }
            n.max(1)
        }
        (false, None) => by_k,
    };
    (order, soft(kept), kept)
}

#[test]
fn sorting_only_the_top_ranks_changes_nothing() {
    // A GPT-2-sized vocabulary with long runs of tied logits.
    let logits: Vec<f32> = (0..50_257u32)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 20) % 700) as f32 / 60.0)
        .collect();
    // The temperature-1 entropy, whatever the settings.
    let (_, base, _) = fully_sorted(&logits, &settings(1.0, None, None));
    let entropy: f64 = base
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|p| -p * p.log2())
        .sum();
    for s in [
        Sampling::greedy(),
        settings(0.7, Some(40), Some(0.9)),
        settings(1.0, None, Some(0.95)),
        settings(2.0, Some(3000), None), // top-k reaches past the sorted ranks
        settings(5.0, None, Some(0.999)), // so does the nucleus
        settings(1.3, None, None),       // every token kept
    ] {
        let d = Distribution::new(&logits, &s);
        let (order, final_probs, kept) = fully_sorted(&logits, &s);
        assert_eq!(d.kept, kept, "{s:?}");
        assert!(d.sorted >= d.kept.min(logits.len()));
        assert_eq!(d.order[..d.sorted], order[..d.sorted], "{s:?}");
        assert!(close(&d.final_probs[..d.sorted], &final_probs[..d.sorted]));
        let total: f64 = d.base.iter().sum::<f64>() + d.base_tail;
        assert!((total - 1.0).abs() < 1e-9);
        assert!((d.entropy_bits - entropy).abs() < 1e-9, "{s:?}");
        for u in [0.0, 0.3, 0.77, 0.999_999] {
            let mut cumulative = 0.0;
            let want = (0..kept)
                .find(|&r| {
                    cumulative += final_probs[r];
                    u < cumulative
                })
                .map_or(order[kept - 1], |r| order[r]);
            assert_eq!(d.pick(u), want, "{s:?} u = {u}");
        }
    }
}
