//! Special tokens. Every dnalm tokenizer puts them first, with the same ids, so models
//! and masking code never depend on which tokenizer is in use.

/// Padding.
pub const PAD: u32 = 0;
/// Unknown (for example a k-mer containing `N`).
pub const UNK: u32 = 1;
/// Start of sequence (classification token).
pub const CLS: u32 = 2;
/// End of sequence.
pub const SEP: u32 = 3;
/// Masked-LM mask.
pub const MASK: u32 = 4;
/// Number of special tokens; ordinary tokens start at this id.
pub const COUNT: u32 = 5;
/// The special tokens' strings, indexed by id.
pub const NAMES: [&str; COUNT as usize] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// The id of a special token's string.
pub fn id_of(token: &str) -> Option<u32> {
    NAMES
        .iter()
        .position(|name| *name == token)
        .map(|id| id as u32)
}
