//! `dnalm bench`: fine-tune every model on every task (`dnalm finetune` for each pair)
//! and write `results.json` and `results.md` (one table per metric, models by tasks,
//! mean ± sd over seeds). Finished pairs are read back, so an interrupted benchmark
//! resumes where it stopped.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use dnalm_finetune::report::markdown_tables;
use dnalm_finetune::runner::write_json;
use dnalm_finetune::FinetuneResult;
use dnalm_models::spec::ModelSpec;

use crate::commands::finetune::FinetuneSettingsArgs;

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
    settings: FinetuneSettingsArgs,

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
            let task = self.settings.open_task(path)?;
            let (train, dev, test) = task.sizes();
            eprintln!(
                "task {}: {train} train, {dev} dev, {test} test rows",
                task.name
            );
            task_names.push(task.name.clone());
            for spec in &self.models {
                let out = self.out.join(&task.name).join(spec.name());
                results.push(self.settings.run(spec, &task, &out)?);
                write_json(&self.out.join("results.json"), &results)?;
            }
        }
        let model_names: Vec<String> = self.models.iter().map(ModelSpec::name).collect();
        let markdown = markdown_tables(&results, &task_names, &model_names);
        let path = self.out.join("results.md");
        dnalm_seq::atomic::write_atomic(&path, |file| file.write_all(markdown.as_bytes()))
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
