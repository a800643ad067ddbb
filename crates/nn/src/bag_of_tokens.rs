//! The cheap reference row of every benchmark table: token counts + a linear model
//! (logistic regression for classes, least squares for a value). With the overlapping
//! k-mer tokenizer it is the classic k-mer-count + logistic-regression baseline.
//!
//! Features are each token's count per 64 tokens of the sequence (so they do not grow
//! with its length); the model is `features · Wᵀ + b`, trained by the same loop, with
//! AdamW's weight decay as the L2 penalty and early stopping on dev.
//! Parameter names: `linear.weight` `(outputs, vocab)`, `linear.bias`.

use std::path::Path;

use candle_core::{Device, Tensor};
use dnalm_run::{Parameters, RunDir, Trainable};
use dnalm_tokenize::{special, Tokenizer};
use serde::{Deserialize, Serialize};

use crate::linear_op::linear;
use crate::params::ParamStore;
use crate::predictor_run::PredictorConfig;
use crate::run_files::{open_frozen, write_run};
use crate::supervised::{split_labelled, InputRows, Objective, SequencePredictor};

/// Counts are scaled to this many tokens per sequence.
const TOKENS_PER_SCALE: f32 = 64.0;

/// What a bag-of-tokens model predicts (its vocabulary is the tokenizer's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BagOfTokensConfig {
    /// What it predicts.
    pub objective: Objective,
}

/// Token counts + a linear layer.
pub struct BagOfTokens {
    config: BagOfTokensConfig,
    params: ParamStore,
    weight: Tensor,
    bias: Tensor,
    tokenizer: Box<dyn Tokenizer>,
}

impl BagOfTokens {
    /// Loads a fine-tuned run folder for inference only (frozen weights; see
    /// [`open_frozen`]).
    pub fn open_for_inference(run: &Path, device: &Device) -> crate::Result<Self> {
        open_frozen(
            run,
            device,
            |config: PredictorConfig, tokenizer, params| match config {
                PredictorConfig::BagOfTokens(config) => Self::on(config, tokenizer, params),
                PredictorConfig::BertClassifier(_) => {
                    candle_core::bail!("not a bag-of-tokens model")
                }
            },
            |model: &Self| &model.params,
        )
    }

    /// A model with zero weights (the loss is convex; no random start is needed).
    pub fn new(
        config: BagOfTokensConfig,
        tokenizer: Box<dyn Tokenizer>,
        device: &Device,
    ) -> candle_core::Result<Self> {
        Self::on(config, tokenizer, ParamStore::new(0, device))
    }

    /// The model on `params` (fresh, or a frozen store of given weights).
    fn on(
        config: BagOfTokensConfig,
        tokenizer: Box<dyn Tokenizer>,
        mut params: ParamStore,
    ) -> candle_core::Result<Self> {
        let outputs = config.objective.outputs();
        let weight = params.zeros("linear.weight", &[outputs, tokenizer.vocab_size()])?;
        let bias = params.zeros("linear.bias", &[outputs])?;
        Ok(Self {
            config,
            params,
            weight,
            bias,
            tokenizer,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BagOfTokensConfig {
        &self.config
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &dyn Tokenizer {
        self.tokenizer.as_ref()
    }

    /// Scaled counts `(B, vocab)` of the tokens of rows `(B, W)` (padding not counted).
    fn features(&self, rows: &Tensor) -> candle_core::Result<Tensor> {
        let (batch, width) = rows.dims2()?;
        let vocab = self.tokenizer.vocab_size();
        let ids: Vec<u32> = rows.flatten_all()?.to_vec1()?;
        let mut counts = vec![0f32; batch * vocab];
        for (row, counts) in ids.chunks_exact(width).zip(counts.chunks_exact_mut(vocab)) {
            let real = row.iter().filter(|&&id| id != special::PAD);
            let length = real.clone().count().max(1) as f32;
            for &id in real {
                let slot = counts.get_mut(id as usize).ok_or_else(|| {
                    candle_core::Error::Msg(format!("token id {id} outside the vocabulary"))
                })?;
                *slot += TOKENS_PER_SCALE / length;
            }
        }
        Tensor::from_vec(counts, (batch, vocab), rows.device())
    }
}

impl Trainable for BagOfTokens {
    fn parameters(&self) -> &dyn Parameters {
        &self.params
    }

    fn window_loss(&self, rows: &Tensor, _seed: u64) -> candle_core::Result<(Tensor, f64)> {
        let (codes, inputs) = split_labelled(rows)?;
        let loss = self
            .config
            .objective
            .loss(&self.outputs(&inputs)?, &codes)?;
        Ok((loss, codes.dim(0)? as f64))
    }
}

impl SequencePredictor for BagOfTokens {
    fn objective(&self) -> &Objective {
        &self.config.objective
    }

    fn input_rows(&self, sequences: &[&[u8]], _max_width: usize) -> InputRows {
        let encoded: Vec<Vec<u32>> = sequences
            .iter()
            .map(|seq| self.tokenizer.encode(seq).ids)
            .collect();
        let width = encoded.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(encoded.len() * width);
        for mut row in encoded {
            row.resize(width, special::PAD);
            ids.extend(row);
        }
        InputRows { ids, width }
    }

    fn outputs(&self, rows: &Tensor) -> candle_core::Result<Tensor> {
        linear(&self.features(rows)?, &self.weight)?.broadcast_add(&self.bias)
    }

    fn describe(&self) -> String {
        format!(
            "{} counts + linear ({} parameters)",
            self.tokenizer.describe(),
            self.params.count()
        )
    }

    fn save_run(&self, run: &RunDir) -> crate::Result<()> {
        let config = PredictorConfig::BagOfTokens(self.config.clone());
        write_run(run, &config, self.tokenizer(), &self.weights())
    }

    fn device(&self) -> &Device {
        self.params.device()
    }
}

#[cfg(test)]
mod tests {
    use dnalm_tokenize::KmerTokenizer;

    use super::*;

    #[test]
    fn features_are_scaled_counts_and_a_motif_is_learnt() {
        let tokenizer = KmerTokenizer::new(2, true).unwrap();
        let objective = Objective::Classification {
            labels: vec!["no".into(), "yes".into()],
        };
        let model = BagOfTokens::new(
            BagOfTokensConfig {
                objective: objective.clone(),
            },
            Box::new(tokenizer),
            &Device::Cpu,
        )
        .unwrap();
        // "AAA" has 2-mers AA AA; "ACGT" has AC CG GT.
        let rows = model.input_rows(&[b"AAA", b"ACGT"], 0);
        assert_eq!(rows.width, 3);
        let batch = Tensor::from_vec(rows.ids.clone(), (2, 3), &Device::Cpu).unwrap();
        let features: Vec<Vec<f32>> = model.features(&batch).unwrap().to_vec2().unwrap();
        let aa = model.tokenizer().encode(b"AA").ids[0] as usize;
        let cg = model.tokenizer().encode(b"CG").ids[0] as usize;
        assert_eq!(features[0][aa], 64.0);
        assert!((features[1][cg] - 64.0 / 3.0).abs() < 1e-5);
        assert_eq!(features[0].iter().sum::<f32>(), 64.0);

        // "yes" iff the sequence holds CG.
        let sequences: [&[u8]; 4] = [b"ACGTA", b"TTTAA", b"GGCGA", b"CCATG"];
        let codes = [1, 0, 1, 0].map(|c: u32| c);
        let inputs = model.input_rows(&sequences, 0);
        let labelled = inputs.labelled(&codes);
        let width = inputs.width + 1;
        let batch = Tensor::from_vec(labelled.clone(), (4, width), &Device::Cpu).unwrap();
        let mut optimizer = dnalm_train::optimizer::AdamW::new(
            model.named_vars(),
            dnalm_train::optimizer::AdamWConfig::default(),
        )
        .unwrap();
        assert!((model.labelled_loss(&labelled, width, 4).unwrap() - 2f64.ln()).abs() < 1e-6);
        for step in 0..50 {
            let (loss, _) = model.window_loss(&batch, step).unwrap();
            optimizer.step(&loss.backward().unwrap(), 0.05).unwrap();
        }
        let probabilities = model.predict(&inputs, 4).unwrap();
        for (row, code) in probabilities.iter().zip(codes) {
            assert!(row[code as usize] > 0.9, "{probabilities:?}");
        }
    }
}
