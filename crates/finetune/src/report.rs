//! Markdown tables of a benchmark: one per test metric, a row per model, a column per
//! task, mean ± sd over seeds.

use std::fmt::Write as _;

use crate::results::FinetuneResult;

/// One markdown table per test metric: a row per model, a column per task.
pub fn markdown_tables(results: &[FinetuneResult], tasks: &[String], models: &[String]) -> String {
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
    use crate::results::MeanSdRecord;

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
