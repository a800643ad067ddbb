//! Every tokenizer on the real chr20 sample: spans are consistent with the sequence
//! and decoding gives the sequence back.

use std::path::PathBuf;

use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_tokenize::{
    special, BpeTokenizer, BpeTrainingConfig, KmerTokenizer, NucleotideTokenizer, TokenStats,
    Tokenizer,
};

#[test]
fn spans_and_round_trips_on_chr20_sample() {
    let sample =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/chr20_200kb.fa.gz");
    let records = read_all(&sample, &SourceOptions::default()).unwrap();
    let config = BpeTrainingConfig {
        vocab_size: 300,
        ..Default::default()
    };
    let tokenizers: Vec<Box<dyn Tokenizer>> = vec![
        Box::new(NucleotideTokenizer),
        Box::new(KmerTokenizer::new(6, true).unwrap()),
        Box::new(KmerTokenizer::new(6, false).unwrap()),
        Box::new(BpeTokenizer::train(records.iter().map(|r| r.seq.as_slice()), &config).unwrap()),
    ];
    let window = &records[1].seq[15_000..20_000]; // clean bases, then the N gap
    for tokenizer in &tokenizers {
        let encoding = tokenizer.encode(window);
        let mut stats = TokenStats::default();
        stats.add(&encoding, window.len());
        for (id, span) in encoding.ids.iter().zip(&encoding.spans) {
            let token = tokenizer.id_to_token(*id).unwrap();
            if *id != special::UNK {
                assert_eq!(
                    token.as_bytes(),
                    &window[span.clone()],
                    "{}",
                    tokenizer.describe()
                );
            } else {
                assert!(window[span.clone()].contains(&b'N'));
            }
        }
        let overlapping = tokenizer.describe().contains("(overlapping)");
        if overlapping {
            assert_eq!(encoding.len(), window.len() - 5);
        } else {
            // Tiling layouts cover every nucleotide exactly once, in order.
            let mut next = 0;
            for span in &encoding.spans {
                assert_eq!(span.start, next);
                next = span.end;
            }
            assert_eq!(next, window.len());
            assert_eq!(tokenizer.decode(&encoding.ids).unwrap(), window);
        }
        assert!(stats.tokens_per_nucleotide() > 0.0);
    }
}
