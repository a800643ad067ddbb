//! `dnalm export`: a dnalm MxDNA run, pretrained or fine-tuned (or any MxDNA dnalm
//! opens), as an authors' checkpoint folder, `config.json` and `model.safetensors`,
//! that the reference PyTorch code loads (`MxDNAForMaskedLM` or
//! `MxDNAForSequenceClassification`).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use dnalm_models::Model;
use dnalm_mxdna::reference_checkpoint::ReferenceNaming;

use crate::model_args::ModelArgs;

/// Arguments of `dnalm export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    model: ModelArgs,

    /// Parameter names of the reference version to write: ad3808d (the commit whose
    /// weights the authors released) or the full-model branch.
    #[arg(long, value_enum, default_value_t = NamingArg::Ad3808d)]
    naming: NamingArg,

    /// The folder to write (must not exist).
    #[arg(value_name = "OUT")]
    out: PathBuf,
}

/// The reference's naming variants on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NamingArg {
    /// motif_layers, depthwise_conv, norm.norm (commit ad3808d).
    Ad3808d,
    /// token_layers, grouped_conv, norm (branch full-model).
    FullModel,
}

impl ExportArgs {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let loaded = self.model.open()?;
        let naming = match self.naming {
            NamingArg::Ad3808d => ReferenceNaming::Ad3808d,
            NamingArg::FullModel => ReferenceNaming::FullModel,
        };
        match loaded.model() {
            Model::Mxdna(model) => model.export(&self.out, naming)?,
            Model::MxdnaClassifier(model) => model.export(&self.out, naming)?,
            _ => bail!(
                "`{}` is a {} model; dnalm export writes MxDNA models in the authors' \
                 layout, which mxdna and mxdna-classifier models are",
                loaded.path().display(),
                loaded.kind()
            ),
        }
        eprintln!(
            "wrote {} (config.json, model.safetensors; {naming:?} names)",
            self.out.display()
        );
        Ok(())
    }
}
