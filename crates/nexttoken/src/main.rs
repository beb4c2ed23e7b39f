//! `nexttoken`: the CLI and the server.

/// `println!` that hands the write's error back instead of panicking, so a reader that went
/// away (`nexttoken tokenize … | head -1`) ends the command quietly (see `main`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod bench;
mod cli;
mod commands;
mod patching;

use clap::Parser;
use cli::{Cli, Command, ServeArgs};
use nexttoken::{export, live, models, server};

fn main() {
    let cli = parse();
    if let Err(e) = run(cli) {
        if closed_stdout(&e) {
            return; // the reader has what it wanted (`| head`): nothing to report
        }
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// Whether the error is a write to a stdout whose reader has gone.
fn closed_stdout(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// clap's usage errors span several lines (tips, usage); this CLI's errors are one line.
/// `--help` and `--version` print as clap renders them.
fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("error: invalid arguments");
            eprintln!("{first} (see --help)");
            std::process::exit(2);
        }
        Err(e) => e.exit(),
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Before any work: a benchmark of the wrong kernels would mislead.
    nexttoken_model::kernels::Path::from_env().map_err(anyhow::Error::msg)?;
    match cli.command {
        Some(Command::Tokenize { json, text }) => commands::tokenize(text, json),
        Some(Command::Trace {
            model,
            gen,
            json,
            prompt,
        }) => commands::trace_cmd(
            &models::load(model.model.as_deref())?.0,
            &gen,
            &prompt,
            json,
        ),
        Some(Command::Generate { model, gen, prompt }) => {
            commands::generate(&models::load(model.model.as_deref())?.0, &gen, &prompt)
        }
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Patch(args)) => patching::run(&args),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Export {
            model,
            out,
            steps,
            live: true,
            with_weights,
            wasm,
            wasm_threads,
        }) => {
            let options = live::LiveOptions {
                start: model.model,
                with_weights,
                wasm,
                wasm_threads,
            };
            let written = live::export_live(&out, steps, &options)?;
            outln!("{}", written.summary(&out))?;
            Ok(())
        }
        Some(Command::Export {
            model, out, steps, ..
        }) => {
            let (model, _) = models::load(model.model.as_deref())?;
            let written = export::export(&model, &out, steps)?;
            outln!("{}", written.summary(&out))?;
            Ok(())
        }
        None => serve(&cli.serve),
    }
}

fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let (model, source, upgrade) = match args.model.model.as_deref() {
        Some(name) => {
            let (model, source) = models::load(Some(name))?;
            (model, source, None)
        }
        None => server::default_model()?,
    };
    server::serve(model, source, upgrade, args.options())
}
