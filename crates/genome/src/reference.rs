//! A reference genome read by region: noodles' indexed FASTA reader over a plain or
//! bgzipped FASTA. A plain FASTA without its `.fai` is indexed here (and the index
//! written beside it when the folder allows, said on standard error); a bgzipped one
//! needs its `.fai` and `.gzi` (`samtools faidx` writes both).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use noodles::core::{Position, Region};
use noodles::fasta;

use crate::error::{GenomeError, Result};

/// A reference genome.
pub struct ReferenceGenome {
    path: PathBuf,
    reader: fasta::io::IndexedReader<fasta::io::BufReader<std::fs::File>>,
    lengths: HashMap<String, usize>,
}

impl ReferenceGenome {
    /// Opens `path` with its index, building a missing `.fai` for a plain FASTA.
    pub fn open(path: &Path) -> Result<Self> {
        let io = |source| GenomeError::Io {
            path: path.to_path_buf(),
            source,
        };
        let fai = PathBuf::from(format!("{}.fai", path.display()));
        let compressed = path.extension().is_some_and(|e| e == "gz" || e == "bgz");
        let index = if fai.is_file() {
            fasta::fai::fs::read(&fai).map_err(|source| GenomeError::Io {
                path: fai.clone(),
                source,
            })?
        } else if compressed {
            return Err(GenomeError::Format {
                path: path.to_path_buf(),
                message: format!(
                    "a bgzipped reference needs its index ({} and .gzi): `samtools faidx` \
                     writes both, or give the uncompressed FASTA",
                    fai.display()
                ),
            });
        } else {
            let index = fasta::fs::index(path).map_err(io)?;
            match fasta::fai::fs::write(&fai, &index) {
                Ok(()) => eprintln!("indexed {} (wrote {})", path.display(), fai.display()),
                Err(_) => eprintln!(
                    "indexed {} (kept in memory: {} is not writable)",
                    path.display(),
                    fai.display()
                ),
            }
            index
        };
        let lengths = index
            .as_ref()
            .iter()
            .map(|record| (record.name().to_string(), record.length() as usize))
            .collect();
        let reader = fasta::io::indexed_reader::Builder::default()
            .set_index(index)
            .build_from_path(path)
            .map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            lengths,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The length of a contig, if the genome has it.
    pub fn length(&self, contig: &str) -> Option<usize> {
        self.lengths.get(contig).copied()
    }

    /// The genome's name for `contig` of another source: the same name, else the name
    /// with a `chr` prefix added or removed (`chr20` and `20`).
    pub fn resolve<'a>(&'a self, contig: &str) -> Option<&'a str> {
        if let Some((name, _)) = self.lengths.get_key_value(contig) {
            return Some(name.as_str());
        }
        let other = match contig.strip_prefix("chr") {
            Some(bare) => bare.to_string(),
            None => format!("chr{contig}"),
        };
        self.lengths
            .get_key_value(&other)
            .map(|(name, _)| name.as_str())
    }

    /// Nucleotides `start..end` (0-based, half-open) of `contig`, normalised (upper
    /// case; IUPAC ambiguity codes and anything unknown become `N`).
    pub fn fetch(&mut self, contig: &str, start: usize, end: usize) -> Result<Vec<u8>> {
        let bad = |message: String| GenomeError::Format {
            path: self.path.clone(),
            message,
        };
        let length = self
            .length(contig)
            .ok_or_else(|| bad(format!("no contig {contig}")))?;
        if start >= end || end > length {
            return Err(bad(format!(
                "{contig}:{start}-{end} is outside its {length} nt"
            )));
        }
        let (first, last) = (
            Position::try_from(start + 1).map_err(|err| bad(err.to_string()))?,
            Position::try_from(end).map_err(|err| bad(err.to_string()))?,
        );
        let region = Region::new(contig, first..=last);
        let record = self
            .reader
            .query(&region)
            .map_err(|source| GenomeError::Io {
                path: self.path.clone(),
                source,
            })?;
        Ok(record
            .sequence()
            .as_ref()
            .iter()
            .map(|&b| match b.to_ascii_uppercase() {
                n @ (b'A' | b'C' | b'G' | b'T') => n,
                _ => b'N',
            })
            .collect())
    }
}
