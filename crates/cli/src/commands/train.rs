//! `dnalm train ...`: neural language models.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use anyhow::{Context, Result};
use candle_core::Device;
use clap::{Args, Subcommand, ValueEnum};
use dnalm_eval::perplexity::perplexity;
use dnalm_lm::SequenceModel;
use dnalm_mxdna::config::{MxDnaConfig, MxDnaPreset};
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_nn::encoder::EncoderConfig;
use dnalm_nn::gpt::GptConfig;
use dnalm_nn::lstm::LstmConfig;
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::token_lm::{NetworkConfig, TokenLm};
use dnalm_nn::token_rows::TokenRows;
use dnalm_run::Trainable;
use dnalm_run::{RunDir, TrainerState};
use dnalm_seq::split::hold_out;
use dnalm_seq::window::{slice_windows, WindowSpec};
use dnalm_tokenize::{KmerTokenizer, NucleotideTokenizer, Tokenizer};
use dnalm_train::optimizer::AdamWConfig;
use dnalm_train::trainer::{train, Hooks, Outcome, TrainConfig};
use dnalm_train::windows::WindowDataset;

use crate::input::RecordArgs;
use crate::progress;

/// Training subcommands.
#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Train an autoregressive language model (resumes if the run folder has a
    /// checkpoint; Ctrl-C saves one and stops).
    Lm(LmArgs),
    /// Pretrain a BERT-style masked language model on genome windows (resumes if the
    /// run folder has a checkpoint; Ctrl-C saves one and stops).
    Mlm(MlmArgs),
    /// Pretrain MxDNA, which learns its own tokenization, by masked LM on genome
    /// windows (resumes if the run folder has a checkpoint; Ctrl-C saves one and stops).
    Mxdna(MxdnaArgs),
}

/// Network families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Network {
    /// Multi-layer LSTM (arXiv 2307.10634's best model).
    Lstm,
    /// Transformer decoder: pre-LayerNorm, RoPE, SwiGLU.
    Gpt,
}

/// Size presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// LSTM: embedding 64, hidden 128, 1 layer. GPT: width 64, 2 layers, 2 heads, FFN 256.
    Tiny,
    /// LSTM: embedding 128, hidden 256, 2 layers. GPT: width 128, 4 layers, 4 heads,
    /// FFN 512.
    Small,
}

/// Arguments of `dnalm train lm`.
#[derive(Debug, Args)]
pub struct LmArgs {
    /// Network family.
    #[arg(long, value_enum, default_value_t = Network::Lstm)]
    model: Network,

    /// Size preset.
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    preset: Preset,

    /// Network sizes from a file instead of the preset: JSON or TOML (by extension)
    /// with the fields of the chosen model, e.g. for --model gpt `d_model = 192`,
    /// `num_layers = 6`, `num_heads = 6`, `ffn_dim = 768`, `rope_theta = 10000.0`,
    /// `norm_eps = 1e-5`; for --model lstm `embed_dim`, `hidden_size`, `num_layers`.
    /// The vocabulary size always comes from the tokenizer.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Tokenizer: `nucleotide`, or a tokenizer.json from `dnalm tokenizer train`.
    #[arg(long, default_value = "nucleotide")]
    tokenizer: String,

    /// Tokens per training window (the model sees windows of this length).
    #[arg(long, default_value_t = 256)]
    window: usize,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

/// Arguments of `dnalm train mlm`.
#[derive(Debug, Args)]
pub struct MlmArgs {
    /// Size preset: tiny (width 64, 2 layers, 2 heads, FFN 256) or small (width 128,
    /// 4 layers, 4 heads, FFN 512).
    #[arg(long, value_enum, default_value_t = Preset::Small)]
    preset: Preset,

    /// Tokenizer: `nucleotide`, `kmer6` (overlapping 6-mers, DNABERT), `kmer6-tiled`
    /// (non-overlapping, Nucleotide Transformer), or a tokenizer.json (e.g. BPE from
    /// `dnalm tokenizer train`).
    #[arg(long, default_value = "nucleotide")]
    tokenizer: String,

    /// Nucleotides per training window (windows are cut end to end).
    #[arg(long, default_value_t = 510)]
    window_nt: usize,

    /// Row width in tokens, [CLS] and [SEP] included (longer encodings are cut).
    #[arg(long, default_value_t = 512)]
    max_tokens: usize,

    /// Windows with a larger share of N are skipped.
    #[arg(long, default_value_t = 0.0)]
    max_n_fraction: f64,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

/// Arguments of `dnalm train mxdna`.
#[derive(Debug, Args)]
pub struct MxdnaArgs {
    /// Size preset: tiny (width 64, 1 nucleotide + 2 token layers), small (width 128,
    /// 2 + 4; the CPU benchmark configuration) or paper (width 512, 4 + 16, ~100M
    /// parameters). Experts of unit lengths 1..=10, deformable kernel 3.
    #[arg(long, value_enum, default_value_t = MxdnaPreset::Tiny)]
    preset: MxdnaPreset,

    /// Sizes from a JSON file instead of the preset: the reference's config.json
    /// fields (hidden_size, num_attention_heads, intermediate_size, num_hidden_layers,
    /// conversion_layer_idx, expert_kernel_sizes, deformable_conv_kernel_size, ...).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Nucleotides per training window (windows are cut end to end).
    #[arg(long, default_value_t = 510)]
    window_nt: usize,

    /// Windows with a larger share of N are skipped.
    #[arg(long, default_value_t = 0.0)]
    max_n_fraction: f64,

    #[command(flatten)]
    training: TrainingArgs,

    #[command(flatten)]
    records: RecordArgs,
}

/// MxDNA size presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MxdnaPreset {
    /// Width 64, 2 heads, FFN 256; 1 nucleotide layer, 2 token layers.
    Tiny,
    /// Width 128, 4 heads, FFN 512; 2 nucleotide layers, 4 token layers.
    Small,
    /// The paper's: width 512, 16 heads, FFN 2048; 4 nucleotide layers, 16 token layers.
    Paper,
}

/// How long and how to train (shared by every training command).
#[derive(Debug, Args)]
pub struct TrainingArgs {
    /// Windows per micro-batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,

    /// Micro-batches per optimizer step (gradient accumulation).
    #[arg(long, default_value_t = 1)]
    pub accumulation: usize,

    /// Optimizer steps.
    #[arg(long, default_value_t = 2000)]
    pub steps: u64,

    /// Peak learning rate.
    #[arg(long, default_value_t = 2e-3)]
    pub lr: f64,

    /// Linear warmup steps.
    #[arg(long, default_value_t = 100)]
    pub warmup: u64,

    /// AdamW weight decay (not applied to biases and norms).
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,

    /// Gradient clipping norm.
    #[arg(long, default_value_t = 1.0)]
    pub clip: f64,

    /// Evaluate on the held-out tenth of the training records every this many steps.
    #[arg(long, default_value_t = 200)]
    pub eval_every: u64,

    /// Stop after this many evaluations without improvement (0: never).
    #[arg(long, default_value_t = 5)]
    pub patience: u32,

    /// Checkpoint every this many steps.
    #[arg(long, default_value_t = 200)]
    pub checkpoint_every: u64,

    /// Seed of the initial weights, the held-out choice and the data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// The run folder (created; resumed if it holds a checkpoint).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
}

impl TrainingArgs {
    /// The training loop's configuration.
    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            steps: self.steps,
            batch_size: self.batch_size,
            accumulation: self.accumulation,
            peak_lr: self.lr,
            warmup_steps: self.warmup,
            min_lr_ratio: 0.1,
            adamw: AdamWConfig {
                weight_decay: self.weight_decay,
                ..Default::default()
            },
            clip_norm: self.clip,
            eval_every: self.eval_every,
            patience: self.patience,
            checkpoint_every: self.checkpoint_every,
            seed: self.seed,
        }
    }
}

/// Raised by Ctrl-C; the training loop saves a checkpoint and stops when it sees it.
static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler (once) and returns the flag it raises.
pub fn stop_flag() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // If another handler is already installed, Ctrl-C simply ends the process;
        // the last checkpoint is still there.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    });
    &STOP
}

impl TrainCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            TrainCommand::Lm(args) => train_lm(args),
            TrainCommand::Mlm(args) => train_mlm(args),
            TrainCommand::Mxdna(args) => train_mxdna(args),
        }
    }
}

/// The network sizes: from `--config` if given, else from the preset.
fn network_config(args: &LmArgs, vocab_size: usize) -> Result<NetworkConfig> {
    let Some(path) = &args.config else {
        return Ok(preset_config(args, vocab_size));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut table: serde_json::Value = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str(&text).with_context(|| format!("{}: not valid TOML", path.display()))?
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid JSON", path.display()))?
    };
    let model = match args.model {
        Network::Lstm => "lstm",
        Network::Gpt => "gpt",
    };
    let object = table
        .as_object_mut()
        .with_context(|| format!("{}: expected a table of sizes", path.display()))?;
    object.insert("model".into(), model.into());
    object.insert("vocab_size".into(), vocab_size.into());
    serde_json::from_value(table)
        .with_context(|| format!("{}: not a {model} configuration", path.display()))
}

fn preset_config(args: &LmArgs, vocab_size: usize) -> NetworkConfig {
    let small = args.preset == Preset::Small;
    match args.model {
        Network::Lstm => NetworkConfig::Lstm(LstmConfig {
            vocab_size,
            embed_dim: if small { 128 } else { 64 },
            hidden_size: if small { 256 } else { 128 },
            num_layers: if small { 2 } else { 1 },
        }),
        Network::Gpt => NetworkConfig::Gpt(GptConfig {
            vocab_size,
            d_model: if small { 128 } else { 64 },
            num_layers: if small { 4 } else { 2 },
            num_heads: if small { 4 } else { 2 },
            ffn_dim: if small { 512 } else { 256 },
            rope_theta: 10000.0,
            norm_eps: 1e-5,
        }),
    }
}

/// The encoder sizes of a preset (vocabulary size 0: set from the tokenizer).
pub fn encoder_preset(preset: Preset) -> EncoderConfig {
    let small = preset == Preset::Small;
    EncoderConfig {
        vocab_size: 0,
        d_model: if small { 128 } else { 64 },
        num_layers: if small { 4 } else { 2 },
        num_heads: if small { 4 } else { 2 },
        ffn_dim: if small { 512 } else { 256 },
        rope_theta: 10000.0,
        norm_eps: 1e-5,
    }
}

/// A tokenizer by name (`nucleotide`, `kmer6`, `kmer6-tiled`) or tokenizer.json path.
pub fn tokenizer_of(spec: &str) -> Result<Box<dyn Tokenizer>> {
    match spec {
        "nucleotide" => return Ok(Box::new(NucleotideTokenizer)),
        "kmer6" => return Ok(Box::new(KmerTokenizer::new(6, true)?)),
        "kmer6-tiled" => return Ok(Box::new(KmerTokenizer::new(6, false)?)),
        _ => {}
    }
    dnalm_tokenize::load(std::path::Path::new(spec)).with_context(|| format!("--tokenizer {spec}"))
}

fn train_lm(args: LmArgs) -> Result<()> {
    let device = Device::Cpu;
    let training = &args.training;
    let run = RunDir::create(&training.out)?;
    let model = if training.out.join("config.json").is_file() {
        let model = TokenLm::load(&training.out, &device).map_err(anyhow::Error::msg)?;
        eprintln!(
            "resuming {} in {}",
            model.describe(),
            training.out.display()
        );
        model
    } else {
        let tokenizer = tokenizer_of(&args.tokenizer)?;
        let config = network_config(&args, tokenizer.vocab_size())?;
        let model = TokenLm::new(config, tokenizer, training.seed, &device)?;
        model.save_run(&run).map_err(anyhow::Error::msg)?;
        model
    };
    let records = args.records.read()?;
    let (fit, held_out) = hold_out(&records, 0.1, training.seed.wrapping_add(1));
    let data = WindowDataset::new(model.token_stream(fit.iter().copied()), args.window + 1);
    eprintln!(
        "{}: {} training windows of {} tokens, {} held-out sequences",
        model.describe(),
        data.len(),
        args.window + 1,
        held_out.len()
    );
    let evaluate = || -> dnalm_train::Result<f64> {
        Ok(perplexity(&model, &held_out, &|_| {}).nats_per_event())
    };
    run_loop(
        &model,
        &data,
        training,
        &run,
        &evaluate,
        "held-out perplexity",
        f64::exp,
    )
}

fn train_mlm(args: MlmArgs) -> Result<()> {
    let device = Device::Cpu;
    let training = &args.training;
    let run = RunDir::create(&training.out)?;
    let model = if training.out.join("config.json").is_file() {
        let model = MaskedLm::load(&training.out, &device).map_err(anyhow::Error::msg)?;
        eprintln!("resuming in {}", training.out.display());
        model
    } else {
        let tokenizer = tokenizer_of(&args.tokenizer)?;
        let model = MaskedLm::new(
            encoder_preset(args.preset),
            tokenizer,
            training.seed,
            &device,
        )?;
        model.save_run(&run).map_err(anyhow::Error::msg)?;
        model
    };
    let records = args.records.read()?;
    let windows = genome_windows(&records, args.window_nt, args.max_n_fraction)?;
    let (fit, held_out) = hold_out_last(&windows, args.window_nt)?;
    let held_out_count = held_out.len();
    let rows = TokenRows::encode(model.tokenizer(), fit.iter().copied(), args.max_tokens);
    let width = rows.width;
    let data = WindowDataset::new(rows.ids, width);
    let held_out_rows = TokenRows::encode(model.tokenizer(), held_out.iter().copied(), width);
    let held_out_width = held_out_rows.width;
    eprintln!(
        "BERT {}x{} ({}, {} parameters): {} training windows of {} nt (rows of {} tokens \
         with [CLS]/[SEP] and padding), {} held out (the last 2%); masking span {}",
        model.encoder().config().num_layers,
        model.encoder().config().d_model,
        model.tokenizer().describe(),
        model.parameter_count(),
        data.len(),
        args.window_nt,
        width,
        held_out_count,
        model.tokenizer().masking_span()
    );
    let evaluate = || -> dnalm_train::Result<f64> {
        Ok(model.evaluate(&held_out_rows.ids, held_out_width, training.batch_size)?)
    };
    pretrain_loop(&model, &data, training, &run, &evaluate, args.window_nt)
}

/// The values of `key` logged in a run's `metrics.jsonl`, with their steps, in order.
pub fn logged_metric(run_dir: &Path, key: &str) -> Result<Vec<(u64, f64)>> {
    let path = run_dir.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|record| Some((record["step"].as_u64()?, record[key].as_f64()?)))
        .collect())
}

/// The median of the step times logged in a run's `metrics.jsonl`.
fn median_step_seconds(run: &RunDir) -> Result<Option<f64>> {
    let mut seconds: Vec<f64> = logged_metric(run.path(), "step_seconds")?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    seconds.sort_by(f64::total_cmp);
    Ok(seconds.get(seconds.len() / 2).copied())
}

/// End-to-end windows of `window_nt` nucleotides (with at most `max_n_fraction` N).
fn genome_windows(
    records: &[dnalm_seq::SeqRecord],
    window_nt: usize,
    max_n_fraction: f64,
) -> Result<Vec<&[u8]>> {
    let spec = WindowSpec {
        len: window_nt,
        stride: window_nt,
        max_n_fraction,
    };
    Ok(slice_windows(records.iter().map(|r| &r.seq[..]), &spec)?)
}

/// Training windows and held-out windows.
type WindowSplit<'b, 'a> = (&'b [&'a [u8]], &'b [&'a [u8]]);

/// Splits off the last 2% of the windows (at least one) for evaluation.
fn hold_out_last<'a, 'b>(windows: &'b [&'a [u8]], window_nt: usize) -> Result<WindowSplit<'b, 'a>> {
    let held_out_count = (windows.len() / 50).max(1);
    if windows.len() <= held_out_count {
        anyhow::bail!(
            "only {} windows of {window_nt} nt: too little data to hold out 2% for evaluation",
            windows.len()
        );
    }
    Ok(windows.split_at(windows.len() - held_out_count))
}

fn mxdna_config(args: &MxdnaArgs) -> Result<MxDnaConfig> {
    let config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{}: not an MxDNA configuration", path.display()))?
        }
        None => MxDnaConfig::preset(match args.preset {
            MxdnaPreset::Tiny => MxDnaPreset::Tiny,
            MxdnaPreset::Small => MxDnaPreset::Small,
            MxdnaPreset::Paper => MxDnaPreset::Paper,
        }),
    };
    config.check().map_err(anyhow::Error::msg)?;
    Ok(config)
}

fn train_mxdna(args: MxdnaArgs) -> Result<()> {
    let records = args.records.read()?;
    pretrain_mxdna(
        || mxdna_config(&args),
        &records,
        args.window_nt,
        args.max_n_fraction,
        &args.training,
    )
}

/// Pretrains MxDNA with masked LM on windows of `window_nt` nucleotides cut end to end
/// from the records (the last 2% held out): a new run of the configuration `config`
/// makes, or the run already in `training.out` resumed. Shows a progress bar and ends
/// with the throughput; the weights are in the run folder.
pub fn pretrain_mxdna(
    config: impl FnOnce() -> Result<MxDnaConfig>,
    records: &[dnalm_seq::SeqRecord],
    window_nt: usize,
    max_n_fraction: f64,
    training: &TrainingArgs,
) -> Result<()> {
    let device = Device::Cpu;
    let run = RunDir::create(&training.out)?;
    let model = if training.out.join("config.json").is_file() {
        let model = MxDnaLm::load(&training.out, &device).map_err(anyhow::Error::msg)?;
        eprintln!("resuming in {}", training.out.display());
        model
    } else {
        let model = MxDnaLm::new(config()?, training.seed, &device)?;
        model.save_run(&run).map_err(anyhow::Error::msg)?;
        model
    };
    let windows = genome_windows(records, window_nt, max_n_fraction)?;
    let (fit, held_out) = hold_out_last(&windows, window_nt)?;
    let rows = TokenRows::encode(model.tokenizer(), fit.iter().copied(), window_nt + 2);
    let width = rows.width;
    let data = WindowDataset::new(rows.ids, width);
    let held_out_rows = TokenRows::encode(model.tokenizer(), held_out.iter().copied(), width);
    let config = model.network().config();
    eprintln!(
        "MxDNA {} nucleotide + {} token layers x {} ({} experts of lengths {:?}, {} parameters): \
         {} training windows of {} nt, {} held out (the last 2%)",
        config.conversion_layer_idx,
        config.token_layers(),
        config.hidden_size,
        config.expert_kernel_sizes.len(),
        config.expert_kernel_sizes,
        model.parameter_count(),
        data.len(),
        window_nt,
        held_out.len()
    );
    let evaluate = || -> dnalm_train::Result<f64> {
        Ok(model.evaluate(&held_out_rows.ids, held_out_rows.width, training.batch_size)?)
    };
    pretrain_loop(&model, &data, training, &run, &evaluate, window_nt)
}

/// The loop of the masked-LM pretraining commands, then their throughput in nt/s.
fn pretrain_loop(
    model: &dyn Trainable,
    data: &WindowDataset,
    training: &TrainingArgs,
    run: &RunDir,
    evaluate: &dyn Fn() -> dnalm_train::Result<f64>,
    window_nt: usize,
) -> Result<()> {
    run_loop(
        model,
        data,
        training,
        run,
        evaluate,
        "held-out masked-LM loss",
        |l| l,
    )?;
    report_throughput(run, training, window_nt)
}

/// Prints nucleotides per second from the run's median step time.
fn report_throughput(run: &RunDir, training: &TrainingArgs, window_nt: usize) -> Result<()> {
    let nucleotides_per_step = (training.batch_size * training.accumulation * window_nt) as f64;
    if let Some(seconds) = median_step_seconds(run)? {
        eprintln!(
            "throughput: {:.0} nt/s ({} nt per step, median step {seconds:.3} s)",
            nucleotides_per_step / seconds,
            nucleotides_per_step
        );
    }
    Ok(())
}

/// The shared part of every training command: the loop with a progress bar, its
/// configuration written to the run folder, and how it ended.
fn run_loop(
    model: &dyn Trainable,
    data: &WindowDataset,
    training: &TrainingArgs,
    run: &RunDir,
    evaluate: &dyn Fn() -> dnalm_train::Result<f64>,
    eval_name: &str,
    shown: fn(f64) -> f64,
) -> Result<()> {
    let config = training.train_config();
    run.write_json("train_config.json", &config)?;
    let bar = progress::count_bar(training.steps, "training");
    let mut show = |state: &TrainerState, loss: f64| {
        bar.set_position(state.step);
        let best = state
            .best_eval_loss
            .map_or(String::from("-"), |l| format!("{:.4}", shown(l)));
        bar.set_message(format!("loss {loss:.4}, best {eval_name} {best}"));
    };
    let hooks = Hooks {
        evaluate,
        stop: stop_flag(),
        on_step: &mut show,
    };
    let outcome = train(model, data, &config, run, &Device::Cpu, hooks)?;
    bar.finish_and_clear();
    let verb = match outcome {
        Outcome::Finished => "finished".to_string(),
        Outcome::EarlyStopped => format!("stopped early ({eval_name} stopped improving)"),
        Outcome::Interrupted => "interrupted; run the same command to resume".to_string(),
    };
    eprintln!(
        "{verb}: {} (metrics.jsonl, checkpoint/, model.safetensors)",
        training.out.display()
    );
    Ok(())
}
