//! `nexttoken`: the CLI and the server.

mod bench;
mod cli;
mod commands;
mod models;

use clap::Parser;
use cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Tokenize { json, text }) => commands::tokenize(text, json),
        Some(Command::Trace {
            model,
            gen,
            json,
            prompt,
        }) => commands::trace_cmd(&models::load(model.model.as_deref())?, &gen, &prompt, json),
        Some(Command::Generate { model, gen, prompt }) => {
            commands::generate(&models::load(model.model.as_deref())?, &gen, &prompt)
        }
        Some(Command::Bench(args)) => bench::run(&args),
        None => anyhow::bail!("the server is not built yet; try `nexttoken --help`"),
    }
}
