//! Genome-scale inputs: a reference genome read by region through its index
//! ([`reference`], noodles' indexed FASTA: `.fai`, and `.gzi` for bgzip), and the
//! records of a VCF turned into reference/alternate windows centred on each variant
//! ([`vcf_variants`]), with every record that cannot be scored counted and named.

pub mod bed;
pub mod error;
pub mod reference;
pub mod scan;
pub mod scan_source;
pub mod scan_windows;
pub mod tiling;
pub mod track_output;
pub mod vcf_variants;

pub use error::{GenomeError, Result};
