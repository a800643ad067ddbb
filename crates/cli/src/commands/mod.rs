//! One module per subcommand group; each only parses arguments and wires library calls.

pub mod bench;
pub mod data;
pub mod demo;
pub mod embed;
pub mod eval;
pub mod export;
pub mod finetune;
pub mod generate;
pub mod ngram;
pub mod predict;
pub mod score;
pub mod tokenizer;
pub mod tokens;
pub mod tour;
pub mod train;
pub mod variants;
pub mod variants_vcf;
