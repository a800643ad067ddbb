//! numpy's `.npy` format for a float32 matrix (format version 1.0: magic, a header
//! dictionary padded to 64 bytes, the values little-endian in row order), written to
//! any writer so that callers can write it atomically.

use std::io::Write;

/// Writes a `rows x columns` float32 matrix (`values` in row order) as `.npy`.
pub fn write_f32_matrix(
    out: &mut dyn Write,
    values: &[f32],
    rows: usize,
    columns: usize,
) -> std::io::Result<()> {
    if values.len() != rows * columns {
        return Err(std::io::Error::other(format!(
            "{} values for a {rows} x {columns} matrix",
            values.len()
        )));
    }
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}");
    // Magic (6) + version (2) + length (2) + header + newline, a multiple of 64.
    let total = (10 + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for value in values {
        out.write_all(&value.to_le_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_values() {
        let mut bytes = Vec::new();
        write_f32_matrix(&mut bytes, &[1.0, 2.0, 3.0, 4.5, 5.0, 6.0], 2, 3).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
        assert!(header.ends_with('\n'));
        let values: Vec<f32> = bytes[10 + header_len..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(values, [1.0, 2.0, 3.0, 4.5, 5.0, 6.0]);
        assert!(write_f32_matrix(&mut Vec::new(), &[1.0], 2, 2).is_err());
    }
}
