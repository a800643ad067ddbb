//! The examples of dnalm live beside this file (`cargo run -p dnalm-examples --example
//! NAME -- ARGS`): `score` opens any model and scores sequences, `finetune` fine-tunes a
//! model on a task folder, `learnt_tokens` prints an MxDNA model's learnt tokens. This
//! crate has no code of its own.
