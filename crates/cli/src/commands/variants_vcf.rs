//! `dnalm eval variants --reference FASTA VCF`: every ALT allele of a VCF scored in a
//! window of the reference genome around it; the records that cannot be scored are
//! counted by reason and the first of them named. Output (with `-o`): the VCF with one
//! INFO value per ALT (`DNALM_LLR` or `DNALM_MM`, `.` where unscored), or a TSV of
//! `chrom pos id ref alt score label status`; written whole or not at all.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use dnalm_genome::reference::ReferenceGenome;
use dnalm_genome::vcf_variants::{annotate, read_variants, WindowOptions};
use dnalm_models::variant_scoring::VariantScoring;

use crate::commands::variants::{report, score_pairs, VcfOutput};

/// Records listed by name among the unscored ones.
const SHOWN_SKIPS: usize = 5;

/// Scores the VCF `vcf` on `reference`.
pub fn score_vcf(
    model: &str,
    scorer: &VariantScoring,
    vcf: &Path,
    reference: &Path,
    options: &WindowOptions,
    out: Option<(&Path, VcfOutput)>,
) -> Result<()> {
    let mut genome = ReferenceGenome::open(reference)?;
    let alleles = read_variants(vcf, &mut genome, options)?;
    let scored: Vec<usize> = (0..alleles.len())
        .filter(|&i| alleles[i].windows.is_ok())
        .collect();
    let pairs: Vec<(&[u8], &[u8])> = scored
        .iter()
        .filter_map(|&i| alleles[i].windows.as_ref().ok())
        .map(|(r, a)| (&r[..], &a[..]))
        .collect();
    let scores = score_pairs(scorer, &pairs, &|k| {
        let allele = &alleles[scored[k]];
        format!(
            "{}: record {} ({}:{})",
            vcf.display(),
            allele.record,
            allele.chrom,
            allele.pos
        )
    })?;
    let mut by_allele: Vec<Option<f64>> = vec![None; alleles.len()];
    for (&i, &score) in scored.iter().zip(&scores) {
        by_allele[i] = Some(score);
    }
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    for allele in &alleles {
        if let Err(reason) = &allele.windows {
            let count = skipped.entry(reason.to_string()).or_default();
            if *count < SHOWN_SKIPS {
                eprintln!(
                    "not scored: {}: record {} ({}:{} {}>{}): {reason}",
                    vcf.display(),
                    allele.record,
                    allele.chrom,
                    allele.pos,
                    allele.reference_allele,
                    allele.alternate_allele
                );
            }
            *count += 1;
        }
    }
    let labels: Vec<Option<bool>> = scored.iter().map(|&i| alleles[i].label).collect();
    report(model, scorer.method(), &scores, &labels);
    println!(
        "{} ALT alleles in {} records; {} scored{}",
        alleles.len(),
        alleles.last().map_or(0, |a| a.record),
        scores.len(),
        skipped
            .iter()
            .map(|(reason, n)| format!(", {n} not scored ({reason})"))
            .collect::<String>()
    );
    let Some((out, format)) = out else {
        return Ok(());
    };
    let key = match scorer {
        VariantScoring::LikelihoodRatio(_) => "DNALM_LLR",
        VariantScoring::MaskedMarginal(_) => "DNALM_MM",
    };
    dnalm_seq::atomic::write_atomic(out, |file| {
        if format == VcfOutput::Vcf {
            let records = alleles.last().map_or(0, |a| a.record);
            let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); records];
            for (allele, score) in alleles.iter().zip(&by_allele) {
                values[allele.record - 1].push(*score);
            }
            let description = format!("dnalm {} of the ALT allele ({model})", scorer.method());
            return annotate(vcf, file, key, &description, &values).map_err(std::io::Error::other);
        }
        writeln!(file, "chrom\tpos\tid\tref\talt\tscore\tlabel\tstatus")?;
        for (allele, score) in alleles.iter().zip(&by_allele) {
            let status = match &allele.windows {
                Ok(_) => "scored".to_string(),
                Err(reason) => reason.to_string(),
            };
            writeln!(
                file,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{status}",
                allele.chrom,
                allele.pos,
                allele.id,
                allele.reference_allele,
                allele.alternate_allele,
                score.map_or(".".to_string(), |s| format!("{s:.6}")),
                allele.label.map_or(".", |l| if l { "1" } else { "0" }),
            )?;
        }
        Ok(())
    })
    .with_context(|| format!("cannot write {}", out.display()))
}
