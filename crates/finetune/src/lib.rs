//! The fine-tuning runner every front (the CLI, the Python package, programs of
//! yours) shares: a labelled [`task`], fine-tuned over several seeds with early
//! stopping on dev and one test evaluation of the best dev weights ([`runner`]), the
//! results per seed and over seeds ([`results`]), and the markdown tables of a
//! benchmark ([`report`]). Finished seeds are read back, an interrupted one resumes.

pub mod error;
pub mod metrics;
pub mod report;
pub mod results;
pub mod runner;
pub mod settings;
pub mod task;

pub use error::{FinetuneError, Result};
pub use results::{FinetuneResult, MeanSdRecord, SeedResult};
pub use runner::{finetune, FinetuneProgress, Quiet};
pub use settings::FinetuneSettings;
pub use task::Task;
