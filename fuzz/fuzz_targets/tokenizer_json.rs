//! tokenizer.json (dnalm's fixed tokenizers and Hugging Face BPE files): a tokenizer
//! that encodes a sequence, or a typed error.
#![no_main]
use dnalm_tokenize::file::TokenizerFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(file) = TokenizerFile::from_json(text, std::path::Path::new("tokenizer.json")) {
        if let Ok(tokenizer) = file.into_tokenizer() {
            let encoding = tokenizer.encode(b"ACGTNACGGTTACA");
            let _ = tokenizer.decode(&encoding.ids);
        }
    }
});
