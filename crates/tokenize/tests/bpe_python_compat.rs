//! A BPE tokenizer.json written by dnalm loads in Python's `tokenizers` and encodes the
//! same way there (fixture made by `tests/data/bpe_python/check_in_python.py`).

use std::path::PathBuf;

use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_tokenize::{BpeTokenizer, BpeTrainingConfig};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bpe_python")
        .join(name)
}

#[test]
fn rust_encodes_exactly_as_python() {
    let tokenizer = dnalm_tokenize::load(&fixture("tokenizer.json")).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("python_encodings.json")).unwrap())
            .unwrap();
    let cases = expected["encodings"].as_array().unwrap();
    assert_eq!(cases.len(), 23);
    for case in cases {
        let seq = case["sequence"].as_str().unwrap().as_bytes();
        let ids: Vec<u32> = serde_json::from_value(case["ids"].clone()).unwrap();
        let offsets: Vec<[usize; 2]> = serde_json::from_value(case["offsets"].clone()).unwrap();
        let with_special: Vec<u32> =
            serde_json::from_value(case["ids_with_special"].clone()).unwrap();
        let encoding = tokenizer.encode(seq);
        assert_eq!(encoding.ids, ids, "ids of {}", case["sequence"]);
        let spans: Vec<[usize; 2]> = encoding.spans.iter().map(|s| [s.start, s.end]).collect();
        assert_eq!(spans, offsets);
        assert_eq!(tokenizer.encode_with_special(seq).ids, with_special);
        assert_eq!(
            tokenizer.decode(&ids).unwrap(),
            case["decoded"].as_str().unwrap().as_bytes()
        );
    }
}

#[test]
fn training_is_deterministic_and_reproduces_the_fixture() {
    let sample =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/chr20_200kb.fa.gz");
    let records = read_all(&sample, &SourceOptions::default()).unwrap();
    let config = BpeTrainingConfig {
        vocab_size: 256,
        ..Default::default()
    };
    let trained = BpeTokenizer::train(records.iter().map(|r| r.seq.as_slice()), &config).unwrap();
    let committed = std::fs::read_to_string(fixture("tokenizer.json")).unwrap();
    assert_eq!(trained.to_json().unwrap(), committed);
}
