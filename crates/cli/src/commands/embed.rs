//! `dnalm embed`: one vector per sequence from an encoder (a `dnalm train mlm` or
//! `dnalm train mxdna` run, or a fine-tuned encoder's `dnalm finetune` seed folder),
//! mean-pooled or the `[CLS]` state, over the final token states (MxDNA: its learnt
//! tokens) or MxDNA's nucleotide-level states, written as safetensors (tensor
//! `embeddings` `(N, d)`, the record ids in the metadata) or as `.npy` (ids in
//! `<out>.ids.txt`). The file appears whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::Tensor;
use clap::Args;
use dnalm_nn::embedding::{embed_all, EmbedOptions, EmbeddingStates};
use dnalm_nn::heads::Pooling;

use crate::commands::finetune::PoolingArg;
use crate::input::RecordArgs;
use crate::model_args::ModelArgs;
use crate::progress;

/// Arguments of `dnalm embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Mean over the real tokens, or the [CLS] state.
    #[arg(long, value_enum, default_value_t = PoolingArg::Mean)]
    pooling: PoolingArg,

    /// Which states are pooled: the final token states, or (MxDNA) the
    /// nucleotide-level states before the learnt tokenization.
    #[arg(long, value_enum, default_value_t = StatesArg::Tokens)]
    states: StatesArg,

    /// Output: `.safetensors` or `.npy`.
    #[arg(long, short, value_name = "FILE")]
    out: PathBuf,

    /// Sequences per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,

    /// Longest input in tokens, [CLS] and [SEP] included (longer ones are cut).
    #[arg(long, default_value_t = 512)]
    max_tokens: usize,

    #[command(flatten)]
    records: RecordArgs,
}

/// Which states are pooled, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatesArg {
    /// The encoder's final token states (for MxDNA: over its learnt tokens).
    Tokens,
    /// MxDNA's nucleotide-level states, before its learnt tokenization.
    Nucleotides,
}

impl EmbedArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let extension = self.out.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(extension, "safetensors" | "npy") {
            bail!(
                "{}: the output must end in .safetensors or .npy",
                self.out.display()
            );
        }
        let loaded = self.model.open()?;
        let model = loaded.embedder("dnalm embed")?;
        let records = self.records.read()?;
        let pooling = self.pooling.into();
        let options = EmbedOptions {
            pooling,
            states: match self.states {
                StatesArg::Tokens => EmbeddingStates::Tokens,
                StatesArg::Nucleotides => EmbeddingStates::Nucleotides,
            },
            max_tokens: self.max_tokens,
        };
        let sequences: Vec<&[u8]> = records.iter().map(|r| &r.seq[..]).collect();
        let bar = progress::count_bar(records.len() as u64, "embedding");
        let embeddings = embed_all(model, &sequences, &options, self.batch_size, &|n| {
            bar.inc(n)
        })?;
        bar.finish_and_clear();
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        if extension == "npy" {
            write_npy(&embeddings, &ids, &self.out)?;
        } else {
            write_safetensors(&embeddings, &ids, pooling, &self.out)?;
        }
        let (n, d) = embeddings.dims2()?;
        eprintln!(
            "wrote {n} embeddings of {d} values to {}",
            self.out.display()
        );
        Ok(())
    }
}

fn write_npy(embeddings: &Tensor, ids: &[&str], out: &Path) -> Result<()> {
    let ids_path = PathBuf::from(format!("{}.ids.txt", out.display()));
    dnalm_seq::atomic::write_atomic(&ids_path, |file| {
        ids.iter().try_for_each(|id| writeln!(file, "{id}"))
    })
    .with_context(|| format!("cannot write {}", ids_path.display()))?;
    let temp = PathBuf::from(format!("{}.partial.npy", out.display()));
    embeddings
        .write_npy(&temp)
        .with_context(|| format!("cannot write {}", temp.display()))?;
    std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))
}

fn write_safetensors(
    embeddings: &Tensor,
    ids: &[&str],
    pooling: Pooling,
    out: &Path,
) -> Result<()> {
    let metadata = std::collections::HashMap::from([
        ("ids".to_string(), serde_json::to_string(ids)?),
        ("pooling".to_string(), format!("{pooling:?}").to_lowercase()),
    ]);
    let bytes = safetensors::serialize([("embeddings", embeddings)], Some(metadata))
        .map_err(|err| anyhow::anyhow!("{}: {err}", out.display()))?;
    dnalm_seq::atomic::write_atomic(out, |file| file.write_all(&bytes))
        .with_context(|| format!("cannot write {}", out.display()))
}
