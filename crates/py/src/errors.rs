//! How library errors reach Python: as `dnalm.DnalmError` with the same message the
//! command line prints.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::PyErr;

create_exception!(
    _dnalm,
    DnalmError,
    PyException,
    "A dnalm operation failed; the message is the one the command line prints."
);

/// Any library error as a [`DnalmError`].
pub fn dnalm_error(err: impl std::fmt::Display) -> PyErr {
    DnalmError::new_err(err.to_string())
}
