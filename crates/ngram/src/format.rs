//! The binary model file (`.dnalm-ngram`), little-endian throughout:
//!
//! ```text
//! magic "DNALM-NG" | version u32 (1) | order u32 | smoothing u8 (0 MLE, 1 add-k, 2 KN) | k f64
//! Kneser-Ney discounts: for each order 1..=n, D1 D2 D3+ as f64
//! for each order 1..=n:
//!     plain entries u64    | entries of (context u64, counts 5 x u64), sorted by context
//!     anchored entries u64 | entries likewise
//! xxh3-64 of everything above, u64
//! ```
//!
//! The discounts are stored because they may have been tuned on held-out data. A
//! truncated or altered file fails its checksum and is rejected with a clear error.

use std::path::Path;

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_64;

use crate::counting::{NgramCounts, MAX_ORDER};
use crate::error::{NgramError, Result};
use crate::history::OUTCOMES;
use crate::model::NgramModel;
use crate::smoothing::{Discounts, Smoothing};
use crate::table::{Counts, OrderCounts, Table};

/// The first bytes of an n-gram model file.
pub const MAGIC: &[u8; 8] = b"DNALM-NG";
const VERSION: u32 = 1;

fn put_entries<'a>(out: &mut Vec<u8>, entries: impl ExactSizeIterator<Item = (u64, &'a Counts)>) {
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (context, counts) in entries {
        out.extend_from_slice(&context.to_le_bytes());
        for count in counts {
            out.extend_from_slice(&count.to_le_bytes());
        }
    }
}

/// The file's bytes for a model.
pub fn to_bytes(model: &NgramModel) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(model.order() as u32).to_le_bytes());
    let (tag, k) = match model.smoothing() {
        Smoothing::Mle => (0u8, 0.0),
        Smoothing::AddK { k } => (1, k),
        Smoothing::KneserNey => (2, 0.0),
    };
    out.push(tag);
    out.extend_from_slice(&k.to_le_bytes());
    for discounts in model.discounts() {
        for discount in discounts.0 {
            out.extend_from_slice(&discount.to_le_bytes());
        }
    }
    for order in &model.counts().orders {
        let plain = order.plain.sorted_nonzero();
        put_entries(&mut out, plain.iter().map(|(k, c)| (*k, c)));
        let mut anchored: Vec<(u64, &Counts)> =
            order.anchored.iter().map(|(&k, c)| (k, c)).collect();
        anchored.sort_unstable_by_key(|(k, _)| *k);
        put_entries(&mut out, anchored.into_iter());
    }
    let checksum = xxh3_64(&out);
    out.extend_from_slice(&checksum.to_le_bytes());
    out
}

/// Writes a model file atomically.
pub fn save(model: &NgramModel, path: &Path) -> Result<()> {
    let bytes = to_bytes(model);
    dnalm_seq::atomic::write_atomic(path, |out| out.write_all(&bytes)).map_err(|source| {
        NgramError::Io {
            file: path.to_path_buf(),
            source,
        }
    })
}

/// Reads a model file.
pub fn load(path: &Path) -> Result<NgramModel> {
    let bytes = std::fs::read(path).map_err(|source| NgramError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    from_bytes(&bytes).map_err(|message| NgramError::Format {
        file: path.to_path_buf(),
        message,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Reader<'_> {
    fn take(&mut self, len: usize) -> Result<&[u8], String> {
        let end = self
            .position
            .checked_add(len)
            .filter(|&end| end <= self.bytes.len());
        let end = end.ok_or_else(|| "the file ends early (truncated?)".to_string())?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// A table's entries: contexts strictly increasing (as written), each count at
    /// most [`MAX_ENTRY_COUNT`], so that no sum of them can overflow.
    fn entries(&mut self) -> Result<Vec<(u64, Counts)>, String> {
        let count = self.u64()? as usize;
        if count.saturating_mul(8 * (OUTCOMES + 1)) > self.bytes.len() {
            return Err(format!("an entry count of {count} is larger than the file"));
        }
        let mut previous: Option<u64> = None;
        (0..count)
            .map(|_| {
                let context = self.u64()?;
                if previous.is_some_and(|p| p >= context) {
                    return Err(format!(
                        "context {context:#x} is out of order (entries are written sorted, once each)"
                    ));
                }
                previous = Some(context);
                let mut counts = [0u64; OUTCOMES];
                for count in &mut counts {
                    *count = self.u64()?;
                    if *count > MAX_ENTRY_COUNT {
                        return Err(format!(
                            "context {context:#x}: a count of {count} is more than any corpus gives"
                        ));
                    }
                }
                Ok((context, counts))
            })
            .collect()
    }
}

/// The largest count an entry may hold (2^40, a hundred times the nucleotides of all
/// sequenced genomes): sums of counts then fit in 64 bits.
const MAX_ENTRY_COUNT: u64 = 1 << 40;

/// Parses a model file's bytes.
pub fn from_bytes(bytes: &[u8]) -> Result<NgramModel, String> {
    if bytes.len() < MAGIC.len() + 8 || &bytes[..MAGIC.len()] != MAGIC {
        return Err("it does not start with the dnalm n-gram magic bytes".into());
    }
    let (body, checksum) = bytes.split_at(bytes.len() - 8);
    if xxh3_64(body) != u64::from_le_bytes(checksum.try_into().expect("8 bytes")) {
        return Err("checksum mismatch: the file is truncated or damaged".into());
    }
    let mut reader = Reader {
        bytes: body,
        position: MAGIC.len(),
    };
    let version = reader.u32()?;
    if version != VERSION {
        return Err(format!(
            "file format version {version}; this dnalm reads version {VERSION}"
        ));
    }
    let order = reader.u32()? as usize;
    if !(1..=MAX_ORDER).contains(&order) {
        return Err(format!("order {order} is outside 1..={MAX_ORDER}"));
    }
    let tag = reader.take(1)?[0];
    let k = f64::from_le_bytes(reader.take(8)?.try_into().expect("8 bytes"));
    let smoothing = match tag {
        0 => Smoothing::Mle,
        1 if k > 0.0 => Smoothing::AddK { k },
        2 => Smoothing::KneserNey,
        _ => return Err(format!("unknown smoothing tag {tag} (k = {k})")),
    };
    let mut discounts = Vec::with_capacity(order);
    for k in 1..=order {
        let mut values = [0.0; 3];
        for (slot, value) in values.iter_mut().enumerate() {
            *value = f64::from_le_bytes(reader.take(8)?.try_into().expect("8 bytes"));
            if !(*value > 0.0 && *value < (slot + 1) as f64) {
                return Err(format!(
                    "order {k}: discount D{} = {value} is outside (0, {})",
                    slot + 1,
                    slot + 1
                ));
            }
        }
        discounts.push(Discounts(values));
    }
    let mut orders = Vec::with_capacity(order);
    for k in 1..=order {
        let plain_entries = reader.entries()?;
        let mut plain = Table::for_context(k - 1, plain_entries.len() * 4);
        for (context, counts) in plain_entries {
            if k - 1 < 32 && context >> (2 * (k - 1)) != 0 {
                return Err(format!(
                    "order {k}: context {context:#x} is longer than {} nucleotides",
                    k - 1
                ));
            }
            for (outcome, &count) in counts.iter().enumerate() {
                plain.add(context, outcome as u8, count);
            }
        }
        let anchored: FxHashMap<u64, Counts> = reader.entries()?.into_iter().collect();
        orders.push(OrderCounts { plain, anchored });
    }
    if reader.position != body.len() {
        return Err("unexpected bytes after the last order".into());
    }
    Ok(NgramModel::from_counts(NgramCounts { order, orders }, smoothing).with_discounts(discounts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage_detection() {
        let model = NgramModel::train(
            &[b"ACGTTGCAACNNGT", b"GATTACA"],
            4,
            Smoothing::AddK { k: 0.5 },
        )
        .unwrap();
        let tuned: Vec<Discounts> = (0..4)
            .map(|k| Discounts([0.1 + 0.1 * k as f64, 1.2, 2.9]))
            .collect();
        let model = model.with_discounts(tuned);
        let bytes = to_bytes(&model);
        let loaded = from_bytes(&bytes).unwrap();
        assert_eq!(loaded.smoothing(), model.smoothing());
        for (a, b) in loaded.counts().orders.iter().zip(&model.counts().orders) {
            assert_eq!(a.plain.sorted_nonzero(), b.plain.sorted_nonzero());
            assert_eq!(a.anchored, b.anchored);
        }
        assert_eq!(loaded.discounts(), model.discounts());
        assert!(from_bytes(&bytes[..bytes.len() - 3])
            .unwrap_err()
            .contains("checksum"));
        let mut flipped = bytes.clone();
        flipped[30] ^= 1;
        assert!(from_bytes(&flipped).is_err());
        assert!(from_bytes(b"PK\x03\x04 a zip file")
            .unwrap_err()
            .contains("magic"));
    }

    #[test]
    fn save_and_load_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.dnalm-ngram");
        let model = NgramModel::train(&[b"ACGTACGGT"], 3, Smoothing::KneserNey).unwrap();
        save(&model, &path).unwrap();
        assert_eq!(
            load(&path).unwrap().counts().orders[2]
                .plain
                .sorted_nonzero(),
            model.counts().orders[2].plain.sorted_nonzero()
        );
        std::fs::write(&path, b"garbage").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("m.dnalm-ngram"), "{err}");
    }
}
