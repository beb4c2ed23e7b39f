use nexttoken_model::*;
use std::time::Instant;
fn main() {
    let dir = std::path::Path::new("/tmp/nexttoken-gpt2-full");
    let config = Config::from_file(&dir.join("config.json")).unwrap();
    let weights = Weights::load(&dir.join("model.safetensors"), &config).unwrap();
    let m = Gpt2::new(config, weights);
    for b in [std::env::var("B").unwrap().parse::<usize>().unwrap()] {
        let mut caches: Vec<KvCache> = (0..b).map(|_| KvCache::new(&m.config)).collect();
        let prompts: Vec<Vec<u32>> = (0..b)
            .map(|i| (0..20).map(|j| (i * 100 + j * 7) as u32).collect())
            .collect();
        let mut batch: Vec<Sequence> = prompts
            .iter()
            .zip(caches.iter_mut())
            .map(|(p, c)| Sequence::new(p, c))
            .collect();
        let t0 = Instant::now();
        m.forward_batch(&mut batch).unwrap();
        let pre = t0.elapsed().as_secs_f64();
        let steps = 40;
        let t = Instant::now();
        for s in 0..steps {
            let toks: Vec<[u32; 1]> = (0..b).map(|i| [(i * 31 + s) as u32]).collect();
            let mut batch: Vec<Sequence> = toks
                .iter()
                .zip(caches.iter_mut())
                .map(|(p, c)| Sequence::new(p, c))
                .collect();
            m.forward_batch(&mut batch).unwrap();
        }
        let dt = t.elapsed().as_secs_f64();
        println!(
            "batch {b}: prefill {:.0} ms, step {:.1} ms, {:.1} tok/s",
            pre * 1e3,
            dt * 1e3 / steps as f64,
            (b * steps) as f64 / dt
        );
    }
}
