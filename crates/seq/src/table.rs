//! Labelled tables: CSV or TSV with a header row, plain or gzip.
//!
//! The sequence, label and id columns are chosen by name. When not named, the first
//! present of `sequence`, `seq`, `NucleotideSequence` is the sequence; `label` is the
//! label if present; `id`, `name`, `NCBIGeneID` the id if present (else `row<N>`).
//! A sequence wrapped as `<ACGT...>` (the human-genes dataset) is unwrapped.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::alphabet::{normalize_into, NormalizationReport};
use crate::compression::maybe_gunzip;
use crate::error::{Result, SeqError};
use crate::record::SeqRecord;

const SEQUENCE_COLUMNS: [&str; 3] = ["sequence", "seq", "NucleotideSequence"];
const LABEL_COLUMNS: [&str; 1] = ["label"];
const ID_COLUMNS: [&str; 3] = ["id", "name", "NCBIGeneID"];

/// Which columns of a table to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableColumns {
    /// Sequence column; `None` picks a conventional name.
    pub sequence: Option<String>,
    /// Label column; `None` uses `label` when present.
    pub label: Option<String>,
    /// Identifier column; `None` uses a conventional name when present.
    pub id: Option<String>,
}

/// Reads normalised, labelled records from a CSV/TSV table, one row at a time.
pub struct TableRecords {
    file: PathBuf,
    rows: csv::StringRecordsIntoIter<Box<dyn std::io::BufRead + Send>>,
    sequence_index: usize,
    label_index: Option<usize>,
    id_index: Option<usize>,
    rows_read: usize,
    report: NormalizationReport,
    finished: bool,
}

/// The field delimiter a table path implies: tab for `.tsv`/`.tsv.gz`, comma otherwise.
pub fn delimiter_for(path: &Path) -> u8 {
    let name = path.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".tsv") || name.ends_with(".tsv.gz") {
        b'\t'
    } else {
        b','
    }
}

impl TableRecords {
    /// Opens a table file; the delimiter follows the extension (`.tsv` is tab).
    pub fn open(path: &Path, columns: &TableColumns) -> Result<Self> {
        let file = crate::source::open_file(path)?;
        Self::from_reader(path, file, delimiter_for(path), columns)
    }

    /// Reads a table from an open stream; `path` names it in errors.
    pub fn from_reader(
        path: &Path,
        raw: impl Read + Send + 'static,
        delimiter: u8,
        columns: &TableColumns,
    ) -> Result<Self> {
        let file = path.to_path_buf();
        let table_error = |message: String| SeqError::Table {
            file: path.to_path_buf(),
            message,
        };
        let input = maybe_gunzip(raw).map_err(|source| SeqError::Io {
            file: file.clone(),
            source,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(true)
            .from_reader(input);
        let header = reader
            .headers()
            .map_err(|err| table_error(format!("cannot read the header row: {err}")))?
            .clone();
        if header.iter().all(|name| name.is_empty()) {
            return Err(SeqError::Empty { file });
        }
        let names: Vec<&str> = header.iter().collect();
        let find = |wanted: &str| names.iter().position(|name| *name == wanted);
        let pick =
            |chosen: &Option<String>, defaults: &[&str], role: &str| -> Result<Option<usize>> {
                match chosen {
                    Some(name) => find(name).map(Some).ok_or_else(|| {
                        table_error(format!(
                            "no {role} column named '{name}'; the columns are: {}",
                            names.join(", ")
                        ))
                    }),
                    None => Ok(defaults.iter().find_map(|name| find(name))),
                }
            };
        let sequence_index = pick(&columns.sequence, &SEQUENCE_COLUMNS, "sequence")?.ok_or_else(|| {
            table_error(format!(
                "no sequence column (looked for {}); name it with --sequence-column; the columns are: {}",
                SEQUENCE_COLUMNS.join(", "),
                names.join(", ")
            ))
        })?;
        let label_index = pick(&columns.label, &LABEL_COLUMNS, "label")?;
        let id_index = pick(&columns.id, &ID_COLUMNS, "id")?;
        for index in [Some(sequence_index), label_index, id_index]
            .into_iter()
            .flatten()
        {
            let name = names[index];
            let count = names.iter().filter(|other| **other == name).count();
            if count > 1 {
                return Err(table_error(format!(
                    "{count} columns are named '{name}': which one to read is ambiguous"
                )));
            }
        }
        Ok(Self {
            file,
            rows: reader.into_records(),
            sequence_index,
            label_index,
            id_index,
            rows_read: 0,
            report: NormalizationReport::default(),
            finished: false,
        })
    }

    /// What normalisation changed so far (IUPAC codes to `N`, soft-masked bases).
    pub fn report(&self) -> NormalizationReport {
        self.report
    }

    fn read_next(&mut self) -> Option<Result<SeqRecord>> {
        let row_number = self.rows_read + 1;
        let row = match self.rows.next() {
            // A header and no row: nothing to read, as an empty file.
            None if row_number == 1 => {
                return Some(Err(SeqError::Empty {
                    file: self.file.clone(),
                }))
            }
            None => return None,
            Some(Ok(row)) => row,
            Some(Err(err)) => {
                return Some(Err(SeqError::Table {
                    file: self.file.clone(),
                    message: format!("data row {row_number}: {err}"),
                }))
            }
        };
        self.rows_read = row_number;
        let field = |index: usize| row.get(index).unwrap_or("");
        let id = match self.id_index {
            Some(index) => field(index).to_string(),
            None => format!("row{row_number}"),
        };
        let label = self
            .label_index
            .map(|index| field(index).trim().to_string());
        if label.as_deref() == Some("") {
            return Some(Err(SeqError::Table {
                file: self.file.clone(),
                message: format!("data row {row_number} ('{id}'): empty label"),
            }));
        }
        let raw = field(self.sequence_index);
        let raw = raw
            .strip_prefix('<')
            .and_then(|inner| inner.strip_suffix('>'))
            .unwrap_or(raw);
        let mut seq = Vec::with_capacity(raw.len());
        if let Err(bad) = normalize_into(raw.as_bytes(), &mut seq, &mut self.report) {
            return Some(Err(SeqError::InvalidBase {
                file: self.file.clone(),
                record: row_number,
                id,
                position: bad.position + 1,
                found: bad.byte as char,
            }));
        }
        if seq.is_empty() {
            return Some(Err(SeqError::EmptyRecord {
                file: self.file.clone(),
                record: row_number,
                id,
            }));
        }
        self.report.count_record(&seq);
        Some(Ok(SeqRecord { id, seq, label }))
    }
}

impl Iterator for TableRecords {
    type Item = Result<SeqRecord>;

    /// The next row; after the first error the iterator ends.
    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let next = self.read_next();
        self.finished = !matches!(next, Some(Ok(_)));
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &'static [u8], columns: &TableColumns) -> Result<Vec<SeqRecord>> {
        TableRecords::from_reader(Path::new("t.csv"), text, b',', columns)?.collect()
    }

    #[test]
    fn gue_style_table() {
        let records = read(
            b"sequence,label\nACGT,1\nggta,0\n",
            &TableColumns::default(),
        )
        .unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].seq, b"GGTA");
        assert_eq!(records[1].label.as_deref(), Some("0"));
        assert_eq!(records[1].id, "row2");
    }

    #[test]
    fn gene_table_unwraps_angle_brackets_and_uses_gene_id() {
        let text = b"NCBIGeneID,Symbol,NucleotideSequence\r\n7,X,<ACGTN>\r\n";
        let records = read(text, &TableColumns::default()).unwrap();
        assert_eq!(records[0].id, "7");
        assert_eq!(records[0].seq, b"ACGTN");
        assert_eq!(records[0].label, None);
    }

    #[test]
    fn missing_named_column_lists_the_columns() {
        let columns = TableColumns {
            label: Some("class".into()),
            ..Default::default()
        };
        let err = read(b"sequence,label\nACGT,1\n", &columns)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'class'") && err.contains("sequence, label"),
            "{err}"
        );
        let err = read(b"dna,label\nACGT,1\n", &TableColumns::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no sequence column"), "{err}");
    }

    #[test]
    fn bad_rows_name_the_row() {
        let err = read(
            b"sequence,label\nACGT,1\nAC-T,0\n",
            &TableColumns::default(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                SeqError::InvalidBase {
                    record: 2,
                    position: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = read(b"sequence,label\nACGT,1\nACGT\n", &TableColumns::default()).unwrap_err();
        assert!(err.to_string().contains("data row 2"), "{err}");
    }

    #[test]
    fn empty_table_is_an_error() {
        assert!(matches!(
            read(b"", &TableColumns::default()),
            Err(SeqError::Empty { .. })
        ));
    }
}
