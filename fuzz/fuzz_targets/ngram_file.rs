//! `.dnalm-ngram` files. The input is the body after the magic bytes; the target adds
//! the magic and a correct checksum, so the fuzzer reaches the parser past the checksum
//! check (damaged checksums are refused first, as a unit test shows). A loaded model
//! must score a sequence.
#![no_main]
use dnalm_ngram::format::{from_bytes, MAGIC};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(data);
    let checksum = xxhash_rust::xxh3::xxh3_64(&bytes);
    bytes.extend_from_slice(&checksum.to_le_bytes());
    if let Ok(model) = from_bytes(&bytes) {
        let _ = model.log_likelihood(b"ACGTNACGGT");
    }
});
