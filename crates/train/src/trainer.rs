//! The training loop: gradient accumulation, clipping, AdamW under a warmup + cosine
//! schedule, periodic evaluation with early stopping, metrics, checkpoints, resume and
//! a stop flag (set by Ctrl-C in the CLI) that saves before returning.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::clip::clip_grad_norm;
use crate::error::{Result, TrainError};
use crate::optimizer::{AdamW, AdamWConfig};
use crate::schedule::WarmupCosine;
use crate::windows::WindowDataset;
use dnalm_run::{RunDir, Trainable, TrainerState};

/// How to train.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Optimizer steps in all.
    pub steps: u64,
    /// Windows per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub accumulation: usize,
    /// Peak learning rate.
    pub peak_lr: f64,
    /// Warmup steps.
    pub warmup_steps: u64,
    /// Final learning rate as a fraction of the peak.
    pub min_lr_ratio: f64,
    /// AdamW settings.
    pub adamw: AdamWConfig,
    /// Gradient clipping norm.
    pub clip_norm: f64,
    /// Evaluate every this many steps (0: never).
    pub eval_every: u64,
    /// Stop after this many evaluations without improvement (0: never).
    pub patience: u32,
    /// Save a checkpoint every this many steps (also at the end and on stop).
    pub checkpoint_every: u64,
    /// Seed of the data order.
    pub seed: u64,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// All steps done.
    Finished,
    /// Evaluation stopped improving.
    EarlyStopped,
    /// The stop flag was raised; a checkpoint was saved.
    Interrupted,
}

/// How the loop talks to its caller.
pub struct Hooks<'a> {
    /// Returns the evaluation loss to minimise.
    pub evaluate: &'a dyn Fn() -> Result<f64>,
    /// When raised, the loop saves a checkpoint and returns [`Outcome::Interrupted`].
    pub stop: &'a AtomicBool,
    /// Sees (state, training loss) after every step, for progress display.
    pub on_step: &'a mut dyn FnMut(&TrainerState, f64),
}

/// Trains `model` on `data` in `run`, resuming from its checkpoint if it has one.
pub fn train(
    model: &dyn Trainable,
    data: &WindowDataset,
    config: &TrainConfig,
    run: &RunDir,
    device: &Device,
    hooks: Hooks<'_>,
) -> Result<Outcome> {
    let Hooks {
        evaluate,
        stop,
        on_step,
    } = hooks;
    if config.batch_size == 0 || config.accumulation == 0 {
        return Err(TrainError::InvalidParameter(
            "batch size and accumulation must be positive".into(),
        ));
    }
    let mut optimizer = AdamW::new(model.named_vars(), config.adamw)?;
    let mut state = TrainerState::default();
    if let Some(checkpoint) = run.load_checkpoint(device)? {
        model.load_weights(&checkpoint.model)?;
        optimizer.load_state(&checkpoint.optimizer, checkpoint.state.step)?;
        state = checkpoint.state;
        run.truncate_metrics_after(state.step)?;
    }
    let schedule = WarmupCosine {
        peak_lr: config.peak_lr,
        warmup_steps: config.warmup_steps,
        total_steps: config.steps,
        min_lr_ratio: config.min_lr_ratio,
    };
    let save = |state: &TrainerState, optimizer: &AdamW| {
        run.save_checkpoint(&model.weights(), &optimizer.state_tensors(), state)
    };
    while state.step < config.steps {
        if stop.load(Ordering::SeqCst) {
            save(&state, &optimizer)?;
            return Ok(Outcome::Interrupted);
        }
        let started = Instant::now();
        let mut grads: Option<GradStore> = None;
        let (mut loss_sum, mut tokens) = (0.0, 0.0);
        for _ in 0..config.accumulation {
            let batch = data.batch(state.examples_seen, config.batch_size, config.seed, device)?;
            let batch_seed = config.seed ^ state.examples_seen.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let (loss, count) = model.window_loss(&batch, batch_seed)?;
            loss_sum += loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
            tokens += count;
            let micro = (loss / config.accumulation as f64)?.backward()?;
            match grads.as_mut() {
                Some(total) => total.extend(micro)?,
                None => grads = Some(micro),
            }
            state.examples_seen += config.batch_size as u64;
        }
        finite(state.step + 1, "training loss", loss_sum)?;
        let mut grads = grads.expect("at least one micro-batch");
        let vars = optimizer.vars().map(|(_, var)| var);
        let grad_norm = clip_grad_norm(&mut grads, vars, config.clip_norm)?;
        finite(state.step + 1, "gradient norm", grad_norm)?;
        let lr = schedule.lr(state.step);
        optimizer.step(&grads, lr)?;
        state.step += 1;
        let loss = loss_sum / config.accumulation as f64;
        let step_seconds = started.elapsed().as_secs_f64();
        let mut record = serde_json::json!({
            "step": state.step,
            "loss": loss,
            "lr": lr,
            "grad_norm": grad_norm,
            "tokens_per_second": tokens / step_seconds,
            "step_seconds": step_seconds,
        });
        let mut outcome = None;
        if config.eval_every > 0
            && (state.step % config.eval_every == 0 || state.step == config.steps)
        {
            let eval_loss = evaluate()?;
            finite(state.step, "evaluation loss", eval_loss)?;
            record["eval_loss"] = eval_loss.into();
            if state.best_eval_loss.is_none_or(|best| eval_loss < best) {
                state.best_eval_loss = Some(eval_loss);
                state.evals_without_improvement = 0;
            } else {
                state.evals_without_improvement += 1;
                if config.patience > 0 && state.evals_without_improvement >= config.patience {
                    outcome = Some(Outcome::EarlyStopped);
                }
            }
        }
        run.append_metrics(&record)?;
        on_step(&state, loss);
        if let Some(outcome) = outcome {
            save(&state, &optimizer)?;
            return Ok(outcome);
        }
        if config.checkpoint_every > 0 && state.step % config.checkpoint_every == 0 {
            save(&state, &optimizer)?;
        }
    }
    save(&state, &optimizer)?;
    Ok(Outcome::Finished)
}

/// An error unless `value` (of `what`, at `step`) is finite.
fn finite(step: u64, what: &'static str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(TrainError::NonFinite { step, what, value })
    }
}

/// Takes `steps` AdamW steps (default settings, constant `lr`) on one batch: the
/// check that a model and its gradients can fit what they see.
pub fn fit_one_batch(model: &dyn Trainable, batch: &Tensor, steps: u64, lr: f64) -> Result<()> {
    let mut optimizer = AdamW::new(model.named_vars(), AdamWConfig::default())?;
    for step in 0..steps {
        let (loss, _) = model.window_loss(batch, step)?;
        optimizer.step(&loss.backward()?, lr)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use candle_core::{DType, Var, D};
    use dnalm_run::Parameters;

    /// A bigram table, trained as a language model: enough to exercise the loop.
    struct Bigram {
        table: Var,
    }

    impl Trainable for Bigram {
        fn parameters(&self) -> &dyn Parameters {
            self
        }
        fn window_loss(&self, windows: &Tensor, _: u64) -> candle_core::Result<(Tensor, f64)> {
            let (_, len) = windows.dims2()?;
            let inputs = windows.narrow(1, 0, len - 1)?.flatten_all()?;
            let targets = windows.narrow(1, 1, len - 1)?.flatten_all()?;
            let logits = self.table.as_tensor().index_select(&inputs, 0)?;
            let log_probs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
            let picked = log_probs.gather(&targets.unsqueeze(1)?, 1)?;
            Ok((picked.mean_all()?.neg()?, targets.elem_count() as f64))
        }
    }

    impl Parameters for Bigram {
        fn named_vars(&self) -> Vec<(String, Var)> {
            vec![("table.weight".into(), self.table.clone())]
        }
        fn weights(&self) -> HashMap<String, Tensor> {
            HashMap::from([("table.weight".to_string(), self.table.as_tensor().clone())])
        }
        fn load_weights(&self, weights: &HashMap<String, Tensor>) -> candle_core::Result<()> {
            self.table.set(&weights["table.weight"])
        }
    }

    fn model() -> Bigram {
        Bigram {
            table: Var::zeros((6, 6), DType::F32, &Device::Cpu).unwrap(),
        }
    }

    fn data() -> WindowDataset {
        // A cycle 0 1 2 3 4 5 0 1 ... with every 7th token replaced: learnable, not trivial.
        let tokens = (0..600)
            .map(|i| if i % 7 == 0 { 3 } else { (i % 6) as u32 })
            .collect();
        WindowDataset::new(tokens, 12)
    }

    fn config(steps: u64) -> TrainConfig {
        TrainConfig {
            steps,
            batch_size: 4,
            accumulation: 2,
            peak_lr: 0.1,
            warmup_steps: 2,
            min_lr_ratio: 0.1,
            adamw: AdamWConfig::default(),
            clip_norm: 1.0,
            eval_every: 3,
            patience: 0,
            checkpoint_every: 2,
            seed: 5,
        }
    }

    /// Trains a fresh bigram on the test data in the run folder `dir`.
    fn run_in(dir: &std::path::Path, config: &TrainConfig, hooks: Hooks<'_>) -> Outcome {
        let run = RunDir::create(dir).unwrap();
        train(&model(), &data(), config, &run, &Device::Cpu, hooks).unwrap()
    }

    fn losses(dir: &std::path::Path) -> Vec<(u64, f64)> {
        std::fs::read_to_string(dir.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                (
                    value["step"].as_u64().unwrap(),
                    value["loss"].as_f64().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn learns_and_resumes_on_the_same_curve() {
        let straight = tempfile::tempdir().unwrap();
        let never = AtomicBool::new(false);
        let outcome = run_in(
            straight.path(),
            &config(10),
            Hooks {
                evaluate: &|| Ok(0.0),
                stop: &never,
                on_step: &mut |_, _| {},
            },
        );
        assert_eq!(outcome, Outcome::Finished);
        let curve = losses(straight.path());
        assert_eq!(curve.len(), 10);
        assert!(
            curve[9].1 < 0.8 * curve[0].1,
            "loss {} -> {}",
            curve[0].1,
            curve[9].1
        );

        // Interrupted after step 5 (the flag is seen before step 6), then resumed.
        let interrupted = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let first = run_in(
            interrupted.path(),
            &config(10),
            Hooks {
                evaluate: &|| Ok(0.0),
                stop: &stop,
                on_step: &mut |state, _| {
                    if state.step == 5 {
                        stop.store(true, Ordering::SeqCst);
                    }
                },
            },
        );
        assert_eq!(first, Outcome::Interrupted);
        let resumed = run_in(
            interrupted.path(),
            &config(10),
            Hooks {
                evaluate: &|| Ok(0.0),
                stop: &never,
                on_step: &mut |_, _| {},
            },
        );
        assert_eq!(resumed, Outcome::Finished);
        assert_eq!(
            losses(interrupted.path()),
            curve,
            "the resumed run continues the same curve"
        );
    }

    #[test]
    fn early_stopping_after_patience() {
        let dir = tempfile::tempdir().unwrap();
        let evaluations = std::cell::Cell::new(0.0);
        let rising = || {
            evaluations.set(evaluations.get() + 1.0);
            Ok(evaluations.get())
        };
        let config = TrainConfig {
            eval_every: 1,
            patience: 2,
            ..config(50)
        };
        let outcome = run_in(
            dir.path(),
            &config,
            Hooks {
                evaluate: &rising,
                stop: &AtomicBool::new(false),
                on_step: &mut |_, _| {},
            },
        );
        assert_eq!(outcome, Outcome::EarlyStopped);
        assert_eq!(
            losses(dir.path()).len(),
            3,
            "best at step 1, then two evaluations without improvement"
        );
    }

    /// A bigram whose loss turns NaN from micro-batch `from` on (1-based).
    struct Poisoned {
        inner: Bigram,
        calls: std::sync::atomic::AtomicU32,
        from: u32,
    }

    impl Trainable for Poisoned {
        fn parameters(&self) -> &dyn Parameters {
            &self.inner
        }
        fn window_loss(&self, windows: &Tensor, seed: u64) -> candle_core::Result<(Tensor, f64)> {
            let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            let (loss, count) = self.inner.window_loss(windows, seed)?;
            let loss = if call >= self.from {
                (loss * f64::NAN)?
            } else {
                loss
            };
            Ok((loss, count))
        }
    }

    #[test]
    fn a_nan_loss_stops_the_run_naming_the_step_and_keeps_the_last_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        // Two micro-batches a step: micro-batch 9 is step 5's first.
        let model = Poisoned {
            inner: model(),
            calls: std::sync::atomic::AtomicU32::new(0),
            from: 9,
        };
        let hooks = Hooks {
            evaluate: &|| Ok(0.0),
            stop: &AtomicBool::new(false),
            on_step: &mut |_, _| {},
        };
        let err = train(&model, &data(), &config(10), &run, &Device::Cpu, hooks).unwrap_err();
        assert!(
            matches!(
                err,
                TrainError::NonFinite {
                    step: 5,
                    what: "training loss",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err
            .to_string()
            .contains("the last checkpoint (before step 5) is kept"));
        let checkpoint = run.load_checkpoint(&Device::Cpu).unwrap().unwrap();
        assert_eq!(checkpoint.state.step, 4);
        let table: Vec<f32> = checkpoint.model["table.weight"]
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert!(table.iter().all(|v| v.is_finite()));
    }
}
