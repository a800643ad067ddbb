//! What every fine-tunable sequence model shares: the objective (classes or a value),
//! labelled training rows, the loss, and the [`SequencePredictor`] trait the fine-tuning
//! runner drives.
//!
//! A labelled row is the model's input row with the target in front: column 0 holds
//! the class index, or for regression the `f32` target's bits, so labelled rows go
//! through the training loop's u32 batches unchanged.

use candle_core::{DType, Result, Tensor, D};
use dnalm_run::RunDir;
use dnalm_run::Trainable;
use serde::{Deserialize, Serialize};

use crate::error::NnError;
use crate::loss::masked_cross_entropy;

/// What a fine-tuned model predicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Objective {
    /// One of `labels.len()` classes (class index = position in `labels`).
    Classification {
        /// The class labels as written in the data.
        labels: Vec<String>,
    },
    /// One real value, trained with the mean squared error.
    Regression,
}

impl Objective {
    /// Number of model outputs: the classes, or 1.
    pub fn outputs(&self) -> usize {
        match self {
            Objective::Classification { labels } => labels.len(),
            Objective::Regression => 1,
        }
    }

    /// The row code of a label: its class index, or the bits of its value.
    pub fn target_code(&self, label: &str) -> crate::Result<u32> {
        match self {
            Objective::Classification { labels } => labels
                .iter()
                .position(|known| known == label)
                .map(|index| index as u32)
                .ok_or_else(|| NnError::Label {
                    label: label.to_string(),
                    problem: "is not one of the training labels",
                }),
            Objective::Regression => label
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|value| value.is_finite())
                .map(f32::to_bits)
                .ok_or_else(|| NnError::Label {
                    label: label.to_string(),
                    problem: "is not a finite number",
                }),
        }
    }

    /// Mean loss of raw outputs `(B, outputs)` against row codes `(B,)`: cross-entropy
    /// for classes, squared error for a value.
    pub fn loss(&self, outputs: &Tensor, codes: &Tensor) -> Result<Tensor> {
        let rows = codes.dim(0)?;
        match self {
            Objective::Classification { .. } => {
                let ones = Tensor::ones(rows, outputs.dtype(), outputs.device())?;
                Ok(masked_cross_entropy(outputs, codes, &ones)?.0)
            }
            Objective::Regression => {
                let values = decode_values(codes)?.to_dtype(outputs.dtype())?;
                (outputs.squeeze(D::Minus1)? - values)?.sqr()?.mean_all()
            }
        }
    }

    /// Predictions from raw outputs `(B, outputs)`: class probabilities, or the value.
    pub fn predictions(&self, outputs: &Tensor) -> Result<Vec<Vec<f64>>> {
        let outputs = match self {
            Objective::Classification { .. } => candle_nn::ops::softmax_last_dim(outputs)?,
            Objective::Regression => outputs.clone(),
        };
        outputs.to_dtype(DType::F64)?.to_vec2()
    }
}

/// The `f32` values whose bits are the row codes `(B,)`.
fn decode_values(codes: &Tensor) -> Result<Tensor> {
    let values: Vec<f32> = codes
        .to_vec1::<u32>()?
        .into_iter()
        .map(f32::from_bits)
        .collect();
    Tensor::from_vec(values, codes.dims(), codes.device())
}

/// Splits labelled rows `(B, 1 + W)` into row codes `(B,)` and inputs `(B, W)`.
pub fn split_labelled(rows: &Tensor) -> Result<(Tensor, Tensor)> {
    let (_, width) = rows.dims2()?;
    let codes = rows.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?;
    let inputs = rows.narrow(1, 1, width - 1)?.contiguous()?;
    Ok((codes, inputs))
}

/// Input rows for a batch of sequences, flattened, all `width` wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputRows {
    /// The ids, row after row.
    pub ids: Vec<u32>,
    /// Ids per row.
    pub width: usize,
}

impl InputRows {
    /// Labelled rows: each row's code in front of it.
    pub fn labelled(&self, codes: &[u32]) -> Vec<u32> {
        let mut rows = Vec::with_capacity(self.ids.len() + codes.len());
        for (row, &code) in self.ids.chunks_exact(self.width).zip(codes) {
            rows.push(code);
            rows.extend_from_slice(row);
        }
        rows
    }
}

/// A model that can be fine-tuned on labelled sequences and then predict.
///
/// Its [`Trainable::window_loss`] takes labelled rows (see the module docs) and draws
/// dropout from the seed.
pub trait SequencePredictor: Trainable {
    /// What it predicts.
    fn objective(&self) -> &Objective;

    /// Input rows for `sequences`, at most `max_width` wide where the model has a limit.
    fn input_rows(&self, sequences: &[&[u8]], max_width: usize) -> InputRows;

    /// Raw outputs `(B, outputs)` for input rows `(B, W)`, without dropout.
    fn outputs(&self, rows: &Tensor) -> Result<Tensor>;

    /// A one-line description for logs and tables.
    fn describe(&self) -> String;

    /// Writes `config.json`, `tokenizer.json` and the current weights to a run folder
    /// that the model's own `load` (or `dnalm_models::open`) reads back.
    fn save_run(&self, run: &RunDir) -> crate::Result<()>;

    /// Predictions for input rows in batches of `batch_size`: class probabilities, or
    /// one value, per row.
    fn predict(&self, rows: &InputRows, batch_size: usize) -> Result<Vec<Vec<f64>>> {
        let device = self.device();
        let mut predictions = Vec::with_capacity(rows.ids.len() / rows.width.max(1));
        for chunk in rows.ids.chunks(rows.width * batch_size.max(1)) {
            let batch = Tensor::from_vec(
                chunk.to_vec(),
                (chunk.len() / rows.width, rows.width),
                device,
            )?;
            predictions.extend(self.objective().predictions(&self.outputs(&batch)?)?);
        }
        Ok(predictions)
    }

    /// Mean loss over labelled rows in batches, without dropout.
    fn labelled_loss(&self, rows: &[u32], width: usize, batch_size: usize) -> Result<f64> {
        let device = self.device();
        let (mut total, mut count) = (0.0, 0usize);
        for chunk in rows.chunks(width * batch_size.max(1)) {
            let n = chunk.len() / width;
            let batch = Tensor::from_vec(chunk.to_vec(), (n, width), device)?;
            let (codes, inputs) = split_labelled(&batch)?;
            let loss = self.objective().loss(&self.outputs(&inputs)?, &codes)?;
            total += loss.to_dtype(DType::F64)?.to_scalar::<f64>()? * n as f64;
            count += n;
        }
        Ok(total / count.max(1) as f64)
    }

    /// The device its weights live on.
    fn device(&self) -> &candle_core::Device;
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn codes_carry_classes_and_values() {
        let classes = Objective::Classification {
            labels: vec!["ei".into(), "ie".into(), "n".into()],
        };
        assert_eq!(classes.target_code("n").unwrap(), 2);
        assert!(classes
            .target_code("x")
            .unwrap_err()
            .to_string()
            .contains("'x'"));
        let regression = Objective::Regression;
        assert_eq!(regression.target_code("-1.5").unwrap(), (-1.5f32).to_bits());
        assert!(regression.target_code("NaN").is_err());
        let rows = InputRows {
            ids: vec![7, 8, 9, 10],
            width: 2,
        };
        assert_eq!(rows.labelled(&[1, 0]), vec![1, 7, 8, 0, 9, 10]);
    }

    #[test]
    fn losses_by_hand() {
        let device = Device::Cpu;
        let outputs = Tensor::new(&[[0.0f32, 0.0], [2.0f32.ln(), 0.0]], &device).unwrap();
        let classes = Objective::Classification {
            labels: vec!["0".into(), "1".into()],
        };
        let codes = Tensor::new(&[1u32, 0], &device).unwrap();
        let loss = classes
            .loss(&outputs, &codes)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let expected = -((0.5f64).ln() + (2.0f64 / 3.0).ln()) / 2.0;
        assert!((loss as f64 - expected).abs() < 1e-6);

        let values = Tensor::new(&[[1.0f32], [3.0]], &device).unwrap();
        let codes = Tensor::new(&[2.0f32.to_bits(), 0.0f32.to_bits()], &device).unwrap();
        let loss = Objective::Regression.loss(&values, &codes).unwrap();
        // ((1-2)^2 + (3-0)^2) / 2 = 5
        assert_eq!(loss.to_scalar::<f32>().unwrap(), 5.0);
    }
}
