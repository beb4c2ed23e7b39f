//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use clap::{Args, Parser, Subcommand};
use nexttoken::server::guard::AllowedHosts;
use nexttoken::server::{ConnectionLimits, Limits, PoolConfig, ServeOptions};
use nexttoken_model::{DType, Sampling};

#[derive(Parser)]
#[command(
    name = "nexttoken",
    version,
    about = "Watch GPT-2 turn a prompt into an answer, one token at a time",
    long_about = "Watch GPT-2 turn a prompt into an answer, one token at a time.\n\n\
        With no command, runs `serve`: the server options below apply to it.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, for running `nexttoken` alone.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Split text into GPT-2 tokens (reads stdin when TEXT is absent).
    Tokenize {
        /// Print JSON: one record per token (id, bytes, text, display) and the count.
        #[arg(long)]
        json: bool,
        text: Option<String>,
    },
    /// Run a prompt through the model and show every stage (greedy unless sampling flags are given).
    Trace {
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        gen: GenArgs,
        /// Print the trace contract (docs/trace.md) as JSON.
        #[arg(long)]
        json: bool,
        prompt: String,
    },
    /// Stream generated text as it is produced.
    Generate {
        #[command(flatten)]
        model: ModelArg,
        #[command(flatten)]
        gen: GenArgs,
        prompt: String,
    },
    /// Time prefill and greedy decoding on random prompts (see bench/README.md).
    Bench(BenchArgs),
    /// Activation patching on a clean / corrupted prompt pair: copy one activation of one run
    /// into the other and measure how much of the answer comes back.
    Patch(PatchArgs),
    /// Serve the page and the JSON API (docs/api.md); the default command.
    Serve(ServeArgs),
    /// Write the page and precomputed runs of the curated prompts to a folder that any static
    /// host can serve, no server needed; with --live, the whole live page, computed in the
    /// reader's browser.
    Export {
        #[command(flatten)]
        model: ModelArg,
        /// The folder to write (created if missing; files in it are overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Greedy tokens generated per curated prompt.
        #[arg(long, default_value_t = 12, value_parser = tokens())]
        steps: usize,
        /// Ship the engine, compiled to WebAssembly, so readers type their own prompts: the
        /// page starts on --model (default: the bundled sotu-tiny) and can load GPT-2 small
        /// from the Hugging Face hub. Builds crates/wasm with cargo unless --wasm is given, and
        /// again with threads where a nightly toolchain is installed.
        #[arg(long)]
        live: bool,
        /// With --live: put this model (gpt2) beside the site, in 16 bits, for the page's
        /// "Load GPT-2 small" to fetch before trying the hub.
        #[arg(long, value_name = "MODEL", requires = "live")]
        with_weights: Option<String>,
        /// With --live: a prebuilt engine (nexttoken_wasm.wasm of the same version).
        #[arg(long, value_name = "FILE", requires = "live")]
        wasm: Option<PathBuf>,
        /// With --live: a prebuilt threaded engine (crates/wasm built with shared memory), for
        /// pages served cross-origin isolated. Without it a --wasm site runs on one thread.
        #[arg(long, value_name = "FILE", requires = "live")]
        wasm_threads: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Address to listen on. Anything but a loopback address exposes the server to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// A host name the page may be opened by besides loopback names and IP addresses (a LAN
    /// name, a proxy's); repeat for more. Requests addressed to other names get 421.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Open the page in a browser once the server listens.
    #[arg(long)]
    pub open: bool,
    /// Model jobs run at once. Default: 4 per CPU (the decode steps of concurrent traces are
    /// batched, so more of them at once cost little more than one).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_concurrent: Option<u32>,
    /// Requests that may wait for a model job; beyond that the answer is 503 with Retry-After.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub queue: u32,
    /// Seconds a request may take, waiting included (then 503 if still queued, else 504).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=DAY))]
    pub request_timeout_secs: u64,
    /// Most tokens one /api/trace may generate.
    #[arg(long, default_value_t = Limits::default().max_steps as u32,
          value_parser = clap::value_parser!(u32).range(0..=MAX_STEPS))]
    pub max_steps: u32,
    /// Largest request body in bytes (larger: 413, answered before the body is read).
    #[arg(long, default_value_t = Limits::default().max_body_bytes as u64,
          value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    pub max_body_bytes: u64,
    /// Seconds a client has to send a request's headers, counted from when the server waits
    /// for them (a new connection, or the end of the last answer on a kept-alive one).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body once its headers arrived (then 408).
    #[arg(long, default_value_t = Limits::default().body_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_secs: u64,
    /// Open connections at most (and below the open-file limit); at the cap a new connection
    /// replaces the oldest idle one.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// MiB the cache of recent logits and model states may hold (least recently used out;
    /// 0 keeps nothing). GPT-2 small's state is 72 KiB a position.
    #[arg(long, default_value_t = (Limits::default().cache_bytes >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(0..=MAX_CACHE_MB))]
    pub cache_mb: u64,
}

/// 1 TiB: more than any machine this runs on, and far from overflowing a byte count.
const MAX_CACHE_MB: u64 = 1 << 20;
/// The largest context a config may declare (model crate): no run generates more tokens.
const MAX_STEPS: i64 = 1 << 17;
const DAY: u64 = 86_400;
/// More candidates than any vocabulary has would only cost memory.
const MAX_TOP: u64 = 1 << 20;

/// A count of tokens, 0 to the largest context a model may declare: a run's positions are
/// checked against its model later, with a message that names both.
fn tokens() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(0..=MAX_STEPS as u64)
}

impl ServeArgs {
    pub fn options(&self) -> ServeOptions {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        ServeOptions {
            host: self.host.clone(),
            port: self.port,
            open: self.open,
            limits: Limits {
                max_steps: self.max_steps as usize,
                max_body_bytes: self.max_body_bytes as usize,
                cache_bytes: (self.cache_mb << 20) as usize,
                body_timeout: Duration::from_secs(self.body_timeout_secs),
                hosts: AllowedHosts::new(
                    std::iter::once(&self.host)
                        .chain(&self.allowed_hosts)
                        .map(String::as_str),
                ),
            },
            pool: PoolConfig {
                max_concurrent: self.max_concurrent.map_or(4 * cpus, |n| n as usize),
                queue: self.queue as usize,
                request_timeout: Duration::from_secs(self.request_timeout_secs),
            },
            connections: ConnectionLimits {
                max_connections: self.max_connections as usize,
                header_timeout: Duration::from_secs(self.header_timeout_secs),
            },
        }
    }
}

#[derive(Args, Clone)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// How the weight matrices are stored: f32, or bf16/f16 (converted at load from an f32 file).
    #[arg(long, default_value = "f32")]
    pub dtype: DType,
    /// Prompt length before the decode steps.
    #[arg(long, default_value_t = 32, value_parser = tokens())]
    pub prompt_tokens: usize,
    /// Greedy steps timed after the prompt, one token each, with the KV cache.
    #[arg(long, default_value_t = 64, value_parser = tokens())]
    pub decode_tokens: usize,
    /// Prompt length of the prefill measurement (logits of the last position only).
    #[arg(long, default_value_t = 256, value_parser = tokens())]
    pub prefill_tokens: usize,
    /// Timed repetitions of each measurement (after one untimed warm-up); medians are reported.
    #[arg(long, default_value_t = 5, value_parser = RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub runs: usize,
    /// Also time this many plain decode steps, each followed by a read of as many bytes by
    /// the in-process probe, and report the median of their ratios: decode's share of the
    /// bandwidth the machine gave at that moment, which a busy machine moves far less than
    /// a share of the best probe round (0: off).
    #[arg(long, default_value_t = 0, value_parser = RangedU64ValueParser::<usize>::new().range(0..=100_000))]
    pub interleave: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Clone)]
pub struct PatchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// The prompt the model answers, e.g. "When Mary and John went to the store, John gave a
    /// drink to".
    #[arg(long)]
    pub clean: String,
    /// The same prompt minimally changed, with as many tokens, e.g. "..., Mary gave a drink to".
    #[arg(long)]
    pub corrupted: String,
    /// The clean prompt's answer: text that is exactly one token (mind the space: " Mary").
    #[arg(long)]
    pub answer: String,
    /// The token the answer competes with, usually the corrupted prompt's answer (" John").
    #[arg(long)]
    pub other: String,
    /// What to patch: the residual stream entering each block (resid), attention's or the
    /// MLP's output (attn, mlp), each per block × position; each head's output at every
    /// position (heads, block × head); or one block's heads per position (head-pos, --layer).
    #[arg(long, value_enum, default_value = "resid")]
    pub sweep: SweepArg,
    /// The block of a head-pos sweep.
    #[arg(long)]
    pub layer: Option<usize>,
    /// denoise: restore clean activations into the corrupted run; noise: put corrupted ones
    /// into the clean run.
    #[arg(long, value_enum, default_value = "denoise")]
    pub direction: DirectionArg,
    /// Print one JSON object: both prompts, the metric, its logit lens and the sweep's grid.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum SweepArg {
    Resid,
    Attn,
    Mlp,
    Heads,
    HeadPos,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum DirectionArg {
    Denoise,
    Noise,
}

#[derive(Args, Clone)]
pub struct ModelArg {
    /// A Hugging Face model id (gpt2, distilgpt2, gpt2-medium, org/name, ...), a directory in
    /// Hugging Face layout, or `sotu-tiny` (alias `tiny`), the small model built into nexttoken.
    /// Default: gpt2 when it is in the Hugging Face cache, else sotu-tiny (the server then
    /// downloads gpt2 in the background).
    #[arg(long, short)]
    pub model: Option<String>,
}

#[derive(Args, Clone)]
pub struct GenArgs {
    /// How many tokens to generate.
    // Negative numbers parse as values, so the error names the flag.
    #[arg(long, short = 'n', default_value_t = 20, allow_negative_numbers = true,
          value_parser = tokens())]
    pub steps: usize,
    /// Divide the logits by T before the softmax (turns sampling on).
    #[arg(long, allow_negative_numbers = true)]
    pub temperature: Option<f32>,
    /// Keep only the K most likely tokens (turns sampling on).
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Keep the smallest set of tokens whose probability reaches P (turns sampling on).
    #[arg(long, allow_negative_numbers = true)]
    pub top_p: Option<f32>,
    /// Seed of the sampler: the same prompt, settings and seed give the same tokens.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub seed: u64,
    /// Candidates shown per step.
    #[arg(long, default_value_t = 10, value_parser = RangedU64ValueParser::<usize>::new().range(0..=MAX_TOP))]
    pub top: usize,
}

impl GenArgs {
    pub fn sampling(&self) -> Sampling {
        let sampled = self.temperature.is_some() || self.top_k.is_some() || self.top_p.is_some();
        Sampling {
            greedy: !sampled,
            temperature: self.temperature.unwrap_or(1.0),
            top_k: self.top_k,
            top_p: self.top_p,
        }
    }
}
