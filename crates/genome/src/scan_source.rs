//! Sequences to scan, read piece by piece so that none is ever held whole: every
//! record of a FASTA file (plain, gzip or bgzip, streamed through noodles' reader), or
//! the regions of a BED file read through a reference genome's index. Both know what
//! they hold before the scan starts (names and lengths; a streamed FASTA is read once
//! beforehand for that, which also finds a bad byte before any scoring), so progress
//! can be shown in nucleotides and a resumed scan can check it reads the same input.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use dnalm_seq::alphabet::{normalize_into, NormalizationReport};
use noodles::fasta;

use crate::bed::BedRegion;
use crate::error::{GenomeError, Result};
use crate::reference::ReferenceGenome;

/// Nucleotides one read of an indexed region fetches at most.
const REGION_PIECE: u64 = 1 << 20;

/// One sequence of a scan: a whole record or a region of one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanSequence {
    /// Its contig, as output files name it.
    pub contig: String,
    /// Where it starts on the contig (0-based).
    pub start: u64,
    /// Its length.
    pub length: u64,
    /// How reports name it: the record's name, or the region's name or coordinates.
    pub label: String,
}

/// Where the nucleotides of a scan come from.
pub trait ScanSource {
    /// Every sequence, in the order they are read.
    fn sequences(&self) -> &[ScanSequence];

    /// Moves to sequence `index` (each in turn, from 0).
    fn begin(&mut self, index: usize) -> Result<()>;

    /// Appends up to `max` more nucleotides of the current sequence to `out`
    /// (normalised: upper-case `ACGTN`); 0 once it is all read.
    fn read(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize>;

    /// What normalisation changed so far (IUPAC codes to `N`, soft-masking).
    fn report(&self) -> NormalizationReport;
}

/// Every record of a FASTA file, streamed.
pub struct FastaStream {
    path: PathBuf,
    sequences: Vec<ScanSequence>,
    reader: RecordReader,
}

impl FastaStream {
    /// Opens `path`, reading it through once for its records' names and lengths.
    pub fn open(path: &Path) -> Result<Self> {
        let mut survey = RecordReader::open(path)?;
        let mut sequences = Vec::new();
        let mut scratch = Vec::with_capacity(1 << 16);
        while let Some(name) = survey.next_record()? {
            let mut length = 0u64;
            loop {
                scratch.clear();
                match survey.read_bases(&mut scratch, 1 << 16)? {
                    0 => break,
                    n => length += n as u64,
                }
            }
            sequences.push(ScanSequence {
                contig: name.clone(),
                start: 0,
                length,
                label: name,
            });
        }
        if sequences.is_empty() {
            return Err(GenomeError::Format {
                path: path.to_path_buf(),
                message: "no FASTA records".into(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            sequences,
            reader: RecordReader::open(path)?,
        })
    }
}

impl ScanSource for FastaStream {
    fn sequences(&self) -> &[ScanSequence] {
        &self.sequences
    }

    fn begin(&mut self, index: usize) -> Result<()> {
        let name = self.reader.next_record()?;
        if name.as_deref() != Some(self.sequences[index].contig.as_str()) {
            return Err(GenomeError::Format {
                path: self.path.clone(),
                message: format!(
                    "changed while it was read: record {} is {:?} now, {:?} before",
                    index + 1,
                    name,
                    self.sequences[index].contig
                ),
            });
        }
        Ok(())
    }

    fn read(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize> {
        self.reader.read_bases(out, max)
    }

    fn report(&self) -> NormalizationReport {
        self.reader.report
    }
}

/// noodles' FASTA reader over a plain or gzip stream, normalising as it reads.
struct RecordReader {
    path: PathBuf,
    reader: fasta::io::Reader<Box<dyn BufRead + Send>>,
    record: String,
    position: u64,
    report: NormalizationReport,
}

impl RecordReader {
    fn open(path: &Path) -> Result<Self> {
        let io = |source| GenomeError::Io {
            path: path.to_path_buf(),
            source,
        };
        if std::fs::metadata(path).map_err(io)?.is_dir() {
            return Err(GenomeError::Format {
                path: path.to_path_buf(),
                message: "is a folder, not a FASTA file".into(),
            });
        }
        let file = std::fs::File::open(path).map_err(io)?;
        let stream = dnalm_seq::compression::maybe_gunzip(file).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            reader: fasta::io::Reader::new(stream),
            record: String::new(),
            position: 0,
            report: NormalizationReport::default(),
        })
    }

    /// Reads the next header; `None` at the end of the file.
    fn next_record(&mut self) -> Result<Option<String>> {
        // Whatever is left of the current record is skipped.
        let mut rest = Vec::new();
        while self.read_bases(&mut rest, 1 << 16)? > 0 {
            if self.record.is_empty() {
                return Err(GenomeError::Format {
                    path: self.path.clone(),
                    message: "sequence before the first header line ('>name')".into(),
                });
            }
            rest.clear();
        }
        let mut definition = fasta::record::Definition::default();
        let read = self
            .reader
            .read_definition(&mut definition)
            .map_err(|err| GenomeError::Format {
                path: self.path.clone(),
                message: format!("not FASTA after record {:?}: {err}", self.record),
            })?;
        if read == 0 {
            return Ok(None);
        }
        self.record = definition.name().to_string();
        self.position = 0;
        Ok(Some(self.record.clone()))
    }

    /// Appends up to `max` normalised nucleotides of the current record to `out`.
    fn read_bases(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize> {
        let start = out.len();
        let mut sequence = self.reader.sequence_reader();
        while out.len() - start < max {
            let line = sequence.fill_buf().map_err(|source| GenomeError::Io {
                path: self.path.clone(),
                source,
            })?;
            if line.is_empty() {
                break;
            }
            let take = line.len().min(max - (out.len() - start));
            let before = out.len();
            normalize_into(&line[..take], out, &mut self.report).map_err(|bad| {
                GenomeError::Format {
                    path: self.path.clone(),
                    message: format!(
                        "record {:?}: {}",
                        self.record,
                        dnalm_seq::alphabet::InvalidByte {
                            position: self.position as usize + (before - start) + bad.position,
                            byte: bad.byte,
                        }
                    ),
                }
            })?;
            sequence.consume(take);
        }
        let read = out.len() - start;
        self.position += read as u64;
        Ok(read)
    }
}

/// The regions of a BED file, read through a reference genome's index.
pub struct RegionSource {
    genome: ReferenceGenome,
    sequences: Vec<ScanSequence>,
    current: usize,
    cursor: u64,
}

impl RegionSource {
    /// Checks every region against the genome (its contig, `chr20` and `20` matched;
    /// its end within the contig) before anything is read.
    pub fn new(genome: ReferenceGenome, regions: &[BedRegion], bed: &Path) -> Result<Self> {
        let mut sequences = Vec::with_capacity(regions.len());
        for region in regions {
            let bad = |message: String| GenomeError::Line {
                path: bed.to_path_buf(),
                line: region.line,
                message,
            };
            let contig = genome.resolve(&region.contig).ok_or_else(|| {
                bad(format!(
                    "contig {} is not in {}",
                    region.contig,
                    genome.path().display()
                ))
            })?;
            let length = genome.length(contig).unwrap_or(0) as u64;
            if region.end > length {
                return Err(bad(format!(
                    "ends at {} but {contig} has {length} nt",
                    region.end
                )));
            }
            sequences.push(ScanSequence {
                contig: contig.to_string(),
                start: region.start,
                length: region.len(),
                label: region.label(),
            });
        }
        Ok(Self {
            genome,
            sequences,
            current: 0,
            cursor: 0,
        })
    }
}

impl ScanSource for RegionSource {
    fn sequences(&self) -> &[ScanSequence] {
        &self.sequences
    }

    fn begin(&mut self, index: usize) -> Result<()> {
        self.current = index;
        self.cursor = 0;
        Ok(())
    }

    fn read(&mut self, out: &mut Vec<u8>, max: usize) -> Result<usize> {
        let sequence = &self.sequences[self.current];
        let take = (sequence.length - self.cursor)
            .min(max as u64)
            .min(REGION_PIECE);
        if take == 0 {
            return Ok(0);
        }
        let start = (sequence.start + self.cursor) as usize;
        let piece = self
            .genome
            .fetch(&sequence.contig, start, start + take as usize)?;
        out.extend_from_slice(&piece);
        self.cursor += take;
        Ok(take as usize)
    }

    fn report(&self) -> NormalizationReport {
        NormalizationReport::default()
    }
}
