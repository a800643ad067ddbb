//! Fine-tunes a model on a task folder (train/dev/test tables) with the library's
//! runner, the settings the command line uses by default but fewer steps, and prints
//! the test metrics. The model is a pretraining run folder, `scratch:<tokenizer>`,
//! `scratch:mxdna` or `kmer<k>-lr`.
//!
//! `cargo run --release -p dnalm-examples --example finetune -- MODEL TASK_DIR OUT_DIR`

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use dnalm_finetune::{finetune, FinetuneSettings, Quiet, Task};
use dnalm_models::spec::ModelSpec;
use dnalm_seq::table::TableColumns;

fn main() {
    if let Err(err) = run() {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, task, out] = args.as_slice() else {
        return Err("usage: finetune MODEL TASK_DIR OUT_DIR".into());
    };
    let spec: ModelSpec = model.parse()?;
    let task = Task::open(
        &PathBuf::from(task),
        &TableColumns::default(),
        "split",
        false,
    )?;
    let settings = FinetuneSettings {
        steps: 200,
        eval_every: 50,
        ..FinetuneSettings::default()
    };
    let never = AtomicBool::new(false);
    let result = finetune(&spec, &task, &settings, &PathBuf::from(out), &never, &Quiet)?;
    println!("{} on {}:", result.description, result.task);
    for (metric, summary) in &result.test {
        println!("  test {metric} {:.4}", summary.mean);
    }
    Ok(())
}
