//! Checkpoints of a real optimizer: AdamW's moments survive the run folder's
//! crash-safe save and load.

use std::collections::HashMap;

use candle_core::{Device, Tensor, Var};
use dnalm_run::{RunDir, TrainerState};
use dnalm_train::optimizer::{AdamW, AdamWConfig};

fn sample_model() -> (HashMap<String, Tensor>, AdamW) {
    let w = Var::new(&[[1.0f32, 2.0], [3.0, 4.0]], &Device::Cpu).unwrap();
    let model = HashMap::from([("w".to_string(), w.as_tensor().clone())]);
    let mut optimizer = AdamW::new(vec![("w".into(), w.clone())], AdamWConfig::default()).unwrap();
    let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
    optimizer.step(&loss.backward().unwrap(), 0.1).unwrap();
    (model, optimizer)
}

fn saved_step(run: &RunDir) -> u64 {
    run.load_checkpoint(&Device::Cpu)
        .unwrap()
        .unwrap()
        .state
        .step
}

#[test]
fn round_trip_and_interrupted_saves() {
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir::create(dir.path()).unwrap();
    assert!(run.load_checkpoint(&Device::Cpu).unwrap().is_none());
    let (model, optimizer) = sample_model();
    let state = TrainerState {
        step: 7,
        examples_seen: 112,
        best_eval_loss: Some(1.25),
        evals_without_improvement: 1,
    };
    run.save_checkpoint(&model, &optimizer.state_tensors(), &state)
        .unwrap();
    run.save_checkpoint(&model, &optimizer.state_tensors(), &state)
        .unwrap();
    let loaded = run.load_checkpoint(&Device::Cpu).unwrap().unwrap();
    assert_eq!(loaded.state, state);
    // After one AdamW step (lr 0.1, decay 0.01): w (1 - 0.001) - 0.1 sign(g).
    let w: Vec<Vec<f32>> = loaded.model["w"].to_vec2().unwrap();
    assert_eq!(w, model["w"].to_vec2::<f32>().unwrap());
    assert!((w[0][0] - 0.899).abs() < 1e-6 && (w[1][1] - (4.0 * 0.999 - 0.1)).abs() < 1e-5);
    let m: Vec<Vec<f32>> = loaded.optimizer["w.exp_avg"].to_vec2().unwrap();
    assert!(
        (m[1][1] - 0.8).abs() < 1e-6,
        "first moment (1 - 0.9) * 2 * 4"
    );
    assert!(dir.path().join("model.safetensors").is_file());

    // Interrupted between the two renames: only checkpoint.old is complete.
    std::fs::rename(
        dir.path().join("checkpoint"),
        dir.path().join("checkpoint.old"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("checkpoint.tmp")).unwrap();
    std::fs::write(dir.path().join("checkpoint.tmp/model.safetensors"), b"half").unwrap();
    assert_eq!(saved_step(&run), 7);
    // The next save cleans up and succeeds.
    run.save_checkpoint(
        &model,
        &optimizer.state_tensors(),
        &TrainerState {
            step: 8,
            ..state.clone()
        },
    )
    .unwrap();
    assert_eq!(saved_step(&run), 8);
    assert!(
        !dir.path().join("checkpoint.old").exists() && !dir.path().join("checkpoint.tmp").exists()
    );
}
