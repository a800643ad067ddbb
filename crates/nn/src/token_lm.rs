//! A neural language model over any tokenizer, as one unit: network, tokenizer and run
//! folder. It trains through the shared training loop (it is [`dnalm_run::Trainable`]) and scores sequences through the
//! shared [`SequenceModel`] interface (exact log-probabilities: `[CLS]` starts every
//! sequence and `[SEP]` ends it, so a sequence of `L` nucleotides is `L + 1` events, as
//! for the n-gram models; for multi-nucleotide tokens the probability of the token
//! sequence is spread over the same `L + 1` events).

use std::path::Path;

use candle_core::{DType, Device, Tensor, D};
use dnalm_lm::{
    draw_weighted, NucleotideLikelihoods, ScoreError, ScoreKind, SequenceGenerator, SequenceModel,
    SequenceScore,
};
use dnalm_run::RunDir;
use dnalm_run::{Parameters, Trainable};
use dnalm_tokenize::{special, Encoding, Tokenizer};
use rand::RngCore;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::gpt::{Gpt, GptConfig};
use crate::loss::masked_cross_entropy;
use crate::lstm::{LstmConfig, LstmLm, LstmState};
use crate::params::ParamStore;
use crate::run_files::{load_run_weights, open_frozen, read_run, write_run};

/// What `config.json` of a language-model run holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "lowercase")]
pub enum NetworkConfig {
    /// The LSTM language model.
    Lstm(LstmConfig),
    /// The transformer decoder.
    Gpt(GptConfig),
}

/// The network behind a [`TokenLm`].
enum Network {
    Lstm(LstmLm),
    Gpt(Gpt),
}

impl Network {
    fn forward(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Network::Lstm(lstm) => lstm.forward(ids),
            Network::Gpt(gpt) => gpt.forward(ids),
        }
    }

    fn params(&self) -> &ParamStore {
        match self {
            Network::Lstm(lstm) => lstm.params(),
            Network::Gpt(gpt) => gpt.params(),
        }
    }
}

/// A network with its tokenizer.
pub struct TokenLm {
    network: Network,
    config: NetworkConfig,
    tokenizer: Box<dyn Tokenizer>,
}

impl TokenLm {
    /// A freshly initialised model.
    pub fn new(
        config: NetworkConfig,
        tokenizer: Box<dyn Tokenizer>,
        seed: u64,
        device: &Device,
    ) -> candle_core::Result<Self> {
        Self::on(config, tokenizer, ParamStore::new(seed, device))
    }

    /// The model on `params` (fresh, or a frozen store of given weights).
    fn on(
        config: NetworkConfig,
        tokenizer: Box<dyn Tokenizer>,
        params: ParamStore,
    ) -> candle_core::Result<Self> {
        let network = match config {
            NetworkConfig::Lstm(lstm) => Network::Lstm(LstmLm::on(lstm, params)?),
            NetworkConfig::Gpt(gpt) => Network::Gpt(Gpt::on(gpt, params)?),
        };
        Ok(Self {
            network,
            config,
            tokenizer,
        })
    }

    /// Loads a run folder (`config.json`, `tokenizer.json`, `model.safetensors`).
    pub fn load(run: &Path, device: &Device) -> crate::Result<Self> {
        let (config, tokenizer, weights) = read_run(run, device)?;
        let model = Self::new(config, tokenizer, 0, device)?;
        load_run_weights(model.parameters(), &weights, run)?;
        Ok(model)
    }

    /// Loads a run folder for inference only: the saved weights become the parameters
    /// as they are (no draw, no copy) and forward passes keep no autograd graph, so
    /// scoring a batch holds only what the pass needs. Such a model cannot be trained.
    pub fn open_for_inference(run: &Path, device: &Device) -> crate::Result<Self> {
        open_frozen(run, device, Self::on, |model: &Self| model.network.params())
    }

    /// Writes a new run folder's `config.json`, `tokenizer.json` and initial
    /// `model.safetensors` (what [`TokenLm::load`] reads back).
    pub fn save_run(&self, run: &RunDir) -> crate::Result<()> {
        write_run(run, &self.config, self.tokenizer.as_ref(), &self.weights())
    }

    /// Number of scalar parameters.
    pub fn parameter_count(&self) -> usize {
        self.network.params().count()
    }

    /// The network's configuration.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// The training token stream of sequences: each as `[CLS] tokens [SEP]`,
    /// concatenated.
    pub fn token_stream<'a>(&self, sequences: impl Iterator<Item = &'a [u8]>) -> Vec<u32> {
        sequences
            .flat_map(|seq| self.tokenizer.encode_with_special(seq).ids)
            .collect()
    }
}

impl Trainable for TokenLm {
    fn parameters(&self) -> &dyn Parameters {
        self.network.params()
    }

    fn window_loss(&self, windows: &Tensor, _seed: u64) -> candle_core::Result<(Tensor, f64)> {
        let (batch, len) = windows.dims2()?;
        let inputs = windows.narrow(1, 0, len - 1)?.contiguous()?;
        let targets = windows.narrow(1, 1, len - 1)?.contiguous()?.flatten_all()?;
        let mask = targets.ne(special::PAD)?.to_dtype(DType::F32)?;
        let logits = self.network.forward(&inputs)?;
        let vocab = logits.dim(D::Minus1)?;
        masked_cross_entropy(
            &logits.reshape((batch * (len - 1), vocab))?,
            &targets,
            &mask,
        )
    }
}

impl SequenceModel for TokenLm {
    fn describe(&self) -> String {
        let shape = match self.config {
            NetworkConfig::Lstm(c) => format!("LSTM {}x{}", c.num_layers, c.hidden_size),
            NetworkConfig::Gpt(c) => format!("GPT {}x{}", c.num_layers, c.d_model),
        };
        format!(
            "{shape} ({}, {} parameters)",
            self.tokenizer.describe(),
            self.parameter_count()
        )
    }

    fn score_kind(&self) -> ScoreKind {
        ScoreKind::Exact
    }

    fn score(&self, seq: &[u8]) -> Result<SequenceScore, ScoreError> {
        Ok(self.score_batch(&[seq])?[0])
    }

    /// Every token's log-probability (from `TokenLm::token_log_probs`) summed per
    /// sequence, the `[SEP]` that ends it included.
    fn score_batch(&self, seqs: &[&[u8]]) -> Result<Vec<SequenceScore>, ScoreError> {
        let (_, log_probs) = self.token_log_probs(seqs)?;
        Ok(seqs
            .iter()
            .zip(log_probs)
            .map(|(seq, row)| SequenceScore {
                log_prob: row.iter().sum(),
                events: seq.len() + 1,
            })
            .collect())
    }
}

impl NucleotideLikelihoods for TokenLm {
    /// Each token's log-probability spread over the nucleotides it adds (the `[SEP]`
    /// that ends the sequence is not a nucleotide's).
    fn nucleotide_log_probs(&self, seqs: &[&[u8]]) -> Result<Vec<Vec<f64>>, ScoreError> {
        let (encodings, log_probs) = self.token_log_probs(seqs)?;
        Ok(seqs
            .iter()
            .zip(encodings.iter().zip(log_probs))
            .map(|(seq, (encoding, row))| {
                // Token 0 is [CLS], which is given; row[i] is token i + 1's.
                let per_token: Vec<f64> = std::iter::once(f64::NAN).chain(row).collect();
                encoding.spread_over_nucleotides(&per_token, seq.len())
            })
            .collect())
    }
}

/// Logit values one scoring pass may hold (64 Mi f32: 256 MiB).
const LOGIT_BUDGET: usize = 64 << 20;

impl TokenLm {
    /// The encodings (`[CLS] tokens [SEP]`) of `seqs` and, for each, the
    /// log-probability of every token after `[CLS]` given the ones before it.
    /// Right-padded rows go through the network together (a causal model's real
    /// positions do not see the padding after them). The LSTM takes as many rows per
    /// pass as keep the logits under [`LOGIT_BUDGET`] values: its recurrence is a chain
    /// of small products that wider batches fill. The decoder takes one row per pass
    /// and runs passes in parallel: on the CPU it is already compute-bound on one row,
    /// and wider passes only add memory traffic (measured: README, "Scoring in
    /// batches").
    fn token_log_probs(
        &self,
        seqs: &[&[u8]],
    ) -> Result<(Vec<Encoding>, Vec<Vec<f64>>), ScoreError> {
        let encodings: Vec<Encoding> = seqs
            .iter()
            .map(|seq| self.tokenizer.encode_with_special(seq))
            .collect();
        let longest = encodings
            .iter()
            .map(Encoding::len)
            .max()
            .unwrap_or(2)
            .max(2)
            - 1;
        let rows_per_pass = match self.network {
            Network::Lstm(_) => (LOGIT_BUDGET / (longest * self.tokenizer.vocab_size())).max(1),
            Network::Gpt(_) => 1,
        };
        let rows: Vec<&[u32]> = encodings.iter().map(|e| &e.ids[..]).collect();
        let passes: Vec<Vec<Vec<f64>>> = rows
            .par_chunks(rows_per_pass)
            .map(|rows| self.next_token_log_probs(rows))
            .collect::<candle_core::Result<_>>()
            .map_err(ScoreError::new)?;
        Ok((encodings, passes.into_iter().flatten().collect()))
    }

    /// For each row of ids (`[CLS] tokens [SEP]`), the log-probability of every token
    /// after the first given the ones before it, all rows in one forward pass.
    fn next_token_log_probs(&self, rows: &[&[u32]]) -> candle_core::Result<Vec<Vec<f64>>> {
        let device = self.network.params().device();
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(2).max(2) - 1;
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        for row in rows {
            let n = row.len() - 1;
            inputs.extend_from_slice(&row[..n]);
            inputs.resize(inputs.len() + width - n, special::PAD);
            targets.extend_from_slice(&row[1..]);
            targets.resize(targets.len() + width - n, special::PAD);
        }
        let batch = rows.len();
        let inputs = Tensor::from_vec(inputs, (batch, width), device)?;
        let targets = Tensor::from_vec(targets, (batch * width, 1), device)?;
        let logits = self.network.forward(&inputs)?;
        let vocab = logits.dim(D::Minus1)?;
        let log_probs =
            candle_nn::ops::log_softmax(&logits.reshape((batch * width, vocab))?, D::Minus1)?;
        let picked: Vec<f32> = log_probs.gather(&targets, 1)?.flatten_all()?.to_vec1()?;
        Ok(rows
            .iter()
            .zip(picked.chunks_exact(width))
            .map(|(row, values)| {
                values[..row.len() - 1]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect()
            })
            .collect())
    }
}

impl SequenceGenerator for TokenLm {
    /// Samples tokens after `[CLS]` and the prompt's tokens until `[SEP]` or `max_len`
    /// generated tokens; `[PAD]`, `[CLS]` and `[MASK]` are never drawn, `[UNK]` decodes
    /// to `N`. The result is cut to `prompt.len() + max_len` nucleotides.
    fn generate(
        &self,
        prompt: &[u8],
        max_len: usize,
        temperature: f64,
        rng: &mut dyn RngCore,
    ) -> Vec<u8> {
        let prompt_ids = self.tokenizer.encode(prompt).ids;
        let mut generated = prompt_ids.clone();
        let sampled = (|| -> candle_core::Result<()> {
            let mut next = self.first_logits(&prompt_ids)?;
            for _ in 0..max_len {
                let weights: Vec<f64> = next.logits.to_dtype(DType::F64)?.to_vec1()?;
                let id = sample(&weights, temperature, rng);
                if id == special::SEP {
                    break;
                }
                generated.push(id);
                next = self.next_logits(next.state, &generated)?;
            }
            Ok(())
        })();
        let mut seq = sampled
            .and_then(|()| {
                self.tokenizer
                    .decode(&generated)
                    .map_err(|err| candle_core::Error::Msg(err.to_string()))
            })
            .unwrap_or_else(|_| prompt.to_vec());
        seq.truncate(prompt.len() + max_len);
        seq
    }
}

/// Where generation stands: the logits of the next token, and for the LSTM the state
/// that produced them.
struct NextToken {
    logits: Tensor,
    state: Option<LstmState>,
}

impl TokenLm {
    /// The next-token logits after `[CLS]` and the prompt.
    fn first_logits(&self, prompt_ids: &[u32]) -> candle_core::Result<NextToken> {
        match &self.network {
            Network::Lstm(lstm) => {
                let (mut logits, mut state) = lstm.step(special::CLS, None)?;
                for &id in prompt_ids {
                    (logits, state) = lstm.step(id, Some(state))?;
                }
                Ok(NextToken {
                    logits,
                    state: Some(state),
                })
            }
            Network::Gpt(_) => self.next_logits(None, prompt_ids),
        }
    }

    /// The next-token logits once `tokens` (after `[CLS]`) have been read: the LSTM takes
    /// one step from `state` with the last token; the decoder reads the whole prefix
    /// again (no cache yet).
    fn next_logits(
        &self,
        state: Option<LstmState>,
        tokens: &[u32],
    ) -> candle_core::Result<NextToken> {
        match &self.network {
            Network::Lstm(lstm) => {
                let last = *tokens.last().expect("a token was just added");
                let (logits, state) = lstm.step(last, state)?;
                Ok(NextToken {
                    logits,
                    state: Some(state),
                })
            }
            Network::Gpt(gpt) => {
                let ids: Vec<u32> = std::iter::once(special::CLS)
                    .chain(tokens.iter().copied())
                    .collect();
                let device = self.network.params().device();
                let all = gpt.forward(&Tensor::from_vec(ids, (1, tokens.len() + 1), device)?)?;
                Ok(NextToken {
                    logits: all.get(0)?.get(tokens.len())?,
                    state: None,
                })
            }
        }
    }
}

/// Draws a token from logits raised to `1 / temperature`, never a special token other
/// than `[UNK]` and `[SEP]`.
fn sample(logits: &[f64], temperature: f64, rng: &mut dyn RngCore) -> u32 {
    let allowed = |id: usize| {
        id as u32 >= special::COUNT || id as u32 == special::UNK || id as u32 == special::SEP
    };
    let top = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let weights: Vec<f64> = logits
        .iter()
        .enumerate()
        .map(|(id, &l)| {
            if allowed(id) {
                ((l - top) / temperature).exp()
            } else {
                0.0
            }
        })
        .collect();
    draw_weighted(&weights, rng).map_or(special::SEP, |id| id as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnalm_tokenize::NucleotideTokenizer;

    #[test]
    fn score_is_the_sum_of_next_token_log_probabilities() {
        let config = NetworkConfig::Lstm(LstmConfig {
            vocab_size: 9,
            embed_dim: 4,
            hidden_size: 6,
            num_layers: 1,
        });
        let model = TokenLm::new(config, Box::new(NucleotideTokenizer), 2, &Device::Cpu).unwrap();
        let seq = b"ACGTTG";
        let score = model.score(seq).unwrap();
        assert_eq!(score.events, 7);
        // Same number from the training loss: mean over the 7 predictions.
        let window = Tensor::from_vec(
            model.token_stream(std::iter::once(&seq[..])),
            (1, 8),
            &Device::Cpu,
        )
        .unwrap();
        let (loss, count) = model.window_loss(&window, 0).unwrap();
        assert_eq!(count, 7.0);
        let from_loss = -(loss.to_scalar::<f32>().unwrap() as f64) * 7.0;
        assert!(
            (score.log_prob - from_loss).abs() < 1e-4,
            "{} vs {from_loss}",
            score.log_prob
        );
        // The untrained model is close to uniform over 9 tokens.
        assert!(
            (score.perplexity() - 9.0).abs() < 2.0,
            "{}",
            score.perplexity()
        );
    }

    #[test]
    fn generation_is_seeded_keeps_the_prompt_and_draws_no_specials() {
        let config = NetworkConfig::Lstm(LstmConfig {
            vocab_size: 9,
            embed_dim: 4,
            hidden_size: 6,
            num_layers: 2,
        });
        let model = TokenLm::new(config, Box::new(NucleotideTokenizer), 5, &Device::Cpu).unwrap();
        let a = model.generate(b"GATT", 40, 1.0, &mut dnalm_seq::seeded_rng(3));
        let b = model.generate(b"GATT", 40, 1.0, &mut dnalm_seq::seeded_rng(3));
        assert_eq!(a, b);
        assert!(a.starts_with(b"GATT") && a.len() <= 44);
        assert!(
            a.iter().all(|s| b"ACGTN".contains(s)),
            "{}",
            String::from_utf8_lossy(&a)
        );
        // Logits favouring [PAD]/[CLS]/[MASK] still draw only allowed tokens.
        let logits = [50.0, 0.0, 50.0, 0.0, 50.0, 1.0, 0.0, 0.0, 0.0];
        let mut rng = dnalm_seq::seeded_rng(1);
        for _ in 0..100 {
            let id = sample(&logits, 1.0, &mut rng);
            assert!(![special::PAD, special::CLS, special::MASK].contains(&id));
        }
    }

    #[test]
    fn decoder_scores_and_generates_like_the_lstm() {
        let config = NetworkConfig::Gpt(GptConfig {
            vocab_size: 9,
            d_model: 8,
            num_layers: 1,
            num_heads: 2,
            ffn_dim: 16,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        });
        let model = TokenLm::new(config, Box::new(NucleotideTokenizer), 1, &Device::Cpu).unwrap();
        let seq = b"ACGTTG";
        let window = Tensor::from_vec(
            model.token_stream(std::iter::once(&seq[..])),
            (1, 8),
            &Device::Cpu,
        )
        .unwrap();
        let (loss, _) = model.window_loss(&window, 0).unwrap();
        let from_loss = -(loss.to_scalar::<f32>().unwrap() as f64) * 7.0;
        assert!((model.score(seq).unwrap().log_prob - from_loss).abs() < 1e-4);
        let generated = model.generate(b"AC", 20, 1.0, &mut dnalm_seq::seeded_rng(2));
        assert!(generated.starts_with(b"AC") && generated.len() <= 22);
        assert!(model.describe().starts_with("GPT 1x8"));
    }

    #[test]
    fn batched_scores_equal_one_at_a_time_for_both_networks() {
        let lstm = NetworkConfig::Lstm(LstmConfig {
            vocab_size: 9,
            embed_dim: 4,
            hidden_size: 6,
            num_layers: 2,
        });
        let gpt = NetworkConfig::Gpt(GptConfig {
            vocab_size: 9,
            d_model: 8,
            num_layers: 1,
            num_heads: 2,
            ffn_dim: 16,
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        });
        let seqs: [&[u8]; 4] = [b"ACGTTGCA", b"GATTACAGATTACAGG", b"T", b"CCGGNACGT"];
        for config in [lstm, gpt] {
            let model =
                TokenLm::new(config, Box::new(NucleotideTokenizer), 3, &Device::Cpu).unwrap();
            let batched = model.score_batch(&seqs).unwrap();
            for (seq, together) in seqs.iter().zip(&batched) {
                let alone = model.score(seq).unwrap();
                assert_eq!(alone.events, together.events);
                assert!(
                    (alone.log_prob - together.log_prob).abs() < 1e-5,
                    "{}: {} alone, {} in a batch",
                    String::from_utf8_lossy(seq),
                    alone.log_prob,
                    together.log_prob
                );
            }
        }
    }

    #[test]
    fn nucleotide_values_add_up_to_the_score_alone_or_batched() {
        use dnalm_tokenize::KmerTokenizer;
        let seqs: [&[u8]; 3] = [b"ACGTTGCAGGT", b"GATTACAGATTACAGG", b"TTA"];
        let tiled: Box<dyn Tokenizer> = Box::new(KmerTokenizer::new(3, false).unwrap());
        for tokenizer in [Box::new(NucleotideTokenizer) as Box<dyn Tokenizer>, tiled] {
            let config = NetworkConfig::Lstm(LstmConfig {
                vocab_size: tokenizer.vocab_size(),
                embed_dim: 4,
                hidden_size: 6,
                num_layers: 2,
            });
            let model = TokenLm::new(config, tokenizer, 4, &Device::Cpu).unwrap();
            let batched = model.nucleotide_log_probs(&seqs).unwrap();
            for (seq, values) in seqs.iter().zip(&batched) {
                assert_eq!(values.len(), seq.len());
                assert!(values.iter().all(|v| v.is_finite() && *v < 0.0));
                let alone = model.nucleotide_log_probs(&[seq]).unwrap().remove(0);
                for (a, b) in alone.iter().zip(values) {
                    assert!((a - b).abs() < 1e-5, "{a} alone, {b} in a batch");
                }
                // The end's [SEP] is the score's one event more.
                let encoding = model.tokenizer.encode_with_special(seq);
                let (_, rows) = model.token_log_probs(&[seq]).unwrap();
                let sep = *rows[0].last().unwrap();
                assert_eq!(rows[0].len(), encoding.len() - 1);
                let total: f64 = values.iter().sum::<f64>() + sep;
                assert!((total - model.score(seq).unwrap().log_prob).abs() < 1e-5);
            }
        }
        // A 3-mer's value is shared by its three nucleotides.
        let model = TokenLm::new(
            NetworkConfig::Lstm(LstmConfig {
                vocab_size: KmerTokenizer::new(3, false).unwrap().vocab_size(),
                embed_dim: 4,
                hidden_size: 6,
                num_layers: 1,
            }),
            Box::new(KmerTokenizer::new(3, false).unwrap()),
            1,
            &Device::Cpu,
        )
        .unwrap();
        let values = model.nucleotide_log_probs(&[b"ACGTTG"]).unwrap().remove(0);
        assert_eq!(values[0], values[2]);
        assert_eq!(values[3], values[5]);
        assert_ne!(values[0], values[3]);
    }
}
