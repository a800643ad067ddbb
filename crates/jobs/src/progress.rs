//! What a training job tells its front end: lines for the user, and every step.

use dnalm_train::trainer::Outcome;

/// The front end's view of a training job (a progress bar, a notebook callback).
pub trait TrainingProgress {
    /// A line for the user: what is trained on what, how it ended.
    fn message(&mut self, text: &str);

    /// The loop starts (or resumes) towards `total` steps; `eval_name` is what the
    /// evaluation measures.
    fn start(&mut self, total: u64, eval_name: &str);

    /// After each step: the step, its training loss, and the best evaluation so far.
    fn step(&mut self, step: u64, loss: f64, best_eval: Option<f64>);

    /// The loop ended.
    fn finish(&mut self);
}

/// How a training job ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Finished, stopped early, or interrupted (a checkpoint saved).
    pub outcome: Outcome,
    /// The model, in one line.
    pub description: String,
    /// Training throughput from the median step, in nucleotides (masked-LM jobs) or
    /// tokens (language models) per second.
    pub per_second: Option<f64>,
    /// The best evaluation (perplexity or masked-LM loss), if there was one.
    pub best_eval: Option<f64>,
}
