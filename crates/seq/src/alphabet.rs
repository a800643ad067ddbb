//! The nucleotide alphabet and the policy that normalises raw sequence bytes.
//!
//! Policy: `A C G T` in either case are kept (upper-cased; soft-masking is dropped and
//! counted), `N`/`n` is kept as `N`, the IUPAC ambiguity codes `R Y S W K M B D H V`
//! become `N` (counted, so the caller can warn), line breaks (`\n`, `\r`) are skipped,
//! and anything else is an error naming the position.

/// Code of `A` in 2-bit encodings.
pub const CODE_A: u8 = 0;
/// Code of `C` in 2-bit encodings.
pub const CODE_C: u8 = 1;
/// Code of `G` in 2-bit encodings.
pub const CODE_G: u8 = 2;
/// Code of `T` in 2-bit encodings.
pub const CODE_T: u8 = 3;
/// Code of `N` (unknown base); outside the 2-bit range.
pub const CODE_N: u8 = 4;

/// The normalised symbols, indexed by code.
pub const SYMBOLS: [u8; 5] = *b"ACGTN";

/// What the normalisation table says about one raw byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Kept as this upper-case symbol.
    Keep(u8),
    /// Lower-case (soft-masked) base, kept as this upper-case symbol.
    SoftMasked(u8),
    /// IUPAC ambiguity code, becomes `N`.
    Ambiguous,
    /// Line break, skipped.
    Skip,
    /// Not allowed.
    Invalid,
}

const fn class_of(byte: u8) -> Class {
    match byte {
        b'A' | b'C' | b'G' | b'T' | b'N' => Class::Keep(byte),
        b'a' | b'c' | b'g' | b't' | b'n' => Class::SoftMasked(byte.to_ascii_uppercase()),
        b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' | b'r' | b'y'
        | b's' | b'w' | b'k' | b'm' | b'b' | b'd' | b'h' | b'v' => Class::Ambiguous,
        b'\n' | b'\r' => Class::Skip,
        _ => Class::Invalid,
    }
}

const CLASSES: [Class; 256] = {
    let mut table = [Class::Invalid; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = class_of(byte as u8);
        byte += 1;
    }
    table
};

/// Code (0..=4) of each byte as a normalised symbol; bytes other than `ACGT` are `N`.
const CODES: [u8; 256] = {
    let mut table = [CODE_N; 256];
    table[b'A' as usize] = CODE_A;
    table[b'C' as usize] = CODE_C;
    table[b'G' as usize] = CODE_G;
    table[b'T' as usize] = CODE_T;
    table
};

/// Maps a normalised symbol (`ACGTN`) to its code (0..=4); other bytes map to `CODE_N`.
#[inline]
pub const fn code_of(symbol: u8) -> u8 {
    CODES[symbol as usize]
}

/// Counts of the changes normalisation made, for warnings.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct NormalizationReport {
    /// IUPAC ambiguity codes that were turned into `N`.
    pub ambiguous_to_n: u64,
    /// Lower-case (soft-masked) bases that were upper-cased.
    pub soft_masked: u64,
    /// Records with no nucleotide other than `N` (nothing a model can learn or score).
    pub all_n_records: u64,
}

impl NormalizationReport {
    /// Adds another report's counts to this one.
    pub fn merge(&mut self, other: NormalizationReport) {
        self.ambiguous_to_n += other.ambiguous_to_n;
        self.soft_masked += other.soft_masked;
        self.all_n_records += other.all_n_records;
    }

    /// Counts a finished record (normalised) that is all `N`.
    pub fn count_record(&mut self, seq: &[u8]) {
        if seq.iter().all(|&b| b == b'N') {
            self.all_n_records += 1;
        }
    }
}

/// The first byte that normalisation rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidByte {
    /// 0-based position in the normalised sequence (counting from the start of this
    /// call's output) where it would have gone.
    pub position: usize,
    /// The byte.
    pub byte: u8,
}

impl std::fmt::Display for InvalidByte {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid character {:?} at position {}; expected A, C, G, T, N or an IUPAC code",
            self.byte as char,
            self.position + 1
        )
    }
}

impl std::error::Error for InvalidByte {}

/// The normalised form of a short sequence given by hand (a prompt, a test string).
pub fn normalize(raw: &[u8]) -> Result<Vec<u8>, InvalidByte> {
    let mut out = Vec::with_capacity(raw.len());
    normalize_into(raw, &mut out, &mut NormalizationReport::default())?;
    Ok(out)
}

/// Appends the normalised form of `raw` (upper-case `ACGTN`, line breaks removed) to
/// `out`, adding what it changed to `report`.
///
/// Fast path: `raw` is split into lines with `memchr`, and a line that is already
/// upper-case `ACGTN` (the usual case) is checked with a branch-free, vectorisable scan
/// and copied whole. Other lines go through the byte-by-byte table.
pub fn normalize_into(
    raw: &[u8],
    out: &mut Vec<u8>,
    report: &mut NormalizationReport,
) -> Result<(), InvalidByte> {
    out.reserve(raw.len());
    let start = out.len();
    let mut rest = raw;
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if is_normalized(line) {
            out.extend_from_slice(line);
        } else {
            normalize_slow(line, out, report).map_err(|bad| InvalidByte {
                position: bad.position - start,
                byte: bad.byte,
            })?;
        }
        rest = next;
    }
    Ok(())
}

/// Whether every byte is one of `A C G T N` (no early exit, so it vectorises).
fn is_normalized(bytes: &[u8]) -> bool {
    bytes.iter().fold(true, |ok, &b| {
        ok & ((b == b'A') | (b == b'C') | (b == b'G') | (b == b'T') | (b == b'N'))
    })
}

fn normalize_slow(
    raw: &[u8],
    out: &mut Vec<u8>,
    report: &mut NormalizationReport,
) -> Result<(), InvalidByte> {
    for &byte in raw {
        match CLASSES[byte as usize] {
            Class::Keep(symbol) => out.push(symbol),
            Class::SoftMasked(symbol) => {
                report.soft_masked += 1;
                out.push(symbol);
            }
            Class::Ambiguous => {
                report.ambiguous_to_n += 1;
                out.push(b'N');
            }
            Class::Skip => {}
            Class::Invalid => {
                return Err(InvalidByte {
                    position: out.len(),
                    byte,
                })
            }
        }
    }
    Ok(())
}

/// The complement of a normalised symbol (`N` stays `N`).
pub const fn complement(symbol: u8) -> u8 {
    match symbol {
        b'A' => b'T',
        b'C' => b'G',
        b'G' => b'C',
        b'T' => b'A',
        other => other,
    }
}

/// The reverse complement of a normalised sequence.
pub fn reverse_complement(seq: &[u8]) -> Vec<u8> {
    seq.iter().rev().map(|&s| complement(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(raw: &[u8]) -> Result<(Vec<u8>, NormalizationReport), InvalidByte> {
        let mut out = Vec::new();
        let mut report = NormalizationReport::default();
        normalize_into(raw, &mut out, &mut report)?;
        Ok((out, report))
    }

    #[test]
    fn keeps_bases_uppercases_soft_masked_and_counts() {
        let (seq, report) = normalize(b"ACgtNn\r\nAC").unwrap();
        assert_eq!(seq, b"ACGTNNAC");
        let (seq, _) = normalize(b"ACGT\r\nNNNN\n\nTT\n").unwrap();
        assert_eq!(seq, b"ACGTNNNNTT");
        assert_eq!(report.soft_masked, 3);
        assert_eq!(report.ambiguous_to_n, 0);
    }

    #[test]
    fn iupac_codes_become_n_and_are_counted() {
        let (seq, report) = normalize(b"ARYSWKMBDHVryc").unwrap();
        assert_eq!(seq, b"ANNNNNNNNNNNNC");
        assert_eq!(report.ambiguous_to_n, 12);
    }

    #[test]
    fn invalid_byte_reports_its_position_in_the_sequence() {
        let err = normalize(b"AC\nGT*A").unwrap_err();
        assert_eq!(
            err,
            InvalidByte {
                position: 4,
                byte: b'*'
            }
        );
        assert!(normalize(b"ACGU").is_err(), "RNA's U is not DNA");
    }

    #[test]
    fn reverse_complement_by_hand() {
        assert_eq!(reverse_complement(b"AACGTN"), b"NACGTT");
        assert_eq!(
            reverse_complement(&reverse_complement(b"GATTACA")),
            b"GATTACA"
        );
    }
}
