//! Transparent gzip decompression for readers that are not FASTA/FASTQ (needletail
//! already handles compression for those).

use std::io::{BufRead, BufReader, Read};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Wraps `raw` in a (multi-member) gzip decoder when it starts with the gzip magic
/// bytes, and returns it buffered either way.
pub fn maybe_gunzip(raw: impl Read + Send + 'static) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) {
        let decoder = flate2::read::MultiGzDecoder::new(buffered);
        Ok(Box::new(BufReader::with_capacity(1 << 16, decoder)))
    } else {
        Ok(Box::new(buffered))
    }
}
