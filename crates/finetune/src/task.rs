//! A labelled task as the runner needs it: train, dev and test records and what is
//! predicted.

use std::path::Path;

use dnalm_nn::supervised::Objective;
use dnalm_seq::table::TableColumns;
use dnalm_seq::task::TaskData;
use dnalm_seq::SeqRecord;

use crate::error::{FinetuneError, Result};

/// A task.
pub struct Task {
    /// Short name (the folder or file stem).
    pub name: String,
    /// What is predicted.
    pub objective: Objective,
    /// Training rows.
    pub train: Vec<SeqRecord>,
    /// Rows for early stopping and the best-weights choice.
    pub dev: Vec<SeqRecord>,
    /// Rows scored once with the best weights.
    pub test: Vec<SeqRecord>,
}

impl Task {
    /// Reads a task folder (train/dev/test tables) or a single table whose
    /// `split_column` says train, dev or test per row; labels are classes unless
    /// `regression`.
    pub fn open(
        path: &Path,
        columns: &TableColumns,
        split_column: &str,
        regression: bool,
    ) -> Result<Self> {
        let data = TaskData::open_any(path, columns, split_column)?;
        let objective = if regression {
            Objective::Regression
        } else {
            if data.labels.len() < 2 {
                return Err(FinetuneError::Settings(format!(
                    "{}: the training split has {} class(es) ({}): nothing to tell apart \
                     (for real-valued labels, fine-tune with regression)",
                    path.display(),
                    data.labels.len(),
                    data.labels.join(", ")
                )));
            }
            Objective::Classification {
                labels: data.labels.clone(),
            }
        };
        let name = path.file_name().map_or("task".into(), |name| {
            let name = name.to_string_lossy();
            name.split('.').next().unwrap_or(&name).to_string()
        });
        Ok(Self {
            name,
            objective,
            train: data.train,
            dev: data.dev,
            test: data.test,
        })
    }

    /// Train / dev / test row counts.
    pub fn sizes(&self) -> (usize, usize, usize) {
        (self.train.len(), self.dev.len(), self.test.len())
    }

    /// What is predicted, in words.
    pub fn describe_objective(&self) -> String {
        match &self.objective {
            Objective::Classification { labels } => {
                format!("{} classes ({})", labels.len(), labels.join(", "))
            }
            Objective::Regression => "regression".into(),
        }
    }
}
