//! `dnalm.Model`: whatever the registry opens (an n-gram file, any run folder, a
//! fine-tuned seed folder, an authors' MxDNA checkpoint folder), with each capability as
//! a method. A method the model's kind lacks raises `DnalmError` with the registry's
//! message. Every computation runs with the GIL released.

use std::path::PathBuf;

use dnalm_eval::perplexity::score_all;
use dnalm_models::{open, LoadedModel, OpenOptions};
use dnalm_nn::device::DeviceSpec;
use dnalm_nn::embedding::{embed_all, EmbedOptions, EmbeddingStates};
use dnalm_nn::heads::Pooling;
use dnalm_nn::masked_scoring::Masking;
use dnalm_nn::supervised::Objective;
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::dnalm_error;
use crate::sequences::{one_sequence, sequences, slices};

/// Variants handed to the scorer at a time (as `dnalm eval variants` does).
const VARIANTS_PER_CALL: usize = 256;

/// Opens a model: an n-gram file, a run folder of `dnalm train lm|mlm|mxdna`, a
/// fine-tuned `seed<N>` folder, or an authors' MxDNA checkpoint folder; its weights on
/// `device` (`cpu`, `cuda`, `cuda:N`).
#[pyfunction]
#[pyo3(signature = (path, smoothing = None, device = "cpu"))]
pub fn load(
    py: Python<'_>,
    path: PathBuf,
    smoothing: Option<String>,
    device: &str,
) -> PyResult<Model> {
    let smoothing = smoothing
        .map(|s| {
            s.parse()
                .map_err(|e| PyValueError::new_err(format!("smoothing: {e}")))
        })
        .transpose()?;
    let device: DeviceSpec = device
        .parse()
        .map_err(|e| PyValueError::new_err(format!("device: {e}")))?;
    let options = OpenOptions {
        smoothing,
        device: device.open().map_err(dnalm_error)?,
    };
    let loaded = py.detach(|| open(&path, &options)).map_err(dnalm_error)?;
    Ok(Model { loaded })
}

/// A model of any kind.
#[pyclass(frozen, module = "dnalm")]
pub struct Model {
    loaded: LoadedModel,
}

/// Which method is asking, as refusals name it.
fn asked(method: &str) -> String {
    format!("Model.{method}")
}

#[pymethods]
impl Model {
    /// The model's kind: ngram, lstm, gpt, bert, mxdna, bert-classifier,
    /// bag-of-tokens or mxdna-classifier.
    #[getter]
    fn kind(&self) -> String {
        self.loaded.kind().to_string()
    }

    /// Where it was opened from.
    #[getter]
    fn path(&self) -> PathBuf {
        self.loaded.path().to_path_buf()
    }

    /// A one-line description.
    fn describe(&self) -> String {
        self.loaded.describe()
    }

    fn __repr__(&self) -> String {
        format!(
            "dnalm.Model({:?}, kind={}, {})",
            self.loaded.path().display().to_string(),
            self.loaded.kind(),
            self.loaded.describe()
        )
    }

    /// The class labels of a fine-tuned classifier (None for a regression model or a
    /// model that predicts nothing).
    #[getter]
    fn labels(&self) -> Option<Vec<String>> {
        match self.loaded.model().predictor()?.objective() {
            Objective::Classification { labels } => Some(labels.clone()),
            Objective::Regression => None,
        }
    }

    /// Natural-log likelihood of each sequence, float64 `(N,)`: exact for n-gram,
    /// LSTM and decoder models (the end of the sequence included, `L + 1` events),
    /// the pseudo-log-likelihood for masked models (`L` events).
    fn log_likelihood<'py>(
        &self,
        py: Python<'py>,
        seqs: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let model = self
            .loaded
            .sequence_model(&asked("log_likelihood"))
            .map_err(dnalm_error)?;
        let seqs = sequences(seqs)?;
        let scores = py.detach(|| -> PyResult<Vec<f64>> {
            // Batched by length, as `dnalm eval perplexity` does.
            let scores = score_all(model, &slices(&seqs), &|_| {}).map_err(dnalm_error)?;
            Ok(scores.iter().map(|s| s.log_prob).collect())
        })?;
        Ok(scores.into_pyarray(py))
    }

    /// Per-nucleotide natural-log probabilities of each sequence, a list of float64
    /// `(L,)` arrays: `ln p(x_i | x_<i)` for autoregressive models, the masked
    /// conditional `ln p(x_i | the rest)` for masked ones (one token hidden per row,
    /// or the tokens `mask_spacing` apart together). NaN where a model scores no
    /// nucleotide (`N` for n-grams). For whole chromosomes use `dnalm score`.
    #[pyo3(signature = (seqs, mask_spacing = None))]
    fn position_scores<'py>(
        &self,
        py: Python<'py>,
        seqs: &Bound<'py, PyAny>,
        mask_spacing: Option<usize>,
    ) -> PyResult<Vec<Bound<'py, PyArray1<f64>>>> {
        let scoring = self
            .loaded
            .position_scoring(&asked("position_scores"))
            .map_err(dnalm_error)?;
        let masking = match mask_spacing {
            None => Masking::OnePerRow,
            Some(0) => return Err(PyValueError::new_err("mask_spacing must be at least 1")),
            Some(k) => Masking::Spaced(k),
        };
        let seqs = sequences(seqs)?;
        let values = py.detach(|| {
            let windows: Vec<(&[u8], std::ops::Range<usize>)> =
                seqs.iter().map(|s| (&s[..], 0..s.len())).collect();
            scoring.score(&windows, masking)
        });
        Ok(values
            .map_err(dnalm_error)?
            .into_iter()
            .map(|v| v.into_pyarray(py))
            .collect())
    }

    /// Zero-shot variant-effect scores of `alt` against `ref` (equal-length lists of
    /// sequences), float64 `(N,)`: the exact log-likelihood ratio of autoregressive
    /// models, the masked marginal of masked ones. Negative: the model finds the
    /// alternate less likely.
    #[pyo3(name = "variant_scores")]
    fn variant_scores<'py>(
        &self,
        py: Python<'py>,
        r#ref: &Bound<'py, PyAny>,
        alt: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let scoring = self
            .loaded
            .variant_scoring(&asked("variant_scores"))
            .map_err(dnalm_error)?;
        let (references, alternates) = (sequences(r#ref)?, sequences(alt)?);
        if references.len() != alternates.len() {
            return Err(PyValueError::new_err(format!(
                "{} reference and {} alternate sequences; they come in pairs",
                references.len(),
                alternates.len()
            )));
        }
        let scores = py.detach(|| -> PyResult<Vec<f64>> {
            let pairs: Vec<(&[u8], &[u8])> = references
                .iter()
                .zip(&alternates)
                .map(|(r, a)| (&r[..], &a[..]))
                .collect();
            let mut out = Vec::with_capacity(pairs.len());
            for chunk in pairs.chunks(VARIANTS_PER_CALL) {
                out.extend(scoring.score_batch(chunk).map_err(dnalm_error)?);
            }
            Ok(out)
        })?;
        Ok(scores.into_pyarray(py))
    }

    /// Embeddings, float32 `(N, d)`: the mean over the real tokens or the `[CLS]`
    /// state (`pooling`), of the final token states or (MxDNA) the nucleotide-level
    /// states (`states`); inputs longer than `max_tokens` tokens are cut.
    #[pyo3(signature = (seqs, pooling = "mean", states = "tokens", max_tokens = 512, batch_size = 32))]
    fn embed<'py>(
        &self,
        py: Python<'py>,
        seqs: &Bound<'py, PyAny>,
        pooling: &str,
        states: &str,
        max_tokens: usize,
        batch_size: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let model = self.loaded.embedder(&asked("embed")).map_err(dnalm_error)?;
        let options = EmbedOptions {
            pooling: match pooling {
                "mean" => Pooling::Mean,
                "cls" => Pooling::Cls,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "pooling is \"mean\" or \"cls\", not {other:?}"
                    )))
                }
            },
            states: match states {
                "tokens" => EmbeddingStates::Tokens,
                "nucleotides" => EmbeddingStates::Nucleotides,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "states is \"tokens\" or \"nucleotides\", not {other:?}"
                    )))
                }
            },
            max_tokens: positive("max_tokens", max_tokens)?,
        };
        let batch_size = positive("batch_size", batch_size)?;
        let seqs = sequences(seqs)?;
        let dim = model.embedding_dim();
        let values = py.detach(|| -> PyResult<Vec<f32>> {
            let embeddings = embed_all(model, &slices(&seqs), &options, batch_size, &|_| {})
                .map_err(dnalm_error)?;
            embeddings
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(dnalm_error)
        })?;
        matrix(py, values, seqs.len(), dim)
    }

    /// Predictions of a fine-tuned model, float32 `(N, classes)` probabilities in the
    /// order of `labels` (or `(N, 1)` values for regression).
    #[pyo3(signature = (seqs, max_tokens = 512, batch_size = 32))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        seqs: &Bound<'py, PyAny>,
        max_tokens: usize,
        batch_size: usize,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let outputs = self
            .loaded
            .predictor(&asked("predict"))
            .map_err(dnalm_error)?
            .objective()
            .outputs();
        let (max_tokens, batch_size) = (
            positive("max_tokens", max_tokens)?,
            positive("batch_size", batch_size)?,
        );
        let seqs = sequences(seqs)?;
        let values = py.detach(|| -> PyResult<Vec<f32>> {
            // The loaded model crosses into the released section; its predictor is
            // taken there.
            let model = self
                .loaded
                .predictor(&asked("predict"))
                .map_err(dnalm_error)?;
            let mut values = Vec::with_capacity(seqs.len() * outputs);
            for chunk in slices(&seqs).chunks(batch_size) {
                let rows = model.input_rows(chunk, max_tokens);
                for row in model.predict(&rows, batch_size).map_err(dnalm_error)? {
                    values.extend(row.iter().map(|&p| p as f32));
                }
            }
            Ok(values)
        })?;
        matrix(py, values, seqs.len(), outputs)
    }

    /// An MxDNA model's learnt tokens of one sequence: `(start, end, expert)` per
    /// token in sequence coordinates (the unit's length is its expert's kernel size);
    /// a sequence longer than `max_tokens - 2` nucleotides is cut.
    #[pyo3(signature = (seq, max_tokens = 512))]
    fn learnt_tokens(
        &self,
        py: Python<'_>,
        seq: &Bound<'_, PyAny>,
        max_tokens: usize,
    ) -> PyResult<Vec<(usize, usize, usize)>> {
        let model = self
            .loaded
            .learnt_tokenizer(&asked("learnt_tokens"))
            .map_err(dnalm_error)?;
        let seq = one_sequence(seq)?;
        let max_tokens = positive("max_tokens", max_tokens)?;
        let learnt = py
            .detach(|| model.learnt_tokens(&[&seq], max_tokens))
            .map_err(dnalm_error)?;
        Ok(learnt[0]
            .tokens
            .iter()
            .map(|t| (t.start, t.end, t.expert))
            .collect())
    }

    /// `count` sequences sampled after `prompt` (each at most `max_len` nucleotides
    /// beyond it), the distribution raised to `1 / temperature`; seeded.
    #[pyo3(signature = (count = 1, max_len = 1000, temperature = 1.0, seed = 0, prompt = ""))]
    fn generate(
        &self,
        py: Python<'_>,
        count: usize,
        max_len: usize,
        temperature: f64,
        seed: u64,
        prompt: &str,
    ) -> PyResult<Vec<String>> {
        let (generator, _) = self
            .loaded
            .generator(&asked("generate"))
            .map_err(dnalm_error)?;
        if !(temperature > 0.0 && temperature.is_finite()) {
            return Err(PyValueError::new_err(format!(
                "temperature must be positive, got {temperature}"
            )));
        }
        let prompt = dnalm_seq::alphabet::normalize(prompt.as_bytes())
            .map_err(|bad| PyValueError::new_err(format!("prompt: {bad}")))?;
        Ok(py.detach(|| {
            let mut rng = dnalm_seq::seeded_rng(seed);
            (0..count)
                .map(|_| {
                    let sample = generator.generate(&prompt, max_len, temperature, &mut rng);
                    String::from_utf8_lossy(&sample).into_owned()
                })
                .collect()
        }))
    }
}

/// A count that must be at least 1.
fn positive(name: &str, value: usize) -> PyResult<usize> {
    if value == 0 {
        Err(PyValueError::new_err(format!("{name} must be at least 1")))
    } else {
        Ok(value)
    }
}

/// `rows x columns` values as a 2-D numpy array.
fn matrix<'py>(
    py: Python<'py>,
    values: Vec<f32>,
    rows: usize,
    columns: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    Ok(Array2::from_shape_vec((rows, columns), values)
        .map_err(dnalm_error)?
        .into_pyarray(py))
}
