//! `dnalm._dnalm`, the native half of the `dnalm` Python package: every model the
//! registry opens ([`model::Model`], with its capabilities as methods), tokenizers,
//! the sequence and VCF readers. Long computations release the GIL; errors are Python
//! exceptions carrying the library's messages. The Python half (`python/dnalm`) adds
//! the Ray actors.

mod errors;
mod model;
mod readers;
mod sequences;
mod tokenizer;
mod training;

use pyo3::prelude::*;

/// mimalloc, as in the `dnalm` binary: candle's large temporaries cost much system
/// time in the default allocator.
#[global_allocator]
static ALLOCATOR: dnalm_nn::allocator::Allocator = dnalm_nn::allocator::Allocator;

/// The native module.
#[pymodule]
fn _dnalm(m: &Bound<'_, PyModule>) -> PyResult<()> {
    dnalm_nn::allocator::configure();
    m.add("DnalmError", m.py().get_type::<errors::DnalmError>())?;
    m.add_function(wrap_pyfunction!(model::load, m)?)?;
    m.add_class::<model::Model>()?;
    m.add_class::<tokenizer::Tokenizer>()?;
    m.add_function(wrap_pyfunction!(readers::read_sequences, m)?)?;
    m.add_function(wrap_pyfunction!(readers::vcf_variants, m)?)?;
    m.add_function(wrap_pyfunction!(training::_train, m)?)?;
    m.add_function(wrap_pyfunction!(training::_finetune, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
