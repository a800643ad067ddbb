//! `dnalm eval variants`: zero-shot variant-effect scores for a table of reference and
//! alternate sequences. Autoregressive models (n-gram, `dnalm train lm` runs) give the
//! exact log-likelihood ratio `log P(alt) - log P(ref)`; masked models (`dnalm train
//! mlm` and `dnalm train mxdna` runs) give the masked marginal at the changed tokens
//! (MxDNA: at the changed nucleotides). With a label column (1 = damaging /
//! pathogenic, 0 = benign) the AUROC of `-score` is reported.
//!
//! Output: a CSV of `id,score[,label]`, written whole or not at all.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use dnalm_eval::classification::binary_auroc;
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::table::TableColumns;
use dnalm_seq::SeqRecord;

use dnalm_genome::vcf_variants::WindowOptions;
use dnalm_models::variant_scoring::VariantScoring;

use crate::commands::variants_vcf::score_vcf;
use crate::model_args::ModelArgs;
use crate::progress;

/// Arguments of `dnalm eval variants`.
#[derive(Debug, Args)]
pub struct VariantArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Column of the reference sequence.
    #[arg(long, default_value = "ref", value_name = "NAME")]
    ref_column: String,

    /// Column of the alternate sequence.
    #[arg(long, default_value = "alt", value_name = "NAME")]
    alt_column: String,

    /// Column of the 0/1 label [default: label, if present].
    #[arg(long, value_name = "NAME")]
    label_column: Option<String>,

    /// Column of the variant id [default: id or name if present, else row<N>].
    #[arg(long, value_name = "NAME")]
    id_column: Option<String>,

    /// Write the scores here: CSV for a table; for a VCF, the VCF with the score in
    /// INFO or a TSV (see --format).
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,

    /// With --reference: what -o writes [default: vcf when FILE ends in .vcf, else
    /// tsv].
    #[arg(long, value_enum, requires = "reference")]
    format: Option<VcfOutput>,

    /// The variants are a VCF (plain, gzip or bgzip) on this reference genome (FASTA;
    /// a plain one is indexed if its .fai is missing, a bgzipped one needs .fai and
    /// .gzi). Each ALT allele is scored in a window of --window nt around it.
    #[arg(long, value_name = "FASTA")]
    reference: Option<PathBuf>,

    /// With --reference: nucleotides of context, half on each side of the REF allele.
    #[arg(long, default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=dnalm_genome::tiling::MAX_WINDOW as i64))]
    window: u32,

    /// With --reference: the INFO key of a 0/1 label (1 = damaging).
    #[arg(long, value_name = "KEY")]
    label_info: Option<String>,

    /// With --reference: make a record that cannot be scored (REF not the reference's,
    /// contig missing, past the end, symbolic ALT) an error instead of counting it.
    #[arg(long)]
    strict: bool,

    /// The variants: a table (CSV/TSV, optionally .gz) or, with --reference, a VCF.
    #[arg(value_name = "FILE")]
    table: PathBuf,
}

/// What `eval variants --reference` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VcfOutput {
    /// The VCF with one INFO value per ALT (`DNALM_LLR` or `DNALM_MM`).
    Vcf,
    /// `chrom pos id ref alt score label status`, one row per ALT.
    Tsv,
}

/// Variants handed to the scorer at a time (its batches run inside).
const VARIANTS_PER_CALL: usize = 256;

/// The reference and alternate records of a variant table (the same rows read twice,
/// once per sequence column).
fn read_variants(args: &VariantArgs) -> Result<(Vec<SeqRecord>, Vec<SeqRecord>)> {
    let options = |sequence: &str, label: Option<String>| SourceOptions {
        columns: TableColumns {
            sequence: Some(sequence.to_string()),
            label,
            id: args.id_column.clone(),
        },
        header_labels: false,
    };
    let references = read_all(
        &args.table,
        &options(&args.ref_column, args.label_column.clone()),
    )?;
    let alternates = read_all(&args.table, &options(&args.alt_column, None))?;
    Ok((references, alternates))
}

impl VariantArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let loaded = self.model.open()?;
        let scorer = loaded.variant_scoring("dnalm eval variants")?;
        if let Some(reference) = &self.reference {
            let format =
                self.format
                    .unwrap_or(match self.out.as_ref().and_then(|p| p.extension()) {
                        Some(e) if e == "vcf" => VcfOutput::Vcf,
                        _ => VcfOutput::Tsv,
                    });
            let options = WindowOptions {
                flank: self.window as usize / 2,
                label_info: self.label_info.clone(),
                strict: self.strict,
            };
            return score_vcf(
                &loaded.describe(),
                &scorer,
                &self.table,
                reference,
                &options,
                self.out.as_deref().map(|out| (out, format)),
            );
        }
        let (references, alternates) = read_variants(&self)?;
        if references.is_empty() {
            bail!("{}: the table has no variants", self.table.display());
        }
        let pairs: Vec<(&[u8], &[u8])> = references
            .iter()
            .zip(&alternates)
            .map(|(r, a)| (&r.seq[..], &a.seq[..]))
            .collect();
        let scores = score_pairs(&scorer, &pairs, &|i| {
            format!("{}: variant '{}'", self.table.display(), references[i].id)
        })?;
        let labels = references
            .iter()
            .map(|record| match record.label.as_deref().map(str::trim) {
                None => Ok(None),
                Some("1") => Ok(Some(true)),
                Some("0") => Ok(Some(false)),
                Some(other) => bail!(
                    "{}: variant '{}': label '{other}' is not 0 or 1",
                    self.table.display(),
                    record.id
                ),
            })
            .collect::<Result<Vec<Option<bool>>>>()?;
        report(&loaded.describe(), scorer.method(), &scores, &labels);
        if let Some(out) = &self.out {
            dnalm_seq::atomic::write_atomic(out, |file| {
                writeln!(
                    file,
                    "id,score{}",
                    if labels[0].is_some() { ",label" } else { "" }
                )?;
                for ((record, score), label) in references.iter().zip(&scores).zip(&labels) {
                    match label {
                        Some(label) => {
                            writeln!(file, "{},{score},{}", record.id, u8::from(*label))?
                        }
                        None => writeln!(file, "{},{score}", record.id)?,
                    }
                }
                Ok(())
            })
            .with_context(|| format!("cannot write {}", out.display()))?;
        }
        Ok(())
    }
}

/// Scores `pairs` (reference, alternate) `VARIANTS_PER_CALL` at a time with a progress
/// bar; a failing batch is scored one by one to name its variant (`name(i)`).
pub fn score_pairs(
    scorer: &VariantScoring,
    pairs: &[(&[u8], &[u8])],
    name: &dyn Fn(usize) -> String,
) -> Result<Vec<f64>> {
    let bar = progress::count_bar(pairs.len() as u64, "variants scored");
    let mut scores: Vec<f64> = Vec::with_capacity(pairs.len());
    for (chunk_index, chunk) in pairs.chunks(VARIANTS_PER_CALL).enumerate() {
        match scorer.score_batch(chunk) {
            Ok(batch) => scores.extend(batch),
            Err(_) => {
                for (offset, (reference, alternate)) in chunk.iter().enumerate() {
                    let i = chunk_index * VARIANTS_PER_CALL + offset;
                    let score = scorer
                        .score(reference, alternate)
                        .map_err(|err| anyhow::anyhow!("{}: {err}", name(i)))?;
                    scores.push(score);
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(scores)
}

/// Prints the count, the mean score and, when every variant is labelled, the AUROC.
pub fn report(model: &str, method: &str, scores: &[f64], labels: &[Option<bool>]) {
    println!("{model} ({method}): {} variants", scores.len());
    let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
    println!("mean score {mean:.4} (log alt/ref; negative: alternate less likely)");
    if let Some(positive) = labels.iter().copied().collect::<Option<Vec<bool>>>() {
        let damaging: Vec<f64> = scores.iter().map(|s| -s).collect();
        let positives = positive.iter().filter(|&&p| p).count();
        println!(
            "AUROC of -score for label 1: {:.4} ({positives} labelled 1, {} labelled 0)",
            binary_auroc(&damaging, &positive),
            positive.len() - positives
        );
    }
}
