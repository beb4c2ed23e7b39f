//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use nexttoken_model::{DType, Sampling};

#[derive(Parser)]
#[command(
    name = "nexttoken",
    version,
    about = "Watch GPT-2 turn a prompt into an answer, one token at a time"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
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
}

#[derive(Args, Clone)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// How the weight matrices are stored: f32, or bf16/f16 (converted at load from an f32 file).
    #[arg(long, default_value = "f32")]
    pub dtype: DType,
    /// Prompt length before the decode steps.
    #[arg(long, default_value_t = 32)]
    pub prompt_tokens: usize,
    /// Greedy steps timed after the prompt, one token each, with the KV cache.
    #[arg(long, default_value_t = 64)]
    pub decode_tokens: usize,
    /// Prompt length of the prefill measurement (logits of the last position only).
    #[arg(long, default_value_t = 256)]
    pub prefill_tokens: usize,
    /// Timed repetitions of each measurement (after one untimed warm-up); medians are reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Clone)]
pub struct ModelArg {
    /// A Hugging Face model id (gpt2, distilgpt2, gpt2-medium, org/name, ...) or a directory in
    /// Hugging Face layout. Default: gpt2 when it is in the Hugging Face cache.
    #[arg(long, short)]
    pub model: Option<String>,
}

#[derive(Args, Clone)]
pub struct GenArgs {
    /// How many tokens to generate.
    #[arg(long, short = 'n', default_value_t = 20)]
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
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Candidates shown per step.
    #[arg(long, default_value_t = 10)]
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
