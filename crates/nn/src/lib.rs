//! dnalm's neural models on candle, with fused CPU kernels where profiling shows the
//! time: [`lstm_op`] runs an LSTM layer over a whole sequence as one custom op with a
//! hand-written backward ([`matmul`] wraps the `gemm` crate for it), under the LSTM
//! language model [`lstm`]; [`gpt`] is the transformer decoder. Parameters are named and seeded ([`params`]); the loss is a
//! masked cross-entropy ([`loss`]). [`token_lm`] puts a network and its tokenizer
//! together: trainable, and scored through the shared language-model interface.

pub mod allocator;
pub mod attention_op;
pub mod cpu;
pub mod dropout;
pub mod encoder;
pub mod gpt;
pub mod heads;
pub mod layer_norm;
pub mod loss;
pub mod lstm;
pub mod lstm_op;
pub mod masked_lm;
pub mod matmul;
pub mod packed_matmul;
pub mod params;
pub mod real;
pub mod rope;
pub mod run_files;
pub mod swiglu_op;
#[cfg(test)]
mod test_values;
pub mod token_lm;
pub mod transformer_layer;
