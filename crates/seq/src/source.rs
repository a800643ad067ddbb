//! Opening any supported sequence file by its name: FASTA/FASTQ or a CSV/TSV table.

use std::io::Read;
use std::path::Path;

use crate::alphabet::NormalizationReport;
use crate::error::{Result, SeqError};
use crate::fastx::FastxRecords;
use crate::record::SeqRecord;
use crate::table::{delimiter_for, TableColumns, TableRecords};

/// How to read a sequence file.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Columns to use when the file is a table.
    pub columns: TableColumns,
    /// Take each FASTA/FASTQ record's label from `label=VALUE` in its header.
    pub header_labels: bool,
}

/// Whether a path names a table (`.csv`, `.tsv`, optionally `.gz`).
pub fn is_table(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    name.ends_with(".csv") || name.ends_with(".tsv")
}

/// Opens a file to read, refusing a folder (which opens on Unix but reads as an
/// error).
pub fn open_file(path: &Path) -> Result<std::fs::File> {
    let io = |source| SeqError::Io {
        file: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).map_err(io)?.is_dir() {
        return Err(SeqError::Folder {
            file: path.to_path_buf(),
        });
    }
    std::fs::File::open(path).map_err(io)
}

/// Records from either kind of file.
pub enum SeqReader {
    /// A FASTA or FASTQ file.
    Fastx(FastxRecords),
    /// A CSV or TSV table.
    Table(TableRecords),
}

impl SeqReader {
    /// Opens `path`; tables are recognised by extension, everything else is read as
    /// FASTA/FASTQ (format and compression recognised from the content).
    pub fn open(path: &Path, options: &SourceOptions) -> Result<Self> {
        Self::from_reader(path, open_file(path)?, options)
    }

    /// Like [`SeqReader::open`] over an already opened stream (for example one that
    /// reports progress); `path` decides the format and names the file in errors.
    pub fn from_reader(
        path: &Path,
        raw: impl Read + Send + 'static,
        options: &SourceOptions,
    ) -> Result<Self> {
        if is_table(path) {
            TableRecords::from_reader(path, raw, delimiter_for(path), &options.columns)
                .map(SeqReader::Table)
        } else {
            FastxRecords::from_reader(path, raw, options.header_labels).map(SeqReader::Fastx)
        }
    }

    /// What normalisation changed so far.
    pub fn report(&self) -> NormalizationReport {
        match self {
            SeqReader::Fastx(reader) => reader.report(),
            SeqReader::Table(reader) => reader.report(),
        }
    }
}

impl Iterator for SeqReader {
    type Item = Result<SeqRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            SeqReader::Fastx(reader) => reader.next(),
            SeqReader::Table(reader) => reader.next(),
        }
    }
}

/// Reads every record of a file into memory.
pub fn read_all(path: &Path, options: &SourceOptions) -> Result<Vec<SeqRecord>> {
    SeqReader::open(path, options)?.collect()
}
