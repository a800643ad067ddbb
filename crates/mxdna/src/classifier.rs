//! MxDNA fine-tuned for sequence classification or regression (the reference's
//! `full-model` head): the encoder's final token states, the head's own LayerNorm, the
//! `[CLS]` token (token 0), dropout -> dense -> tanh -> dropout -> out_proj. The
//! load-balancing loss keeps its coefficient during fine-tuning.
//!
//! Starts from a pretraining run (`dnalm train mxdna`; its decoder and LM head are
//! left behind) or from scratch. `config.json`: `"model": "mxdna-classifier"`.

use std::path::Path;

use candle_core::{Device, Tensor};
use dnalm_nn::embedding::{EmbedOptions, SequenceEmbedder};
use dnalm_nn::heads::{ClassifierHead, Pooling};
use dnalm_nn::params::ParamStore;
use dnalm_nn::run_files::{open_frozen, write_run};
use dnalm_nn::supervised::{split_labelled, InputRows, Objective, SequencePredictor};
use dnalm_nn::token_rows::TokenRows;
use dnalm_nn::NnError;
use dnalm_run::{Parameters, RunDir, Trainable};
use dnalm_tokenize::NucleotideTokenizer;
use serde::{Deserialize, Serialize};

use crate::config::MxDnaConfig;
use crate::encoder_input::EncoderInput;
use crate::learnt_tokens::LearntTokenizer;
use crate::model::MxDnaEncoder;
use crate::pretrained::read_pretrained;
use crate::reference_checkpoint::{write_reference_folder, ReferenceNaming};

/// What a fine-tuned MxDNA is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MxDnaClassifierConfig {
    /// The encoder's sizes.
    pub mxdna: MxDnaConfig,
    /// Head dropout while training.
    pub dropout: f64,
    /// What it predicts.
    pub objective: Objective,
}

/// `config.json` of a fine-tuned MxDNA run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "kebab-case")]
pub enum MxDnaClassifierRunConfig {
    /// The classifier.
    MxdnaClassifier(MxDnaClassifierConfig),
}

/// The encoder with a classification head.
pub struct MxDnaClassifier {
    config: MxDnaClassifierConfig,
    params: ParamStore,
    encoder: MxDnaEncoder,
    head: ClassifierHead,
}

impl MxDnaClassifier {
    /// A freshly initialised model drawn from `seed`.
    pub fn new(
        config: MxDnaClassifierConfig,
        seed: u64,
        device: &Device,
    ) -> candle_core::Result<Self> {
        Self::on(config, ParamStore::new(seed, device))
    }

    /// The model on `params` (fresh, or a frozen store of given weights).
    fn on(config: MxDnaClassifierConfig, mut params: ParamStore) -> candle_core::Result<Self> {
        let encoder = MxDnaEncoder::new(config.mxdna.clone(), &mut params)?;
        let head = ClassifierHead::new(
            &mut params,
            config.mxdna.hidden_size,
            config.objective.outputs(),
            Pooling::Cls,
            config.dropout,
            config.mxdna.layer_norm_eps,
        )?;
        Ok(Self {
            config,
            params,
            encoder,
            head,
        })
    }

    /// The encoder of a pretraining run (or an authors' checkpoint folder) under a new
    /// head drawn from `seed`.
    pub fn from_pretrained(
        run: &Path,
        objective: Objective,
        dropout: f64,
        seed: u64,
        device: &Device,
    ) -> crate::Result<Self> {
        let parts = read_pretrained(run, device)?;
        let weights = parts.weights;
        let config = MxDnaClassifierConfig {
            mxdna: parts.config,
            dropout,
            objective,
        };
        let model = Self::new(config, seed, device)?;
        model
            .params
            .load_pretrained(&weights, "classifier.")
            .map_err(|err| NnError::run_file(run.join("model.safetensors"), err))?;
        Ok(model)
    }

    /// Loads a fine-tuned run folder for inference only (frozen weights, no autograd
    /// graph; see [`open_frozen`]).
    pub fn open_for_inference(run: &Path, device: &Device) -> crate::Result<Self> {
        Ok(open_frozen(
            run,
            device,
            |MxDnaClassifierRunConfig::MxdnaClassifier(config), _tokenizer, params| {
                Self::on(config, params)
            },
            |model: &Self| &model.params,
        )?)
    }

    /// Raw outputs and the balancing loss for input rows; router noise and dropout
    /// are drawn from `seed` when given (training).
    fn forward(&self, rows: &Tensor, seed: Option<u64>) -> candle_core::Result<(Tensor, Tensor)> {
        let input = EncoderInput::from_rows(rows)?;
        let encoded = self
            .encoder
            .encode(&input.ids, &input.lengths, &input.special, seed)?;
        let balance = crate::learnt_tokenization::load_balancing_loss(
            &encoded.tokenized.router_logits,
            &encoded.tokenized.units,
        )?;
        let outputs = self.head.forward(
            &encoded.token_states,
            &encoded.tokenized.token_lengths,
            seed.map(|s| s ^ 0xD1B5_4A32_D192_ED03),
        )?;
        Ok((outputs, balance))
    }
}

impl MxDnaClassifier {
    /// Writes the model as an authors' `MxDNAForSequenceClassification` folder
    /// (`config.json` with `num_labels` and the labels, `model.safetensors`), its encoder
    /// named as `naming` names it and the head as the reference's (`norm.norm.*`,
    /// `task_head.dense.*`, `task_head.out_proj.*`).
    pub fn export(&self, out: &Path, naming: ReferenceNaming) -> crate::Result<()> {
        let named = self
            .weights()
            .into_iter()
            .map(|(name, tensor)| {
                let name = match name.strip_prefix("classifier.") {
                    Some(rest) if rest.starts_with("norm.") => format!("norm.{rest}"),
                    Some(rest) => format!("task_head.{rest}"),
                    None => naming.from_dnalm(&name),
                };
                (name, tensor)
            })
            .collect();
        let mut fields = serde_json::Map::new();
        fields.insert(
            "architectures".into(),
            serde_json::json!(["MxDNAForSequenceClassification"]),
        );
        fields.insert("num_labels".into(), self.config.objective.outputs().into());
        match &self.config.objective {
            Objective::Classification { labels } => {
                let id2label: serde_json::Map<String, serde_json::Value> = labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| (i.to_string(), label.clone().into()))
                    .collect();
                let label2id: serde_json::Map<String, serde_json::Value> = labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| (label.clone(), i.into()))
                    .collect();
                fields.insert("id2label".into(), id2label.into());
                fields.insert("label2id".into(), label2id.into());
                fields.insert("problem_type".into(), "single_label_classification".into());
            }
            Objective::Regression => {
                fields.insert("problem_type".into(), "regression".into());
            }
        }
        write_reference_folder(&self.config.mxdna, &fields, named, out)
    }
}

impl Trainable for MxDnaClassifier {
    fn parameters(&self) -> &dyn Parameters {
        &self.params
    }

    fn window_loss(&self, rows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)> {
        let (codes, inputs) = split_labelled(rows)?;
        let (outputs, balance) = self.forward(&inputs, Some(seed))?;
        let loss = self.config.objective.loss(&outputs, &codes)?;
        let total = (loss + (balance * self.config.mxdna.router_aux_loss_coef)?)?;
        Ok((total, codes.dim(0)? as f64))
    }
}

impl SequencePredictor for MxDnaClassifier {
    fn objective(&self) -> &Objective {
        &self.config.objective
    }

    fn input_rows(&self, sequences: &[&[u8]], max_width: usize) -> InputRows {
        let TokenRows { ids, width } =
            TokenRows::encode(&NucleotideTokenizer, sequences.iter().copied(), max_width);
        InputRows { ids, width }
    }

    fn outputs(&self, rows: &Tensor) -> candle_core::Result<Tensor> {
        Ok(self.forward(rows, None)?.0)
    }

    fn describe(&self) -> String {
        let c = &self.config.mxdna;
        format!(
            "MxDNA {}+{} layers x {} + [CLS] head ({} experts, {} parameters)",
            c.conversion_layer_idx,
            c.token_layers(),
            c.hidden_size,
            c.expert_kernel_sizes.len(),
            self.params.count()
        )
    }

    fn save_run(&self, run: &RunDir) -> dnalm_nn::Result<()> {
        let config = MxDnaClassifierRunConfig::MxdnaClassifier(self.config.clone());
        write_run(run, &config, &NucleotideTokenizer, &self.weights())
    }

    fn device(&self) -> &Device {
        self.params.device()
    }
}

impl LearntTokenizer for MxDnaClassifier {
    fn mxdna_encoder(&self) -> &MxDnaEncoder {
        &self.encoder
    }
}

impl SequenceEmbedder for MxDnaClassifier {
    fn embedding_dim(&self) -> usize {
        self.config.mxdna.hidden_size
    }

    /// The fine-tuned encoder's states (the head is left out).
    fn embed_batch(&self, sequences: &[&[u8]], options: &EmbedOptions) -> dnalm_nn::Result<Tensor> {
        Ok(self.encoder.embed_sequences(sequences, options)?)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::MxDnaPreset;
    use crate::pretrained::MxDnaLm;

    fn config() -> MxDnaConfig {
        let mut config = MxDnaConfig::preset(MxDnaPreset::Tiny);
        config.hidden_size = 16;
        config.intermediate_size = 32;
        config.expert_kernel_sizes = vec![1, 2, 3];
        config
    }

    #[test]
    fn takes_the_pretrained_encoder_learns_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(&dir.path().join("pre")).unwrap();
        let pretrained = MxDnaLm::new(config(), 3, &Device::Cpu).unwrap();
        pretrained.save_run(&run).unwrap();
        let objective = Objective::Classification {
            labels: vec!["0".into(), "1".into()],
        };
        let model =
            MxDnaClassifier::from_pretrained(run.path(), objective, 0.0, 1, &Device::Cpu).unwrap();
        let ours = model.weights();
        let theirs = pretrained.weights();
        let embedding = |w: &HashMap<String, Tensor>| -> Vec<f32> {
            w["model.embed_tokens.weight"]
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        assert_eq!(embedding(&ours), embedding(&theirs));
        assert!(
            !ours.contains_key("lm_head.bias") && ours.contains_key("classifier.out_proj.bias")
        );

        // Class 1 iff the sequence starts with GGGG.
        let sequences: Vec<Vec<u8>> = (0..16)
            .map(|i| {
                let mut s = b"ACGTTGCAACGTAGCT".to_vec();
                s.rotate_left(i % 7);
                if i % 2 == 1 {
                    s[..4].copy_from_slice(b"GGGG");
                }
                s
            })
            .collect();
        let refs: Vec<&[u8]> = sequences.iter().map(Vec::as_slice).collect();
        let codes: Vec<u32> = (0..16).map(|i| i % 2).collect();
        let inputs = model.input_rows(&refs, 64);
        let labelled = inputs.labelled(&codes);
        let width = inputs.width + 1;
        let batch = Tensor::from_vec(labelled.clone(), (16, width), &Device::Cpu).unwrap();
        let before = model.labelled_loss(&labelled, width, 8).unwrap();
        // 80 steps: at 40 the loss was still on a plateau with AVX2 products (0.52; 0.02
        // with plain loops), whose sums round differently.
        dnalm_train::trainer::fit_one_batch(&model, &batch, 80, 1e-2).unwrap();
        let after = model.labelled_loss(&labelled, width, 8).unwrap();
        assert!(after < before * 0.5, "loss {before} -> {after}");

        let fine_tuned = RunDir::create(&dir.path().join("ft")).unwrap();
        model.save_run(&fine_tuned).unwrap();
        let loaded = MxDnaClassifier::open_for_inference(fine_tuned.path(), &Device::Cpu).unwrap();
        assert_eq!(
            loaded.predict(&inputs, 8).unwrap(),
            model.predict(&inputs, 8).unwrap()
        );
    }
}
