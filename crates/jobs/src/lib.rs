//! The training jobs every dnalm front end runs, so that the command line and the
//! Python package train with the same settings and the same code: an autoregressive
//! language model ([`lm`]), a BERT-style masked LM ([`mlm`]) and MxDNA ([`mxdna`]),
//! each a new run folder or the one already there resumed. Settings ([`settings`])
//! hold the command line's defaults and are checked before anything is written;
//! progress goes through a trait the front implements ([`progress`]).

pub mod error;
pub mod lm;
pub mod mlm;
pub mod mxdna;
pub mod progress;
mod run_loop;
pub mod settings;

pub use error::{JobsError, Result};
pub use progress::{TrainReport, TrainingProgress};
pub use settings::{GenomeWindows, TrainingSettings};
