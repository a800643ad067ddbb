//! Streaming FASTA/FASTQ reading, plain or gzip, on top of needletail.
//!
//! needletail was chosen over noodles because it parses both formats behind one
//! interface, detects compression from magic bytes, and hands out records as slices of
//! its own buffer: we normalise straight from that slice into our record, one copy in
//! all, which keeps us within a few percent of a bare needletail loop. A record is held
//! whole in memory while it is read (a 63 Mb chromosome takes 63 MB); lines may be of any
//! length that fits in memory.

use std::io::Read;
use std::path::{Path, PathBuf};

use needletail::errors::ParseErrorKind;

use crate::alphabet::{normalize_into, NormalizationReport};
use crate::error::{Result, SeqError};
use crate::record::SeqRecord;

/// Reads normalised records from a FASTA or FASTQ stream, one at a time.
pub struct FastxRecords {
    file: PathBuf,
    reader: Box<dyn needletail::FastxReader>,
    records_read: usize,
    report: NormalizationReport,
    header_labels: bool,
    finished: bool,
}

impl FastxRecords {
    /// Opens a FASTA/FASTQ file (plain or gzip). With `header_labels`, each header
    /// must carry its label as `label=VALUE`.
    pub fn open(path: &Path, header_labels: bool) -> Result<Self> {
        let file = crate::source::open_file(path)?;
        Self::from_reader(path, file, header_labels)
    }

    /// Reads from an already opened stream; `path` names it in errors.
    pub fn from_reader(
        path: &Path,
        raw: impl Read + Send + 'static,
        header_labels: bool,
    ) -> Result<Self> {
        let file = path.to_path_buf();
        let reader = needletail::parse_fastx_reader(raw).map_err(|err| match err.kind {
            ParseErrorKind::EmptyFile => SeqError::Empty { file: file.clone() },
            ParseErrorKind::UnknownFormat => SeqError::Parse {
                file: file.clone(),
                record: 1,
                line: 1,
                message: format!(
                    "{} Is this a FASTA (header line starting with '>') or FASTQ file?",
                    err.msg
                ),
            },
            _ => SeqError::Parse {
                file: file.clone(),
                record: 1,
                line: err.position.line,
                message: err.msg,
            },
        })?;
        Ok(Self {
            file,
            reader,
            records_read: 0,
            report: NormalizationReport::default(),
            header_labels,
            finished: false,
        })
    }

    /// What normalisation changed so far (IUPAC codes to `N`, soft-masked bases).
    pub fn report(&self) -> NormalizationReport {
        self.report
    }

    fn read_next(&mut self) -> Option<Result<SeqRecord>> {
        let index = self.records_read + 1;
        let parsed = match self.reader.next()? {
            Ok(record) => record,
            Err(err) => {
                let message = match err.kind {
                    ParseErrorKind::Io => format!("{} (is the file truncated?)", err.msg),
                    ParseErrorKind::UnexpectedEnd => {
                        "the file ends in the middle of a record (truncated?)".to_string()
                    }
                    _ => err.msg,
                };
                return Some(Err(SeqError::Parse {
                    file: self.file.clone(),
                    record: index,
                    line: err.position.line,
                    message,
                }));
            }
        };
        self.records_read = index;
        let header = String::from_utf8_lossy(parsed.id());
        let id = header.split_whitespace().next().unwrap_or("").to_string();
        let label = if self.header_labels {
            match label_in_header(&header) {
                Some(label) => Some(label.to_string()),
                None => {
                    return Some(Err(SeqError::MissingHeaderLabel {
                        file: self.file.clone(),
                        record: index,
                        id,
                    }))
                }
            }
        } else {
            None
        };
        let mut seq = Vec::with_capacity(parsed.num_bases());
        if let Err(bad) = normalize_into(parsed.raw_seq(), &mut seq, &mut self.report) {
            return Some(Err(SeqError::InvalidBase {
                file: self.file.clone(),
                record: index,
                id,
                position: bad.position + 1,
                found: bad.byte as char,
            }));
        }
        if seq.is_empty() {
            return Some(Err(SeqError::EmptyRecord {
                file: self.file.clone(),
                record: index,
                id,
            }));
        }
        self.report.count_record(&seq);
        Some(Ok(SeqRecord { id, seq, label }))
    }
}

impl Iterator for FastxRecords {
    type Item = Result<SeqRecord>;

    /// The next record; after the first error the iterator ends.
    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let next = self.read_next();
        self.finished = !matches!(next, Some(Ok(_)));
        next
    }
}

/// Finds `label=VALUE` among the whitespace- or `|`-separated fields of a header.
fn label_in_header(header: &str) -> Option<&str> {
    header
        .split(|c: char| c.is_whitespace() || c == '|')
        .find_map(|field| field.strip_prefix("label="))
        .filter(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &'static [u8], header_labels: bool) -> Result<Vec<SeqRecord>> {
        FastxRecords::from_reader(Path::new("mem.fa"), text, header_labels)?.collect()
    }

    #[test]
    fn multi_line_fasta_with_windows_line_endings() {
        let records = read_all(b">one first\r\nACGT\r\nac\r\n>two\r\nNNRA\r\n", false).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].id, "one");
        assert_eq!(records[0].seq, b"ACGTAC");
        assert_eq!(records[1].seq, b"NNNA");
    }

    #[test]
    fn fastq_records() {
        let records = read_all(b"@r1\nACGT\n+\nIIII\n@r2\nGG\n+\nII\n", false).unwrap();
        assert_eq!(records[1].id, "r2");
        assert_eq!(records[1].seq, b"GG");
    }

    #[test]
    fn labels_from_headers() {
        let records = read_all(b">s1 label=1\nAC\n>s2|label=enh\nGT\n", true).unwrap();
        assert_eq!(records[0].label.as_deref(), Some("1"));
        assert_eq!(records[1].label.as_deref(), Some("enh"));
        let err = read_all(b">s1 label=1\nAC\n>s2\nGT\n", true).unwrap_err();
        assert!(
            matches!(err, SeqError::MissingHeaderLabel { record: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn invalid_character_names_record_and_position() {
        let err = read_all(b">ok\nAC\n>bad\nACG\nT*\n", false).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                SeqError::InvalidBase {
                    record: 2,
                    position: 5,
                    found: '*',
                    ..
                }
            ),
            "{text}"
        );
        assert!(text.contains("mem.fa") && text.contains("'bad'"), "{text}");
    }

    #[test]
    fn empty_input_and_missing_header_are_clear_errors() {
        assert!(matches!(read_all(b"", false), Err(SeqError::Empty { .. })));
        let err = read_all(b"ACGTACGT\n", false).unwrap_err();
        assert!(err.to_string().contains("FASTA"), "{err}");
    }
}
