//! Sequences from Python: one `str` or `bytes`, or any iterable of them (a list, a
//! numpy array of `S` or `U` strings, a pandas column), normalised by the same policy
//! as files (upper case `ACGTN`, IUPAC codes to `N`); anything else is a `ValueError`
//! naming the sequence and the position.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

/// One sequence's raw bytes, from a `str` or `bytes` (numpy's `str_` and `bytes_`
/// included).
fn raw_bytes(item: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(text) = item.cast::<PyString>() {
        return Ok(text.to_str()?.as_bytes().to_vec());
    }
    if let Ok(bytes) = item.cast::<PyBytes>() {
        return Ok(bytes.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "a sequence is a str or bytes, not {}",
        item.get_type().name()?
    )))
}

/// Normalises sequence number `index` (0-based) for a model.
fn normalized(raw: &[u8], index: usize) -> PyResult<Vec<u8>> {
    dnalm_seq::alphabet::normalize(raw)
        .map_err(|bad| PyValueError::new_err(format!("sequence {index}: {bad}")))
}

/// The sequences of `value`: a single one, or every item of an iterable.
pub fn sequences(value: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    if value.is_instance_of::<PyString>() || value.is_instance_of::<PyBytes>() {
        return Ok(vec![normalized(&raw_bytes(value)?, 0)?]);
    }
    let items = value.try_iter().map_err(|_| {
        PyTypeError::new_err("sequences are a str or bytes, or an iterable of them")
    })?;
    let mut out = Vec::new();
    for (index, item) in items.enumerate() {
        out.push(normalized(&raw_bytes(&item?)?, index)?);
    }
    Ok(out)
}

/// Exactly one sequence.
pub fn one_sequence(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    normalized(&raw_bytes(value)?, 0)
}

/// Borrowed slices of owned sequences.
pub fn slices(seqs: &[Vec<u8>]) -> Vec<&[u8]> {
    seqs.iter().map(Vec::as_slice).collect()
}
