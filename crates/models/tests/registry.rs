//! The registry opens one tiny model of every kind from its files, each says the
//! capabilities the kind table promises (no more, no fewer), every capability it has
//! works, and a missing one is refused with the one message shape.

use std::path::{Path, PathBuf};

use candle_core::Device;
use dnalm_models::presets::{
    encoder_config, lm_config, mxdna_config, MxdnaPreset, Network, Preset,
};
use dnalm_models::{open, Capability, ModelKind, ModelsError, OpenOptions};
use dnalm_mxdna::classifier::{MxDnaClassifier, MxDnaClassifierConfig};
use dnalm_mxdna::config::MxDnaConfig;
use dnalm_mxdna::pretrained::MxDnaLm;
use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_nn::bag_of_tokens::{BagOfTokens, BagOfTokensConfig};
use dnalm_nn::embedding::{EmbedOptions, EmbeddingStates};
use dnalm_nn::heads::Pooling;
use dnalm_nn::masked_lm::MaskedLm;
use dnalm_nn::masked_scoring::Masking;
use dnalm_nn::sequence_classifier::{ClassifierConfig, SequenceClassifier};
use dnalm_nn::supervised::{Objective, SequencePredictor};
use dnalm_nn::token_lm::TokenLm;
use dnalm_run::RunDir;
use dnalm_tokenize::{KmerTokenizer, NucleotideTokenizer};

const SEQUENCES: [&[u8]; 3] = [
    b"ACGTTGCAACGTAGGCTTACGATCGATCGG",
    b"GATTACAGATTACAGGCATGCAAGTCCTAT",
    b"TTGACAATTAATCATCGGCTCGTATAATGT",
];

fn tiny_mxdna() -> MxDnaConfig {
    let mut config = mxdna_config(MxdnaPreset::Tiny);
    config.hidden_size = 16;
    config.intermediate_size = 32;
    config.expert_kernel_sizes = vec![1, 2, 3];
    config
}

fn binary() -> Objective {
    Objective::Classification {
        labels: vec!["0".into(), "1".into()],
    }
}

/// Writes a tiny model of `kind` under `root` and returns its path.
fn write(kind: ModelKind, root: &Path) -> PathBuf {
    let device = Device::Cpu;
    let path = root.join(kind.tag());
    let run = || RunDir::create(&path).unwrap();
    match kind {
        ModelKind::Ngram => {
            let model = NgramModel::train(&SEQUENCES, 3, Smoothing::KneserNey).unwrap();
            dnalm_ngram::format::save(&model, &path).unwrap();
        }
        ModelKind::Lstm | ModelKind::Gpt => {
            let network = if kind == ModelKind::Lstm {
                Network::Lstm
            } else {
                Network::Gpt
            };
            let config = lm_config(network, Preset::Tiny, 9);
            TokenLm::new(config, Box::new(NucleotideTokenizer), 1, &device)
                .unwrap()
                .save_run(&run())
                .unwrap();
        }
        ModelKind::Bert => {
            MaskedLm::new(
                encoder_config(Preset::Tiny),
                Box::new(NucleotideTokenizer),
                1,
                &device,
            )
            .unwrap()
            .save_run(&run())
            .unwrap();
        }
        ModelKind::Mxdna => {
            MxDnaLm::new(tiny_mxdna(), 1, &device)
                .unwrap()
                .save_run(&run())
                .unwrap();
        }
        ModelKind::BertClassifier => {
            let mut encoder = encoder_config(Preset::Tiny);
            encoder.vocab_size = 9;
            let config = ClassifierConfig {
                encoder,
                pooling: Pooling::Cls,
                dropout: 0.1,
                objective: binary(),
            };
            SequenceClassifier::new(config, Box::new(NucleotideTokenizer), 1, &device)
                .unwrap()
                .save_run(&run())
                .unwrap();
        }
        ModelKind::BagOfTokens => {
            let tokenizer = Box::new(KmerTokenizer::new(3, true).unwrap());
            BagOfTokens::new(
                BagOfTokensConfig {
                    objective: binary(),
                },
                tokenizer,
                &device,
            )
            .unwrap()
            .save_run(&run())
            .unwrap();
        }
        ModelKind::MxdnaClassifier => {
            let config = MxDnaClassifierConfig {
                mxdna: tiny_mxdna(),
                dropout: 0.1,
                objective: binary(),
            };
            MxDnaClassifier::new(config, 1, &device)
                .unwrap()
                .save_run(&run())
                .unwrap();
        }
    }
    path
}

#[test]
fn every_kind_opens_with_exactly_the_capabilities_of_its_kind_and_each_works() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbedOptions {
        pooling: Pooling::Mean,
        states: EmbeddingStates::Tokens,
        max_tokens: 64,
    };
    for kind in ModelKind::ALL {
        let path = write(kind, dir.path());
        let loaded = open(&path, &OpenOptions::default()).unwrap();
        assert_eq!(loaded.kind(), kind, "{}", path.display());
        for capability in Capability::ALL {
            assert_eq!(
                loaded.model().can(capability),
                kind.can(capability),
                "{kind}: {capability:?}"
            );
        }
        if let Ok(model) = loaded.sequence_model("test") {
            let score = model.score(SEQUENCES[0]).unwrap();
            assert!(score.log_prob.is_finite() && score.log_prob < 0.0, "{kind}");
        }
        if let Ok(scoring) = loaded.variant_scoring("test") {
            let mut alternate = SEQUENCES[0].to_vec();
            alternate[7] = b'T';
            assert!(scoring.score(SEQUENCES[0], &alternate).unwrap().is_finite());
            assert_eq!(scoring.score(SEQUENCES[0], SEQUENCES[0]).unwrap(), 0.0);
        }
        if let Ok(scoring) = loaded.position_scoring("test") {
            let values = scoring
                .score(&[(SEQUENCES[0], 2..9)], Masking::Spaced(3))
                .unwrap();
            assert_eq!(values[0].len(), 7, "{kind}");
            assert!(
                values[0].iter().all(|v| v.is_finite() && *v < 0.0),
                "{kind}"
            );
        }
        if let Ok(embedder) = loaded.embedder("test") {
            let embeddings = embedder.embed_batch(&SEQUENCES, &options).unwrap();
            assert_eq!(embeddings.dims(), [3, embedder.embedding_dim()], "{kind}");
        }
        if let Ok(predictor) = loaded.predictor("test") {
            let rows = predictor.input_rows(&SEQUENCES, 64);
            let predictions = predictor.predict(&rows, 2).unwrap();
            assert_eq!(predictions.len(), 3);
            assert!((predictions[0].iter().sum::<f64>() - 1.0).abs() < 1e-5);
        }
        if let Ok(tokenizer) = loaded.learnt_tokenizer("test") {
            let learnt = tokenizer.learnt_tokens(&SEQUENCES, 64).unwrap();
            assert_eq!(learnt.len(), 3);
            assert!(learnt.iter().all(|t| !t.tokens.is_empty()));
        }
        if let Ok((generator, _)) = loaded.generator("test") {
            let sample = generator.generate(b"AC", 10, 1.0, &mut dnalm_seq::seeded_rng(1));
            assert!(sample.starts_with(b"AC"));
        }
    }
}

#[test]
fn a_missing_capability_is_refused_naming_the_kind_the_command_and_who_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(ModelKind::BagOfTokens, dir.path());
    let loaded = open(&path, &OpenOptions::default()).unwrap();
    let err = loaded.embedder("dnalm embed").err().unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` is a bag-of-tokens model; dnalm embed needs embeddings (an encoder), which \
             bert, mxdna, bert-classifier, mxdna-classifier models have",
            path.display()
        )
    );
    let ngram = write(ModelKind::Ngram, dir.path());
    let err = open(&ngram, &OpenOptions::default())
        .unwrap()
        .learnt_tokenizer("dnalm tokens")
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("is a ngram model; dnalm tokens needs learnt tokens (an MxDNA encoder), which mxdna, mxdna-classifier models have"),
        "{err}"
    );
}

#[test]
fn what_is_not_a_model_is_named_with_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = open(&empty, &OpenOptions::default()).err().unwrap();
    assert!(matches!(err, ModelsError::NotAModel { .. }), "{err}");
    assert!(err.to_string().contains("without config.json"), "{err}");
    std::fs::create_dir(empty.join("seed0")).unwrap();
    let err = open(&empty, &OpenOptions::default()).err().unwrap();
    assert!(err.to_string().contains("seed folders"), "{err}");
    let fasta = dir.path().join("x.fa");
    std::fs::write(&fasta, ">a\nACGT\n").unwrap();
    let err = open(&fasta, &OpenOptions::default()).err().unwrap();
    assert!(err.to_string().contains("not a model dnalm knows"), "{err}");
    let run = write(ModelKind::Lstm, dir.path());
    let config = run.join("config.json");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("\"lstm\"", "\"rnn\"")).unwrap();
    let err = open(&run, &OpenOptions::default()).err().unwrap();
    assert!(
        err.to_string().contains("\"model\": \"rnn\" is not a kind"),
        "{err}"
    );
    let neural = write(ModelKind::Gpt, dir.path());
    let options = OpenOptions {
        smoothing: Some(Smoothing::Mle),
        ..OpenOptions::default()
    };
    let err = open(&neural, &options).err().unwrap();
    assert!(
        err.to_string()
            .contains("--smoothing applies to n-gram models"),
        "{err}"
    );
}
