//! MxDNA (arXiv 2412.13716): the model decides how to tokenize DNA.
//!
//! [`nms`]: basic-unit non-maximum suppression, the non-differentiable step that turns
//! the router's scores into non-overlapping units of the experts' lengths.

pub mod nms;
