//! `dnalm embed`: one vector per sequence from an encoder (a `dnalm train mlm` run or
//! a fine-tuned `dnalm finetune` seed folder), mean-pooled or the `[CLS]` state, written
//! as safetensors (tensor `embeddings` `(N, d)`, the record ids in the metadata) or as
//! `.npy` (ids in `<out>.ids.txt`). The file appears whole or not at all.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use clap::Args;
use dnalm_nn::encoder::Encoder;
use dnalm_nn::heads::Pooling;
use dnalm_nn::masked_lm::{row_lengths, MaskedLm};
use dnalm_nn::sequence_classifier::SequenceClassifier;
use dnalm_nn::token_rows::TokenRows;
use dnalm_tokenize::Tokenizer;

use crate::commands::finetune::PoolingArg;
use crate::input::RecordArgs;
use crate::model_spec::run_kind;
use crate::progress;

/// Arguments of `dnalm embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// A `dnalm train mlm` run folder or a `dnalm finetune` seed folder.
    #[arg(long, short, value_name = "DIR")]
    model: PathBuf,

    /// Mean over the real tokens, or the [CLS] state.
    #[arg(long, value_enum, default_value_t = PoolingArg::Mean)]
    pooling: PoolingArg,

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

/// A run folder that holds an encoder.
enum EncoderRun {
    Pretrained(MaskedLm),
    FineTuned(SequenceClassifier),
}

impl EncoderRun {
    fn open(path: &Path) -> Result<Self> {
        let device = Device::Cpu;
        Ok(match run_kind(path)?.as_str() {
            "bert" => Self::Pretrained(MaskedLm::load(path, &device).map_err(anyhow::Error::msg)?),
            "bert-classifier" => Self::FineTuned(
                SequenceClassifier::load(path, &device).map_err(anyhow::Error::msg)?,
            ),
            other => bail!(
                "{}: model {other} has no encoder to embed with (use a `dnalm train mlm` run or \
                 a fine-tuned encoder)",
                path.join("config.json").display()
            ),
        })
    }

    fn encoder(&self) -> &Encoder {
        match self {
            Self::Pretrained(model) => model.encoder(),
            Self::FineTuned(model) => model.encoder(),
        }
    }

    fn tokenizer(&self) -> &dyn Tokenizer {
        match self {
            Self::Pretrained(model) => model.tokenizer(),
            Self::FineTuned(model) => model.tokenizer(),
        }
    }
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
        let model = EncoderRun::open(&self.model)?;
        let records = self.records.read()?;
        let pooling = match self.pooling {
            PoolingArg::Cls => Pooling::Cls,
            PoolingArg::Mean => Pooling::Mean,
        };
        let bar = progress::count_bar(records.len() as u64, "embedding");
        let mut vectors = Vec::new();
        for chunk in records.chunks(self.batch_size.max(1)) {
            let rows = TokenRows::encode(
                model.tokenizer(),
                chunk.iter().map(|r| &r.seq[..]),
                self.max_tokens,
            );
            let ids = Tensor::from_vec(rows.ids, (chunk.len(), rows.width), &Device::Cpu)?;
            let lengths = row_lengths(&ids)?;
            vectors.push(model.encoder().embed(&ids, &lengths, pooling)?);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        let embeddings = Tensor::cat(&vectors, 0)?;
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
