//! The records of a VCF as reference/alternate windows of a reference genome, centred
//! on each variant: every ALT allele of a record is one variant (multi-allelic records
//! are split), SNVs, MNVs and indels alike. A record whose contig the genome lacks
//! (`chr20` and `20` are matched), whose position is past the contig's end, whose REF
//! disagrees with the genome, or whose ALT is symbolic (`<DEL>`, `*`, breakends) is
//! kept with the reason it was not scored, or is an error under `strict`.
//!
//! [`annotate`] writes the VCF back with one INFO value per ALT allele.

use std::io::{BufRead, Write};
use std::path::Path;

use noodles::vcf;

use crate::error::{GenomeError, Result};
use crate::reference::ReferenceGenome;

/// How to cut windows.
#[derive(Debug, Clone)]
pub struct WindowOptions {
    /// Nucleotides of the genome kept on each side of the REF allele.
    pub flank: usize,
    /// INFO key holding a 0/1 label (1 = damaging), if any.
    pub label_info: Option<String>,
    /// Make every record that cannot be scored an error.
    pub strict: bool,
}

/// Why an allele was not scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skipped {
    /// The genome has no such contig (nor with `chr` added or removed).
    MissingContig,
    /// The REF allele reaches past the contig's end.
    PastEnd,
    /// The VCF's REF is not the genome's bases there.
    RefMismatch {
        /// What the genome has.
        genome: String,
    },
    /// A symbolic or breakend ALT, or a REF/ALT of other than A, C, G, T, N.
    NotSequence,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::MissingContig => f.write_str("contig not in the reference"),
            Skipped::PastEnd => f.write_str("position past the contig's end"),
            Skipped::RefMismatch { genome } => {
                write!(f, "REF differs from the reference ({genome})")
            }
            Skipped::NotSequence => f.write_str("symbolic or non-nucleotide allele"),
        }
    }
}

/// The reference and alternate windows of an allele, or why it has none.
pub type Windows = std::result::Result<(Vec<u8>, Vec<u8>), Skipped>;

/// One ALT allele of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct AlleleWindows {
    /// 1-based number of the record among the data lines.
    pub record: usize,
    /// Which ALT of the record (0-based).
    pub allele: usize,
    /// Contig as the VCF writes it.
    pub chrom: String,
    /// 1-based position.
    pub pos: usize,
    /// The record's ID column.
    pub id: String,
    /// REF.
    pub reference_allele: String,
    /// This ALT.
    pub alternate_allele: String,
    /// The label from `label_info`, if asked for and present.
    pub label: Option<bool>,
    /// The two windows, or why there are none.
    pub windows: Windows,
}

/// Reads every record of `vcf` into [`AlleleWindows`].
pub fn read_variants(
    vcf_path: &Path,
    genome: &mut ReferenceGenome,
    options: &WindowOptions,
) -> Result<Vec<AlleleWindows>> {
    let io = |source| GenomeError::Io {
        path: vcf_path.to_path_buf(),
        source,
    };
    let mut reader = vcf::io::reader::Builder::default()
        .build_from_path(vcf_path)
        .map_err(io)?;
    reader.read_header().map_err(|err| GenomeError::Format {
        path: vcf_path.to_path_buf(),
        message: format!(
            "not a VCF: its header (`##fileformat=VCFv4.x` lines, then `#CHROM ...`) \
             cannot be read: {err}"
        ),
    })?;
    let mut alleles = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|err| GenomeError::Format {
            path: vcf_path.to_path_buf(),
            message: format!("record {}: {err}", index + 1),
        })?;
        alleles.extend(record_alleles(
            vcf_path,
            index + 1,
            &record,
            genome,
            options,
        )?);
    }
    Ok(alleles)
}

fn is_sequence(allele: &str) -> bool {
    !allele.is_empty() && allele.bytes().all(|b| b"ACGTNacgtn".contains(&b))
}

fn record_alleles(
    vcf_path: &Path,
    number: usize,
    record: &vcf::Record,
    genome: &mut ReferenceGenome,
    options: &WindowOptions,
) -> Result<Vec<AlleleWindows>> {
    let chrom = record.reference_sequence_name().to_string();
    let format_error = |message: String| GenomeError::Format {
        path: vcf_path.to_path_buf(),
        message: format!("record {number} ({chrom}): {message}"),
    };
    let pos = match record.variant_start() {
        Some(Ok(position)) => usize::from(position),
        Some(Err(err)) => return Err(format_error(format!("bad POS: {err}"))),
        None => return Err(format_error("no POS".into())),
    };
    let reference_allele = record.reference_bases().to_string();
    let id = record.ids().as_ref().to_string();
    let label = match &options.label_info {
        None => None,
        Some(key) => label_of(record.info().as_ref(), key).map_err(format_error)?,
    };
    let windows_of = |genome: &mut ReferenceGenome, alternate: &str| -> Result<Windows> {
        if !is_sequence(&reference_allele) || !is_sequence(alternate) {
            return Ok(Err(Skipped::NotSequence));
        }
        let Some(contig) = genome.resolve(&chrom).map(str::to_string) else {
            return Ok(Err(Skipped::MissingContig));
        };
        let length = genome.length(&contig).unwrap_or(0);
        let (start, end) = (pos - 1, pos - 1 + reference_allele.len());
        if pos == 0 || end > length {
            return Ok(Err(Skipped::PastEnd));
        }
        let first = start.saturating_sub(options.flank);
        let last = (end + options.flank).min(length);
        let context = genome.fetch(&contig, first, last)?;
        let here = &context[start - first..end - first];
        if !here.eq_ignore_ascii_case(reference_allele.as_bytes()) {
            return Ok(Err(Skipped::RefMismatch {
                genome: String::from_utf8_lossy(here).into_owned(),
            }));
        }
        let mut alternate_window = context[..start - first].to_vec();
        alternate_window.extend(alternate.bytes().map(|b| b.to_ascii_uppercase()));
        alternate_window.extend_from_slice(&context[end - first..]);
        Ok(Ok((context, alternate_window)))
    };
    let mut out = Vec::new();
    let alternates = record.alternate_bases();
    for (allele, alternate) in alternates.as_ref().split(',').enumerate() {
        let windows = windows_of(genome, alternate)?;
        if let (true, Err(problem)) = (options.strict, &windows) {
            return Err(GenomeError::Record {
                path: vcf_path.to_path_buf(),
                record: number,
                chrom,
                pos,
                problem: problem.to_string(),
            });
        }
        out.push(AlleleWindows {
            record: number,
            allele,
            chrom: chrom.clone(),
            pos,
            id: id.clone(),
            reference_allele: reference_allele.clone(),
            alternate_allele: alternate.to_string(),
            label,
            windows,
        });
    }
    Ok(out)
}

/// The 0/1 label under `key` in a raw INFO column (`None` when absent).
fn label_of(info: &str, key: &str) -> std::result::Result<Option<bool>, String> {
    let Some(field) = info.split(';').find(|f| f.split('=').next() == Some(key)) else {
        return Ok(None);
    };
    match field.split_once('=').map(|(_, v)| v) {
        Some("1") | Some("true") => Ok(Some(true)),
        Some("0") | Some("false") => Ok(Some(false)),
        other => Err(format!(
            "INFO {key}={} is not a 0/1 label",
            other.unwrap_or("")
        )),
    }
}

/// Writes `vcf_path` to `out` with `key` added to every record's INFO: one value per
/// ALT allele (`values[record - 1][allele]`, `.` where none), and its `##INFO` header
/// line before `#CHROM`. The records are copied as written otherwise.
pub fn annotate(
    vcf_path: &Path,
    out: &mut dyn Write,
    key: &str,
    description: &str,
    values: &[Vec<Option<f64>>],
) -> Result<()> {
    let io = |source| GenomeError::Io {
        path: vcf_path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(vcf_path).map_err(io)?;
    let reader: Box<dyn BufRead> = if vcf_path
        .extension()
        .is_some_and(|e| e == "gz" || e == "bgz")
    {
        Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
            file,
        )))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let mut record = 0;
    for line in reader.lines() {
        let line = line.map_err(io)?;
        if line.starts_with("#CHROM") {
            writeln!(
                out,
                "##INFO=<ID={key},Number=A,Type=Float,Description=\"{description}\">"
            )
            .map_err(io)?;
        }
        if line.starts_with('#') || line.is_empty() {
            writeln!(out, "{line}").map_err(io)?;
            continue;
        }
        record += 1;
        let mut columns: Vec<&str> = line.split('\t').collect();
        let scores = values.get(record - 1).map(Vec::as_slice).unwrap_or(&[]);
        let rendered: Vec<String> = scores
            .iter()
            .map(|v| v.map_or(".".to_string(), |v| format!("{v:.6}")))
            .collect();
        let entry = format!("{key}={}", rendered.join(","));
        let info = match columns.get(7) {
            Some(&".") | None => entry,
            Some(info) => format!("{info};{entry}"),
        };
        if columns.len() > 7 {
            columns[7] = &info;
        }
        writeln!(out, "{}", columns.join("\t")).map_err(io)?;
    }
    Ok(())
}
