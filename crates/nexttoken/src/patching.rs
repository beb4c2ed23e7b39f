//! `nexttoken patch`: activation patching on a prompt pair, as a table or as JSON (the
//! `/api/pair` and `/api/patch` answers together).

use anyhow::{bail, Context, Result};
use nexttoken::models;
use nexttoken_api::lab::{pair_report, sweep_report, PairReport, SweepReport, MAX_PAIR_TOKENS};
use nexttoken_model::patch::{Direction, Pair, Sweep};
use nexttoken_model::Model;

use crate::cli::{DirectionArg, PatchArgs, SweepArg};

/// Candidates listed per prompt in the JSON.
const TOP_N: usize = 10;

pub fn run(args: &PatchArgs) -> Result<()> {
    let (model, _) = models::load(args.model.model.as_deref())?;
    let sweep = sweep(args)?;
    let direction = match args.direction {
        DirectionArg::Denoise => Direction::Denoise,
        DirectionArg::Noise => Direction::Noise,
    };
    let clean = prompt(&model, "--clean", &args.clean)?;
    let corrupted = prompt(&model, "--corrupted", &args.corrupted)?;
    let answer = one_token(&model, "--answer", &args.answer)?;
    let other = one_token(&model, "--other", &args.other)?;
    if clean.len() != corrupted.len() {
        bail!("{}", mismatch(&model, &clean, &corrupted));
    }
    let start = std::time::Instant::now();
    let pair = Pair::new(&model, clean, corrupted, answer, other)?;
    let pair_ms = start.elapsed().as_secs_f64() * 1e3;
    let readout = pair_report(&pair, &model, TOP_N);
    let swept = sweep_report(&pair, direction, sweep, None)?;
    if args.json {
        let out = serde_json::json!({
            "model": model.name, "pair": readout, "sweep": swept,
            // The two unpatched runs; the sweep's own time is sweep.elapsed_ms.
            "pair_ms": pair_ms,
        });
        outln!("{}", serde_json::to_string(&out)?)?;
    } else {
        print(&model, &readout, &swept)?;
    }
    Ok(())
}

fn sweep(args: &PatchArgs) -> Result<Sweep> {
    let name = match args.sweep {
        SweepArg::Resid => "resid",
        SweepArg::Attn => "attn",
        SweepArg::Mlp => "mlp",
        SweepArg::Heads => "heads",
        SweepArg::HeadPos => "head_pos",
    };
    Sweep::parse(name, args.layer).context("--sweep head-pos needs --layer")
}

fn prompt(model: &Model, flag: &str, text: &str) -> Result<Vec<u32>> {
    let ids = model
        .encode_prompt(text)
        .with_context(|| flag.to_string())?;
    if ids.len() > MAX_PAIR_TOKENS {
        bail!(
            "{flag} is {} tokens; a patching pair has at most {MAX_PAIR_TOKENS}",
            ids.len()
        );
    }
    Ok(ids)
}

/// The id of a text that is exactly one token.
fn one_token(model: &Model, flag: &str, text: &str) -> Result<u32> {
    match model.tokenizer.encode(text)[..] {
        [id] => Ok(id),
        ref ids => bail!(
            "{flag} {text:?} is {} tokens ({}): it must be exactly one (mind the leading space: \" Paris\")",
            ids.len(),
            displays(model, ids).join("|")
        ),
    }
}

fn displays(model: &Model, ids: &[u32]) -> Vec<String> {
    let name = nexttoken_model::generate::namer(model);
    ids.iter().map(|&id| name(id).1).collect()
}

fn mismatch(model: &Model, clean: &[u32], corrupted: &[u32]) -> String {
    format!(
        "the clean prompt is {} tokens ({}) and the corrupted one {} ({}): patching copies \
         activations position by position, so both need the same number of tokens",
        clean.len(),
        displays(model, clean).join("|"),
        corrupted.len(),
        displays(model, corrupted).join("|")
    )
}

fn print(model: &Model, pair: &PairReport, sweep: &SweepReport) -> std::io::Result<()> {
    let c = model.config();
    outln!(
        "model {} ({} layers × {} heads)",
        model.name,
        c.n_layer,
        c.n_head
    )?;
    let cols: Vec<String> = pair
        .clean
        .tokens
        .iter()
        .map(|t| t.display.clone())
        .collect();
    let width = cols
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1)
        .clamp(6, 12);
    let row = |label: &str, cells: &[String]| {
        let cells: Vec<String> = cells
            .iter()
            .map(|s| format!("{s:>width$.width$}"))
            .collect();
        outln!("{label:>10} {}", cells.join(" "))
    };
    row("clean", &cols)?;
    let corrupted: Vec<String> = pair
        .corrupted
        .tokens
        .iter()
        .map(|t| t.display.clone())
        .collect();
    row("corrupted", &corrupted)?;
    let marks: Vec<String> = (0..cols.len())
        .map(|i| {
            if pair.differ.contains(&i) {
                "^".into()
            } else {
                String::new()
            }
        })
        .collect();
    row("", &marks)?;
    outln!(
        "metric: logit({}) − logit({}) at the last position: clean {:.3}, corrupted {:.3}",
        pair.answer.display,
        pair.other.display,
        pair.clean.metric,
        pair.corrupted.metric
    )?;
    outln!("KL(clean ‖ corrupted) = {:.4} nats", pair.kl_nats)?;
    let what = match sweep.direction {
        "denoise" => "clean activations restored into the corrupted run",
        _ => "corrupted activations put into the clean run",
    };
    outln!(
        "{} sweep, {what}; cells: % of the way from the corrupted metric to the clean one",
        sweep.sweep
    )?;
    let [rows_axis, cols_axis] = sweep.axes;
    let header: Vec<String> = match cols_axis {
        "position" => cols,
        _ => (0..sweep.shape[1]).map(|h| format!("head {h}")).collect(),
    };
    row("", &header)?;
    for r in &sweep.rows {
        let cells: Vec<String> = r
            .restored
            .iter()
            .map(|v| v.map_or("-".into(), percent))
            .collect();
        row(&format!("{rows_axis} {}", r.row), &cells)?;
    }
    let patches = sweep.shape[0] * sweep.shape[1];
    outln!("({patches} patched runs in {:.0} ms)", sweep.elapsed_ms)?;
    Ok(())
}

/// A share as a whole percentage; rounding noise around zero prints as 0%, not -0%.
fn percent(v: f32) -> String {
    let p = (100.0 * v).round();
    format!("{}%", if p == 0.0 { 0.0 } else { p })
}
