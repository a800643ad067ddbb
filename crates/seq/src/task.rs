//! Benchmark task folders in the GUE layout: `train.csv`, `dev.csv`, `test.csv`
//! (each optionally `.gz`, or `.tsv`), with `sequence,label` columns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Result, SeqError};
use crate::record::SeqRecord;
use crate::source::{read_all, SourceOptions};
use crate::table::TableColumns;

/// A classification task: three labelled splits and the label vocabulary.
#[derive(Debug, Clone)]
pub struct TaskData {
    /// The folder it was read from.
    pub dir: PathBuf,
    /// Training rows.
    pub train: Vec<SeqRecord>,
    /// Validation rows (used for early stopping).
    pub dev: Vec<SeqRecord>,
    /// Test rows.
    pub test: Vec<SeqRecord>,
    /// Distinct labels of the training split, in class-index order (numeric order when
    /// every label is an integer, else lexicographic).
    pub labels: Vec<String>,
}

impl TaskData {
    /// Reads a task folder; every split must exist, have a label column, and use only
    /// labels seen in training.
    pub fn open(dir: &Path, columns: &TableColumns) -> Result<Self> {
        let options = SourceOptions {
            columns: columns.clone(),
            header_labels: false,
        };
        let read_split = |name: &str| -> Result<Vec<SeqRecord>> {
            let path = find_split(dir, name)?;
            let rows = read_all(&path, &options)?;
            if rows.is_empty() {
                return Err(SeqError::Empty { file: path });
            }
            if rows[0].label.is_none() {
                return Err(SeqError::Table {
                    file: path,
                    message: "no label column (name it with --label-column)".into(),
                });
            }
            Ok(rows)
        };
        let train = read_split("train")?;
        let dev = read_split("dev")?;
        let test = read_split("test")?;
        let labels = label_vocabulary(&train);
        for (name, rows) in [("dev", &dev), ("test", &test)] {
            if let Some(row) = rows
                .iter()
                .find(|row| !labels.contains(row.label.as_ref().unwrap()))
            {
                return Err(SeqError::Task {
                    dir: dir.to_path_buf(),
                    message: format!(
                        "{name} row '{}' has label '{}' which never occurs in train",
                        row.id,
                        row.label.as_deref().unwrap_or_default()
                    ),
                });
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            train,
            dev,
            test,
            labels,
        })
    }

    /// The class index of a label, if it is in the vocabulary.
    pub fn class_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|known| known == label)
    }
}

fn find_split(dir: &Path, name: &str) -> Result<PathBuf> {
    ["csv", "csv.gz", "tsv", "tsv.gz"]
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .find(|path| path.is_file())
        .ok_or_else(|| SeqError::Task {
            dir: dir.to_path_buf(),
            message: format!("no {name}.csv, {name}.csv.gz, {name}.tsv or {name}.tsv.gz"),
        })
}

fn label_vocabulary(rows: &[SeqRecord]) -> Vec<String> {
    let distinct: BTreeSet<&str> = rows.iter().filter_map(|row| row.label.as_deref()).collect();
    let mut labels: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    if labels.iter().all(|label| label.parse::<i64>().is_ok()) {
        labels.sort_by_key(|label| label.parse::<i64>().unwrap());
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_labels_sort_numerically() {
        let rows: Vec<SeqRecord> = ["10", "2", "1", "2"]
            .iter()
            .map(|label| SeqRecord {
                label: Some(label.to_string()),
                ..Default::default()
            })
            .collect();
        assert_eq!(label_vocabulary(&rows), ["1", "2", "10"]);
    }
}
