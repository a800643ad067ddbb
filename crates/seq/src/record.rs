//! One sequence with its identifier and optional label.

/// A sequence record after normalisation: `seq` holds only upper-case `A C G T N`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SeqRecord {
    /// Identifier: the first word of a FASTA/FASTQ header, or a table's id column (or
    /// `row<N>` when the table has none).
    pub id: String,
    /// Normalised sequence (`A C G T N`).
    pub seq: Vec<u8>,
    /// Class or value label, when the source has one.
    pub label: Option<String>,
}

impl SeqRecord {
    /// Number of nucleotides.
    pub fn len(&self) -> usize {
        self.seq.len()
    }

    /// Whether the sequence is empty.
    pub fn is_empty(&self) -> bool {
        self.seq.is_empty()
    }
}
