//! The CLI's commands: each prints to stdout and returns errors for main to report.

use std::io::{BufWriter, Write};

use anyhow::{Context, Result};
use nexttoken_model::trace::TokenRef;
use nexttoken_model::{
    trace, Finish, GenerateOptions, Generator, Model, NoRecorder, Tokenizer, Trace,
};

use crate::cli::GenArgs;

/// The longest pre-token `tokenize` reads (a word, or a run of spaces): its BPE takes about
/// 60 bytes of memory a byte, so this bounds the command's memory whatever the input's size.
const MAX_PRETOKEN_BYTES: usize = 1 << 20;

/// Prints each token as it is read (TEXT, else stdin), so memory stays bounded on any input.
pub fn tokenize(text: Option<String>, json: bool) -> Result<()> {
    let tokenizer = Tokenizer::gpt2();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut count = 0usize;
    if json {
        write!(out, "{{\"tokens\": [")?;
    }
    let emit = |id: u32| {
        let t = tokenizer
            .token_info(id)
            .ok_or_else(|| std::io::Error::other(format!("no token {id}")))?;
        match json {
            true => {
                out.write_all(if count == 0 { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(&mut out, &t)?;
            }
            false => writeln!(out, "{:>6}  {}", t.id, t.display)?,
        }
        count += 1;
        Ok(())
    };
    let read = match &text {
        Some(t) => tokenizer.encode_reader(t.as_bytes(), MAX_PRETOKEN_BYTES, emit),
        None => tokenizer.encode_reader(std::io::stdin().lock(), MAX_PRETOKEN_BYTES, emit),
    };
    read.context(match text {
        Some(_) => "tokenizing TEXT",
        None => "tokenizing stdin",
    })?;
    match json {
        true => writeln!(out, "\n], \"count\": {count}}}")?,
        false => writeln!(out, "{count} tokens")?,
    }
    out.flush()?;
    Ok(())
}

fn options(gen: &GenArgs) -> GenerateOptions {
    GenerateOptions {
        sampling: gen.sampling(),
        seed: gen.seed,
        top_n: gen.top,
    }
}

/// The prompt's ids, checked up front so a run never fails midway for want of positions.
fn prompt_that_fits(model: &Model, prompt: &str, steps: usize) -> Result<Vec<u32>> {
    let ids = model.encode_prompt(prompt)?;
    let max = model.config().n_positions;
    if ids.len() + steps > max {
        anyhow::bail!(
            "the prompt is {} tokens and --steps is {steps}, but this model reads at most {max} \
             positions: use at most {} steps or a shorter prompt",
            ids.len(),
            max.saturating_sub(ids.len())
        );
    }
    Ok(ids)
}

pub fn trace_cmd(model: &Model, gen: &GenArgs, prompt: &str, json: bool) -> Result<()> {
    prompt_that_fits(model, prompt, gen.steps)?;
    let t = trace(model, prompt, gen.steps, options(gen))?;
    if json {
        outln!("{}", serde_json::to_string(&t)?)?;
    } else {
        print_trace(&t)?;
    }
    Ok(())
}

fn print_trace(t: &Trace) -> std::io::Result<()> {
    let m = &t.model;
    outln!(
        "model {} ({} layers × {} heads, d={}, vocab {})",
        m.name,
        m.n_layer,
        m.n_head,
        m.n_embd,
        m.vocab_size
    )?;
    let chips: Vec<String> = t
        .tokens
        .iter()
        .map(|tok| format!("[{}]{}", tok.id, tok.display))
        .collect();
    outln!("{} tokens: {}", t.tokens.len(), chips.join(" "))?;
    outln!("residual L2 norm per position (rows: before each block, then after the last):")?;
    for (l, row) in t.resid_norms.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:8.2}")).collect();
        let label = if l < m.n_layer {
            format!("block {l:>2}")
        } else {
            "final   ".into()
        };
        outln!("  {label} {}", cells.join(""))?;
    }
    for (i, step) in t.steps.iter().enumerate() {
        outln!(
            "step {i}: chose {:?}  (entropy {:.2} bits, nucleus {})",
            step.chosen.display,
            step.entropy_bits,
            step.nucleus_size
        )?;
        for c in &step.candidates {
            let mark = if c.id == step.chosen.id {
                '>'
            } else if c.kept {
                ' '
            } else {
                'x'
            };
            outln!(
                "   {mark} {:>6} {:<16} logit {:>8.3}  p {:>6.2}%  sample {:>6.2}%",
                c.id,
                c.display,
                c.logit,
                100.0 * c.prob,
                100.0 * c.sample_prob
            )?;
        }
    }
    let text: String = t.steps.iter().map(|s| s.chosen.text.as_str()).collect();
    outln!("{}{}", t.prompt, text)?;
    if let (Finish::Eos, Some(last)) = (t.finish_reason, t.steps.last()) {
        outln!("{}", ended(&last.chosen))?;
    }
    outln!("({:.0} ms)", t.elapsed_ms)?;
    Ok(())
}

pub fn generate(model: &Model, gen: &GenArgs, prompt: &str) -> Result<()> {
    let ids = prompt_that_fits(model, prompt, gen.steps)?;
    let mut generator = Generator::new(model, ids, 0, options(gen), &mut NoRecorder)?;
    let mut out = std::io::stdout().lock();
    out.write_all(prompt.as_bytes())?;
    for _ in 0..gen.steps {
        let step = generator.step(None)?;
        // Raw bytes: a character split across tokens completes when its last byte arrives.
        out.write_all(model.tokenizer.token_bytes(step.chosen).unwrap_or_default())?;
        out.flush()?;
        if model.ends_text(step.chosen) {
            writeln!(out)?;
            eprintln!("{}", ended(&TokenRef::of(model, step.chosen)));
            return Ok(());
        }
    }
    writeln!(out)?;
    Ok(())
}

/// Why a generation stopped before its steps were done.
fn ended(token: &TokenRef) -> String {
    format!(
        "(the model ended its answer: it chose {}, its end-of-text token)",
        token.text
    )
}
