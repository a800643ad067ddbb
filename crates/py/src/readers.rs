//! Files read as the command line reads them: sequence files (FASTA/FASTQ, CSV/TSV
//! tables, plain or gzip) and VCF records on a reference genome, cut into the windows
//! `dnalm eval variants --reference` scores.

use std::path::PathBuf;

use dnalm_genome::reference::ReferenceGenome;
use dnalm_genome::vcf_variants::{read_variants, WindowOptions};
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::table::TableColumns;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::dnalm_error;

/// Every record of a sequence file as `(id, sequence, label)` (label None when the
/// file has none); table columns chosen by name as on the command line.
#[pyfunction]
#[pyo3(signature = (path, sequence_column = None, label_column = None, id_column = None))]
pub fn read_sequences(
    py: Python<'_>,
    path: PathBuf,
    sequence_column: Option<String>,
    label_column: Option<String>,
    id_column: Option<String>,
) -> PyResult<Vec<(String, String, Option<String>)>> {
    let options = SourceOptions {
        columns: TableColumns {
            sequence: sequence_column,
            label: label_column,
            id: id_column,
        },
        header_labels: false,
    };
    let records = py
        .detach(|| read_all(&path, &options))
        .map_err(dnalm_error)?;
    Ok(records
        .into_iter()
        .map(|r| (r.id, String::from_utf8_lossy(&r.seq).into_owned(), r.label))
        .collect())
}

/// The ALT alleles of a VCF on a reference genome as columns (a dict of equal-length
/// lists): `chrom`, `pos`, `id`, `ref`, `alt`, `label` (from the INFO key
/// `label_info`, else None), `status` (`scored`, or why the allele cannot be), and the
/// `ref_window` / `alt_window` of `window` nucleotides around it (empty when not
/// scorable), ready for `Model.variant_scores`.
#[pyfunction]
#[pyo3(signature = (vcf, reference, window = 512, label_info = None))]
pub fn vcf_variants<'py>(
    py: Python<'py>,
    vcf: PathBuf,
    reference: PathBuf,
    window: usize,
    label_info: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let options = WindowOptions {
        flank: window / 2,
        label_info,
        strict: false,
    };
    let alleles = py
        .detach(|| -> dnalm_genome::Result<_> {
            let mut genome = ReferenceGenome::open(&reference)?;
            read_variants(&vcf, &mut genome, &options)
        })
        .map_err(dnalm_error)?;
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let columns = PyDict::new(py);
    columns.set_item(
        "chrom",
        alleles.iter().map(|a| a.chrom.clone()).collect::<Vec<_>>(),
    )?;
    columns.set_item("pos", alleles.iter().map(|a| a.pos).collect::<Vec<_>>())?;
    columns.set_item(
        "id",
        alleles.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
    )?;
    columns.set_item(
        "ref",
        alleles
            .iter()
            .map(|a| a.reference_allele.clone())
            .collect::<Vec<_>>(),
    )?;
    columns.set_item(
        "alt",
        alleles
            .iter()
            .map(|a| a.alternate_allele.clone())
            .collect::<Vec<_>>(),
    )?;
    columns.set_item(
        "label",
        alleles
            .iter()
            .map(|a| a.label.map(u8::from))
            .collect::<Vec<_>>(),
    )?;
    columns.set_item(
        "status",
        alleles
            .iter()
            .map(|a| match &a.windows {
                Ok(_) => "scored".to_string(),
                Err(reason) => reason.to_string(),
            })
            .collect::<Vec<_>>(),
    )?;
    for (name, pick) in [("ref_window", 0), ("alt_window", 1)] {
        let windows: Vec<String> = alleles
            .iter()
            .map(|a| match &a.windows {
                Ok((r, alt)) => text(if pick == 0 { r } else { alt }),
                Err(_) => String::new(),
            })
            .collect();
        columns.set_item(name, windows)?;
    }
    Ok(columns)
}
