//! The metrics of a fine-tuned model's predictions, by name.

use std::collections::BTreeMap;

use dnalm_eval::classification::{classification_metrics, regression_metrics};
use dnalm_nn::supervised::Objective;

/// Metrics of predictions against the row codes: accuracy, macro-F1, MCC and AUROC
/// for classes; MSE, Pearson and R² for a value. A metric that is undefined on these
/// rows (AUROC when a class is absent) is left out and named in the returned list.
pub fn metrics(
    objective: &Objective,
    predictions: &[Vec<f64>],
    codes: &[u32],
) -> (BTreeMap<String, f64>, Vec<&'static str>) {
    let named: Vec<(&'static str, f64)> = match objective {
        Objective::Classification { .. } => {
            let truth: Vec<usize> = codes.iter().map(|&c| c as usize).collect();
            let m = classification_metrics(predictions, &truth);
            vec![
                ("accuracy", m.accuracy),
                ("macro_f1", m.macro_f1),
                ("mcc", m.mcc),
                ("auroc", m.auroc),
            ]
        }
        Objective::Regression => {
            let predicted: Vec<f64> = predictions.iter().map(|row| row[0]).collect();
            let targets: Vec<f64> = codes.iter().map(|&c| f32::from_bits(c) as f64).collect();
            let m = regression_metrics(&predicted, &targets);
            vec![("mse", m.mse), ("pearson", m.pearson), ("r2", m.r2)]
        }
    };
    let undefined = named
        .iter()
        .filter(|(_, value)| !value.is_finite())
        .map(|(name, _)| *name)
        .collect();
    let defined = named
        .into_iter()
        .filter(|(_, value)| value.is_finite())
        .map(|(name, value)| (name.to_string(), value))
        .collect();
    (defined, undefined)
}
