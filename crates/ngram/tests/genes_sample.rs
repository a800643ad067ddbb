//! Smoothing on real human genes (the shipped sample): Kneser-Ney with tuned discounts
//! stays finite, never falls far behind the unigram, and beats Laplace at every order
//! from 4 on; MLE blows up at high order, as the paper saw.

use std::path::PathBuf;

use dnalm_lm::PerplexityTotal;
use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_seq::source::{read_all, SourceOptions};
use dnalm_seq::split::{hold_out, Split, SplitFractions};

#[test]
fn kneser_ney_beats_laplace_and_never_blows_up() {
    let genes =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/genes_300.csv.gz");
    let records = read_all(&genes, &SourceOptions::default()).unwrap();
    let fractions = SplitFractions::new(0.0, 0.1).unwrap();
    let (train, test): (Vec<_>, Vec<_>) = records
        .iter()
        .partition(|r| fractions.by_hash(r.id.as_bytes(), 0) == Split::Train);
    assert!(
        test.len() > 15 && train.len() > 250,
        "{} / {}",
        train.len(),
        test.len()
    );
    let train_records: Vec<_> = train.iter().map(|r| (*r).clone()).collect();
    let (fit, held_out) = hold_out(&train_records, 0.1, 1);
    let train: Vec<&[u8]> = train.iter().map(|r| r.seq.as_slice()).collect();
    let perplexity = |model: &NgramModel| {
        test.iter()
            .fold(PerplexityTotal::default(), |mut total, r| {
                total.add(model.log_likelihood(&r.seq));
                total
            })
            .perplexity()
    };
    let unigram = perplexity(&NgramModel::train(&train, 1, Smoothing::KneserNey).unwrap());
    // Near 4 (four roughly equal bases) plus the cost of predicting each end.
    assert!(unigram > 3.9 && unigram < 4.1, "unigram {unigram}");
    for order in [2, 3, 4, 6, 8, 10, 12] {
        let (kn, before, after) =
            NgramModel::train_tuned(&fit, &held_out, order, Smoothing::KneserNey).unwrap();
        assert!(after <= before);
        let kn_ppl = perplexity(&kn);
        let laplace = perplexity(&kn.clone().with_smoothing(Smoothing::AddK { k: 1.0 }));
        let mle = perplexity(&kn.with_smoothing(Smoothing::Mle));
        assert!(
            kn_ppl.is_finite() && kn_ppl < unigram * 1.02,
            "order {order}: KN {kn_ppl} vs unigram {unigram}"
        );
        if order >= 4 {
            assert!(
                kn_ppl < laplace,
                "order {order}: KN {kn_ppl} vs Laplace {laplace}"
            );
        }
        if order >= 6 {
            assert!(mle.is_infinite(), "order {order}: MLE {mle}");
        }
    }
}
