//! Benchmark tasks: folders in the GUE layout (`train.csv`, `dev.csv`, `test.csv`, each
//! optionally `.gz`, or `.tsv`, with `sequence,label` columns), or one table whose
//! `split` column says `train`, `dev` (or `valid`, `validation`) or `test` per row.

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
    /// Reads a task folder or a table with a split column (see the module docs).
    pub fn open_any(path: &Path, columns: &TableColumns, split_column: &str) -> Result<Self> {
        if path.is_dir() {
            Self::open(path, columns)
        } else {
            Self::from_table(path, columns, split_column)
        }
    }

    /// Reads one table whose `split_column` assigns each row to train, dev or test.
    pub fn from_table(path: &Path, columns: &TableColumns, split_column: &str) -> Result<Self> {
        let options = SourceOptions {
            columns: columns.clone(),
            header_labels: false,
        };
        let rows = read_all(path, &options)?;
        // The same rows again, with the split column read as the label.
        let split_options = SourceOptions {
            columns: TableColumns {
                label: Some(split_column.to_string()),
                ..columns.clone()
            },
            header_labels: false,
        };
        let splits = read_all(path, &split_options).map_err(|err| match err {
            SeqError::Table { file, message } => SeqError::Table {
                file,
                message: format!(
                    "{message} (a single table needs a '{split_column}' column saying \
                     train, dev or test; or give a folder with train/dev/test files)"
                ),
            },
            other => other,
        })?;
        let (mut train, mut dev, mut test) = (Vec::new(), Vec::new(), Vec::new());
        for (row, split) in rows.into_iter().zip(splits) {
            let table_error = |message: String| SeqError::Table {
                file: path.to_path_buf(),
                message,
            };
            if row.label.is_none() {
                return Err(table_error(
                    "no label column (name it with --label-column)".into(),
                ));
            }
            match split
                .label
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("train") => train.push(row),
                Some("dev" | "valid" | "validation") => dev.push(row),
                Some("test") => test.push(row),
                other => {
                    return Err(table_error(format!(
                        "row '{}': {split_column} is '{}', not train, dev or test",
                        row.id,
                        other.unwrap_or_default()
                    )))
                }
            }
        }
        Self::from_splits(path, train, dev, test)
    }

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
        Self::from_splits(dir, train, dev, test)
    }

    /// Checks that no split is empty and that dev and test use only training labels.
    fn from_splits(
        dir: &Path,
        train: Vec<SeqRecord>,
        dev: Vec<SeqRecord>,
        test: Vec<SeqRecord>,
    ) -> Result<Self> {
        for (name, rows) in [("train", &train), ("dev", &dev), ("test", &test)] {
            if rows.is_empty() {
                return Err(SeqError::Task {
                    dir: dir.to_path_buf(),
                    message: format!("the {name} split has no rows"),
                });
            }
        }
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
    fn one_table_with_a_split_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("task.csv");
        std::fs::write(
            &path,
            "sequence,label,split\nACGT,ei,train\nGGCC,n,train\nTTAA,n,dev\nCCGG,ei,test\n",
        )
        .unwrap();
        let task = TaskData::open_any(&path, &TableColumns::default(), "split").unwrap();
        assert_eq!(task.labels, ["ei", "n"]);
        assert_eq!(
            (task.train.len(), task.dev.len(), task.test.len()),
            (2, 1, 1)
        );
        assert_eq!(task.test[0].seq, b"CCGG");

        std::fs::write(
            &path,
            "sequence,label,split\nACGT,ei,train\nGGCC,n,holdout\n",
        )
        .unwrap();
        let err = TaskData::open_any(&path, &TableColumns::default(), "split").unwrap_err();
        assert!(err.to_string().contains("'holdout'"), "{err}");
        std::fs::write(&path, "sequence,label\nACGT,ei\n").unwrap();
        let err = TaskData::open_any(&path, &TableColumns::default(), "split").unwrap_err();
        assert!(err.to_string().contains("'split' column"), "{err}");
    }

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
