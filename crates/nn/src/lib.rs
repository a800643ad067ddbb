//! dnalm's neural models on candle, with fused CPU kernels where profiling shows the
//! time, each a custom op with a hand-written backward: [`lstm_op`] (an LSTM layer over
//! a whole sequence, its per-step products on [`packed_matmul`]), [`attention_op`]
//! (FlashAttention-style, its softmax exponentials in [`softmax_exp`]),
//! [`layer_norm`], [`swiglu_op`], RoPE as heads are split ([`rope::Rope::split_heads`])
//! and the projections ([`linear_op`]); [`matmul`] wraps the `gemm` crate (every
//! product timed by shape with `DNALM_GEMM_PROFILE=1`), [`cpu`] holds what the kernels
//! share and [`kernels`] chooses between them and their portable compositions (any
//! device other than the CPU).
//!
//! Models: the LSTM language model [`lstm`]; [`transformer_layer`], the block of the
//! decoder [`gpt`] and the encoder [`encoder`]; [`heads`] (masked-LM, classifier) and
//! [`masked_lm`] (BERT-style pretraining); fine-tuning ([`supervised`]) of
//! [`sequence_classifier`] and the [`bag_of_tokens`] baseline, whose `config.json` is
//! [`predictor_run`]. What encoders offer outside training, written once against a
//! trait: [`embedding`] and [`masked_scoring`] (masked marginals, pseudo-likelihoods).
//! Parameters are named and seeded ([`params`]); [`loss`] is a masked cross-entropy;
//! [`token_lm`] puts an autoregressive network and its tokenizer together;
//! [`run_files`] reads and writes run folders; errors are [`NnError`]; [`allocator`] is
//! the global allocator the binaries use; [`device`] opens `cpu` or `cuda[:N]`.

pub mod allocator;
pub mod attention_op;
pub mod bag_of_tokens;
pub mod cpu;
pub mod device;
pub mod dropout;
pub mod embedding;
pub mod encoder;
pub mod error;
mod gemm_profile;
pub mod gpt;
pub mod heads;
pub mod kernels;
pub mod layer_norm;
pub mod linear_op;
pub mod loss;
pub mod lstm;
pub mod lstm_op;
pub mod masked_lm;
pub mod masked_scoring;
pub mod matmul;
pub mod npy;
pub mod packed_matmul;
pub mod params;
pub mod predictor_run;
pub mod pretraining_rows;
pub mod real;
pub mod real_map;
pub mod rope;
mod rope_op;
pub mod run_files;
pub mod sequence_classifier;
pub mod size_limits;
pub mod softmax_exp;
pub mod supervised;
pub mod swiglu_op;
#[cfg(test)]
mod test_values;
pub mod token_lm;
pub mod token_rows;
pub mod transformer_layer;

pub use error::{NnError, Result};
