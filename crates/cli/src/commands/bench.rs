//! `dnalm bench`: fine-tune every model on every task (`dnalm finetune` for each pair)
//! and write `results.json` and `results.md` (one table per metric, models by tasks,
//! mean ± sd over seeds). Finished pairs are read back, so an interrupted benchmark
//! resumes where it stopped.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::commands::finetune::{finetune, write_json, FinetuneResult, FinetuneSettings, Task};
use crate::model_spec::ModelSpec;

/// Arguments of `dnalm bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Tasks, comma-separated: GUE-style folders or split tables (see `dnalm finetune`).
    #[arg(long, value_delimiter = ',', required = true, value_name = "PATH,...")]
    tasks: Vec<PathBuf>,

    /// Models, comma-separated: masked-LM run folders, `scratch:<tokenizer>`,
    /// `kmer<k>-lr`.
    #[arg(long, value_delimiter = ',', required = true, value_name = "SPEC,...")]
    models: Vec<ModelSpec>,

    #[command(flatten)]
    settings: FinetuneSettings,

    /// Output folder: `<task>/<model>/` per pair, `results.json`, `results.md`.
    #[arg(long, short, value_name = "DIR")]
    out: PathBuf,
}

impl BenchArgs {
    /// Runs the benchmark.
    pub fn run(self) -> Result<()> {
        let mut results: Vec<FinetuneResult> = Vec::new();
        let mut task_names = Vec::new();
        for path in &self.tasks {
            let task = Task::open(path, &self.settings)?;
            let (train, dev, test) = task.sizes();
            eprintln!(
                "task {}: {train} train, {dev} dev, {test} test rows",
                task.name
            );
            task_names.push(task.name.clone());
            for spec in &self.models {
                let out = self.out.join(&task.name).join(spec.name());
                results.push(finetune(spec, &task, &self.settings, &out)?);
                write_json(&self.out.join("results.json"), &results)?;
            }
        }
        let model_names: Vec<String> = self.models.iter().map(ModelSpec::name).collect();
        let markdown = markdown_tables(&results, &task_names, &model_names);
        let path = self.out.join("results.md");
        std::fs::write(&path, &markdown)
            .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
        print!("{markdown}");
        eprintln!(
            "wrote {} and {}",
            self.out.join("results.json").display(),
            path.display()
        );
        Ok(())
    }
}

/// One markdown table per test metric: a row per model, a column per task.
fn markdown_tables(results: &[FinetuneResult], tasks: &[String], models: &[String]) -> String {
    let mut metrics: Vec<&String> = results.iter().flat_map(|r| r.test.keys()).collect();
    metrics.sort();
    metrics.dedup();
    let mut text = String::new();
    for metric in metrics {
        let _ = writeln!(text, "\n### Test {metric} (mean ± sd over seeds)\n");
        let _ = writeln!(text, "| model | {} |", tasks.join(" | "));
        let _ = writeln!(text, "|---|{}", "---|".repeat(tasks.len()));
        for model in models {
            let cells: Vec<String> = tasks
                .iter()
                .map(|task| {
                    results
                        .iter()
                        .find(|r| &r.task == task && &r.model == model)
                        .and_then(|r| r.test.get(metric))
                        .map_or("-".into(), |s| {
                            if s.n > 1 {
                                format!("{:.3} ± {:.3}", s.mean, s.sd)
                            } else {
                                format!("{:.3}", s.mean)
                            }
                        })
                })
                .collect();
            let _ = writeln!(text, "| {model} | {} |", cells.join(" | "));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::commands::finetune::MeanSdRecord;

    #[test]
    fn tables_put_models_in_rows_and_tasks_in_columns() {
        let result = |task: &str, model: &str, mcc: f64, n| FinetuneResult {
            task: task.into(),
            model: model.into(),
            description: String::new(),
            seeds: Vec::new(),
            test: BTreeMap::from([(
                "mcc".to_string(),
                MeanSdRecord {
                    mean: mcc,
                    sd: 0.01,
                    n,
                },
            )]),
        };
        let results = [result("a", "m1", 0.5, 3), result("b", "m1", 0.25, 1)];
        let text = markdown_tables(
            &results,
            &["a".into(), "b".into()],
            &["m1".into(), "m2".into()],
        );
        assert!(text.contains("### Test mcc"), "{text}");
        assert!(text.contains("| m1 | 0.500 ± 0.010 | 0.250 |"), "{text}");
        assert!(text.contains("| m2 | - | - |"), "{text}");
    }
}
