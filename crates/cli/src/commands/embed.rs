//! `dnalm embed`: one vector per sequence from an encoder (a `dnalm train mlm` or
//! `dnalm train mxdna` run, or a fine-tuned encoder's `dnalm finetune` seed folder),
//! mean-pooled or the `[CLS]` state, over the final token states (MxDNA: its learnt
//! tokens) or MxDNA's nucleotide-level states, written as safetensors (tensor
//! `embeddings` `(N, d)`, the record ids in the metadata) or as `.npy` (ids in
//! `<out>.ids.txt`). The file appears whole or not at all. With `--regions`, the
//! sequences are the regions of a BED file read from the genome through its index, each
//! embedded whole (in pieces of one input each, averaged, when it is longer).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::Tensor;
use clap::Args;
use dnalm_genome::bed::read_bed;
use dnalm_genome::reference::ReferenceGenome;
use dnalm_genome::scan_source::{RegionSource, ScanSource};
use dnalm_nn::embedding::{
    embed_all, embed_in_pieces, EmbedOptions, EmbeddingStates, SequenceEmbedder,
};
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
    #[arg(long, default_value_t = 32, value_parser = crate::flags::count)]
    batch_size: usize,

    /// Longest input in tokens, [CLS] and [SEP] included (longer sequences are cut;
    /// longer regions are embedded in pieces).
    #[arg(long, default_value_t = 512, value_parser = crate::flags::token_width)]
    max_tokens: usize,

    /// Embed the regions of this BED file (contig, start, end[, name]) instead; FILE is
    /// then the genome (FASTA, read through its index: a plain one is indexed when its
    /// .fai is missing, a bgzipped one needs .fai and .gzi). A region longer than
    /// --max-tokens - 2 nt is embedded in pieces of that length whose embeddings are
    /// averaged, weighted by their nucleotides. The ids are the regions' names, or
    /// contig:start-end.
    #[arg(long, value_name = "BED")]
    regions: Option<PathBuf>,

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
        let pooling = self.pooling.into();
        let options = EmbedOptions {
            pooling,
            states: match self.states {
                StatesArg::Tokens => EmbeddingStates::Tokens,
                StatesArg::Nucleotides => EmbeddingStates::Nucleotides,
            },
            max_tokens: self.max_tokens,
        };
        let (ids, embeddings) = match &self.regions {
            Some(bed) => self.embed_regions(model, bed, &options)?,
            None => {
                let records = self.records.read()?;
                let sequences: Vec<&[u8]> = records.iter().map(|r| &r.seq[..]).collect();
                let bar = progress::count_bar(records.len() as u64, "embedding");
                let embeddings = embed_all(model, &sequences, &options, self.batch_size, &|n| {
                    bar.inc(n)
                })?;
                bar.finish_and_clear();
                (records.into_iter().map(|r| r.id).collect(), embeddings)
            }
        };
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
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

impl EmbedArgs {
    /// The ids and embeddings of the BED regions of the genome given as FILE, read
    /// and embedded `REGIONS_AT_ONCE` at a time.
    fn embed_regions(
        &self,
        model: &dyn SequenceEmbedder,
        bed: &Path,
        options: &EmbedOptions,
    ) -> Result<(Vec<String>, Tensor)> {
        let [genome] = &self.records.files[..] else {
            bail!("with --regions, give one FILE: the genome the regions are on");
        };
        let piece_nt = self
            .max_tokens
            .checked_sub(2)
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--max-tokens {} leaves no room for a nucleotide",
                    self.max_tokens
                )
            })?;
        let mut source = RegionSource::new(ReferenceGenome::open(genome)?, &read_bed(bed)?, bed)?;
        let regions = source.sequences().to_vec();
        let total: u64 = regions
            .iter()
            .map(|r| r.length.div_ceil(piece_nt as u64))
            .sum();
        let bar = progress::count_bar(total, "embedding pieces");
        let mut parts = Vec::new();
        for (chunk, group) in regions.chunks(REGIONS_AT_ONCE).enumerate() {
            let mut sequences = Vec::new();
            for (i, region) in group.iter().enumerate() {
                source.begin(chunk * REGIONS_AT_ONCE + i)?;
                let mut seq = Vec::with_capacity(region.length as usize);
                while source.read(&mut seq, 1 << 20)? > 0 {}
                sequences.push(seq);
            }
            let seqs: Vec<&[u8]> = sequences.iter().map(Vec::as_slice).collect();
            parts.push(embed_in_pieces(
                model,
                &seqs,
                piece_nt,
                options,
                self.batch_size,
                &|n| bar.inc(n),
            )?);
        }
        bar.finish_and_clear();
        let ids = regions.into_iter().map(|r| r.label).collect();
        Ok((ids, Tensor::cat(&parts, 0)?))
    }
}

/// Regions read into memory at a time.
const REGIONS_AT_ONCE: usize = 256;

fn write_npy(embeddings: &Tensor, ids: &[&str], out: &Path) -> Result<()> {
    let ids_path = PathBuf::from(format!("{}.ids.txt", out.display()));
    dnalm_seq::atomic::write_atomic(&ids_path, |file| {
        ids.iter().try_for_each(|id| writeln!(file, "{id}"))
    })
    .with_context(|| format!("cannot write {}", ids_path.display()))?;
    let (rows, columns) = embeddings.dims2()?;
    let values: Vec<f32> = embeddings.flatten_all()?.to_vec1()?;
    dnalm_seq::atomic::write_atomic(out, |file| {
        dnalm_nn::npy::write_f32_matrix(file, &values, rows, columns)
    })
    .inspect_err(|_| {
        // No .npy (a full disk, say): its ids go too.
        let _ = std::fs::remove_file(&ids_path);
    })
    .with_context(|| format!("cannot write {}", out.display()))
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
