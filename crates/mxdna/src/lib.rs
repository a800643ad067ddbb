//! MxDNA (arXiv 2412.13716): the model decides how to tokenize DNA.
//!
//! [`model`]: the network for masked-LM pretraining, sized by [`config`], fed by
//! [`encoder_input`]; [`pretrained`]: the network with its parameters as a trainable
//! run folder, with masked log-probabilities for variant scores and pseudo-likelihoods;
//! [`classifier`]: MxDNA fine-tuned for classification or regression. Both give the
//! learnt tokens of a sequence ([`learnt_tokens`]) and embeddings ([`embedding`]);
//! errors are [`MxDnaError`].
//!
//! The learnt tokenization layer ([`learnt_tokenization`]) and its parts:
//! [`nms`], basic-unit non-maximum suppression, the non-differentiable step that turns
//! the router's scores into non-overlapping units of the experts' lengths (ties broken
//! as the reference's `std::sort` breaks them: [`gnu_sort`]);
//! [`conv_expert`], one expert of the sparse mixture of convolutions; [`row_ops`],
//! gathering and scattering rows between nucleotides, units and tokens;
//! [`deform_sample_op`], the sampling of the 1-D deformable convolution (a custom op
//! with its backward), and [`deformable_conv`], the block around it.

pub mod classifier;
pub mod config;
pub mod conv_expert;
pub mod deform_sample_op;
pub mod deformable_conv;
pub mod embedding;
pub mod encoder_input;
pub mod error;
pub mod gnu_sort;
#[cfg(test)]
mod gradient_check;
pub mod learnt_tokenization;
pub mod learnt_tokens;
mod live_candidates;
pub mod model;
pub mod nms;
pub mod pretrained;
pub mod pytorch_file;
pub mod reference_checkpoint;
pub mod row_ops;

pub use error::{MxDnaError, Result};
