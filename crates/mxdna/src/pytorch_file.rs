//! A PyTorch `.bin` (`torch.save`: a zip holding a pickled state dict and each tensor's
//! storage) read through candle's pickle reader, after checks of our own. candle
//! allocates from sizes the file states — a pickled string's length, a tensor's shape —
//! before it reads them, so a few hostile bytes could ask for gigabytes. Here the
//! pickle is walked first (every length checked against the bytes that remain; an
//! opcode no state dict uses refused), and each tensor's size checked against the bytes
//! its storage really has in the file, before candle reads anything.

use std::io::Read;
use std::path::Path;

use candle_core::pickle::PthTensors;
use candle_core::Tensor;

/// The largest pickle read (a state dict's pickle is kilobytes).
const MAX_PICKLE_BYTES: u64 = 64 << 20;

/// Every tensor of the PyTorch file `path`; the error says what is wrong with it.
pub fn read_pytorch_file(path: &Path) -> Result<Vec<(String, Tensor)>, String> {
    let file = std::fs::File::open(path).map_err(|err| err.to_string())?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|err| format!("not a PyTorch zip file: {err}"))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|name| name.map(|n| n.into_owned()))
        .collect::<Result<_, _>>()
        .map_err(|err| format!("not a PyTorch zip file: {err}"))?;
    for name in names.iter().filter(|n| n.ends_with("data.pkl")) {
        let entry = zip.by_name(name).map_err(|err| format!("{name}: {err}"))?;
        if entry.compressed_size() > MAX_PICKLE_BYTES {
            return Err(format!(
                "{name}: a pickle of {} bytes is not a state dict's",
                entry.compressed_size()
            ));
        }
        let mut pickle = Vec::new();
        entry
            .take(MAX_PICKLE_BYTES)
            .read_to_end(&mut pickle)
            .map_err(|err| format!("{name}: {err}"))?;
        check_pickle(&pickle).map_err(|err| format!("{name}: {err}"))?;
    }
    let tensors = PthTensors::new(path, None).map_err(|err| err.to_string())?;
    let mut out = Vec::with_capacity(tensors.tensor_infos().len());
    for (name, info) in tensors.tensor_infos() {
        let stored = zip
            .by_name(&info.path)
            .map_err(|err| format!("tensor {name}: storage {}: {err}", info.path))?
            .compressed_size();
        let needed = (info.layout.start_offset() as u128
            + info.layout.shape().elem_count() as u128)
            * info.dtype.size_in_bytes() as u128;
        if needed > stored as u128 {
            return Err(format!(
                "tensor {name} claims {needed} bytes; its storage holds {stored}"
            ));
        }
        if let Some(tensor) = tensors.get(name).map_err(|err| err.to_string())? {
            out.push((name.clone(), tensor));
        }
    }
    Ok(out)
}

/// Walks a pickle's opcodes (those PyTorch state dicts use, as candle reads them),
/// checking each argument fits in the bytes that remain.
fn check_pickle(bytes: &[u8]) -> Result<(), String> {
    let mut at = 0;
    while at < bytes.len() {
        let opcode = bytes[at];
        at += 1;
        let rest = &bytes[at..];
        let argument = match opcode {
            // STOP: the pickle ends here.
            b'.' => return Ok(()),
            // PROTO, BINPUT, BININT1, BINGET.
            0x80 | b'q' | b'K' | b'h' => 1,
            // BININT2.
            b'M' => 2,
            // LONG_BINPUT, BININT, LONG_BINGET.
            b'r' | b'J' | b'j' => 4,
            // BINFLOAT.
            b'G' => 8,
            // BINUNICODE: a u32 length, then the string.
            b'X' => {
                let length = rest
                    .get(..4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .ok_or("the pickle ends inside a string's length")?;
                4usize.saturating_add(length)
            }
            // LONG1: a one-byte length, then the number.
            0x8a => 1 + *rest.first().ok_or("the pickle ends inside a long")? as usize,
            // GLOBAL: module and name, each ended by a newline.
            b'c' => {
                let first = rest.iter().position(|&b| b == b'\n');
                let second = first.and_then(|f| rest[f + 1..].iter().position(|&b| b == b'\n'));
                match (first, second) {
                    (Some(f), Some(s)) => f + s + 2,
                    _ => return Err(format!("byte {at}: a global's names never end")),
                }
            }
            // Opcodes without arguments.
            b')'
            | b'R'
            | b'('
            | b't'
            | b'Q'
            | b'N'
            | 0x85..=0x89
            | b's'
            | b'u'
            | b'}'
            | b'd'
            | b'b'
            | 0x81
            | b']'
            | b'a'
            | b'e' => 0,
            other => {
                return Err(format!(
                    "byte {}: opcode {other:#04x} is not one a PyTorch state dict uses",
                    at - 1
                ))
            }
        };
        if argument > rest.len() {
            return Err(format!(
                "byte {}: an argument of {argument} bytes runs past the pickle's end ({} left)",
                at - 1,
                rest.len()
            ));
        }
        at += argument;
    }
    Err("the pickle has no STOP".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_past_the_end_and_unknown_opcodes_are_refused() {
        // PROTO 2, EMPTY_DICT, BINUNICODE "ab", STOP.
        assert!(check_pickle(b"\x80\x02}X\x02\x00\x00\x00ab.").is_ok());
        let err = check_pickle(b"\x80\x02X\xff\xff\xff\x7fab.").unwrap_err();
        assert!(err.contains("runs past the pickle's end"), "{err}");
        let err = check_pickle(b"\x80\x02\x93.").unwrap_err();
        assert!(err.contains("opcode 0x93"), "{err}");
        assert!(check_pickle(b"\x80\x02}").unwrap_err().contains("no STOP"));
        assert!(check_pickle(b"ctorch\n_rebuild_tensor_v2\n.").is_ok());
        assert!(check_pickle(b"ctorch\n_rebuild").is_err());
    }
}
