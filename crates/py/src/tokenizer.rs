//! `dnalm.Tokenizer`: the fixed tokenizers (single nucleotide, k-mers, BPE) as the
//! models use them.

use std::path::PathBuf;

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::prelude::*;

use crate::errors::dnalm_error;
use crate::sequences::one_sequence;

/// Token ids `(n,)` and their nucleotide spans `(n, 2)`.
type IdsAndSpans<'py> = (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray2<i64>>);

/// A tokenizer.
#[pyclass(frozen, module = "dnalm")]
pub struct Tokenizer {
    inner: Box<dyn dnalm_tokenize::Tokenizer>,
}

#[pymethods]
impl Tokenizer {
    /// Reads a `tokenizer.json` (dnalm's, or a Hugging Face BPE file dnalm wrote).
    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Self> {
        Ok(Self {
            inner: dnalm_tokenize::load(&path).map_err(dnalm_error)?,
        })
    }

    /// A named tokenizer (`nucleotide`, `kmer6`, `kmer6-tiled`) or a tokenizer.json
    /// path, as `dnalm train --tokenizer` takes it.
    #[staticmethod]
    fn by_name(name: &str) -> PyResult<Self> {
        Ok(Self {
            inner: dnalm_tokenize::by_name(name).map_err(dnalm_error)?,
        })
    }

    /// Tokens in the vocabulary, the 5 special ones included.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    /// A short description.
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn __repr__(&self) -> String {
        format!("dnalm.Tokenizer({})", self.inner.describe())
    }

    /// The ids (uint32 `(n,)`) and nucleotide spans (int64 `(n, 2)`, start and end)
    /// of one sequence's tokens; with `special`, wrapped in `[CLS] ... [SEP]` (whose
    /// spans are empty).
    #[pyo3(signature = (seq, special = false))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        seq: &Bound<'py, PyAny>,
        special: bool,
    ) -> PyResult<IdsAndSpans<'py>> {
        let seq = one_sequence(seq)?;
        let encoding = if special {
            self.inner.encode_with_special(&seq)
        } else {
            self.inner.encode(&seq)
        };
        let spans: Vec<i64> = encoding
            .spans
            .iter()
            .flat_map(|s| [s.start as i64, s.end as i64])
            .collect();
        let spans = Array2::from_shape_vec((encoding.len(), 2), spans).map_err(dnalm_error)?;
        Ok((encoding.ids.into_pyarray(py), spans.into_pyarray(py)))
    }

    /// The nucleotides of token ids (special tokens dropped, `[UNK]` as `N`).
    fn decode(&self, ids: Vec<u32>) -> PyResult<String> {
        let bytes = self.inner.decode(&ids).map_err(dnalm_error)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}
