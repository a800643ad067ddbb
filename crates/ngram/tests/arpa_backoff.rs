//! The ARPA export read back by an independent back-off query (written here from the
//! format's definition, sharing no code with the model) gives the model's own
//! probabilities for every event of real sequences.

use std::collections::HashMap;
use std::path::PathBuf;

use dnalm_ngram::{NgramModel, Smoothing};
use dnalm_seq::source::{read_all, SourceOptions};

struct Arpa {
    order: usize,
    /// words joined by spaces -> (log10 prob, log10 back-off)
    entries: HashMap<String, (f64, f64)>,
}

fn parse(text: &str) -> Arpa {
    let mut entries = HashMap::new();
    let mut order = 0;
    let mut in_grams = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("ngram ") {
            order = order.max(rest.split('=').next().unwrap().parse().unwrap());
        } else if line.ends_with("-grams:") {
            in_grams = true;
        } else if line == "\\end\\" {
            break;
        } else if in_grams && !line.is_empty() {
            let fields: Vec<&str> = line.split('\t').collect();
            let backoff = fields.get(2).map_or(0.0, |b| b.parse().unwrap());
            entries.insert(fields[1].to_string(), (fields[0].parse().unwrap(), backoff));
        }
    }
    Arpa { order, entries }
}

impl Arpa {
    /// Standard back-off: p(w | h) = p(h w) if listed, else bow(h) * p(w | h minus its
    /// first word).
    fn log10_prob(&self, context: &[&str], word: &str) -> f64 {
        let context = &context[context.len().saturating_sub(self.order - 1)..];
        let mut words = context.to_vec();
        words.push(word);
        if let Some(&(p, _)) = self.entries.get(&words.join(" ")) {
            return p;
        }
        assert!(!context.is_empty(), "unigram {word} must be listed");
        let backoff = self.entries.get(&context.join(" ")).map_or(0.0, |e| e.1);
        backoff + self.log10_prob(&context[1..], word)
    }
}

#[test]
fn arpa_back_off_reproduces_the_model_on_real_genes() {
    let genes =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/genes_300.csv.gz");
    let records = read_all(&genes, &SourceOptions::default()).unwrap();
    let (train, test) = records.split_at(250);
    let train: Vec<&[u8]> = train.iter().map(|r| r.seq.as_slice()).collect();
    for order in [1, 2, 4, 6] {
        let model = NgramModel::train(&train, order, Smoothing::KneserNey).unwrap();
        let mut text = Vec::new();
        model.write_arpa(&mut text).unwrap();
        let arpa = parse(std::str::from_utf8(&text).unwrap());
        assert_eq!(arpa.order, order);
        for record in &test[..10] {
            let mut context = vec!["<s>"];
            let mut from_arpa = 0.0;
            for &base in record.seq.iter().chain(std::iter::once(&b'$')) {
                let word = match base {
                    b'A' => "A",
                    b'C' => "C",
                    b'G' => "G",
                    b'T' => "T",
                    b'$' => "</s>",
                    other => panic!("unexpected {other}"),
                };
                from_arpa += arpa.log10_prob(&context, word);
                context.push(word);
            }
            let from_model = model.log_likelihood(&record.seq).log_prob / std::f64::consts::LN_10;
            // ARPA stores 7 decimals per entry.
            let tolerance = 1e-6 * (record.len() + 1) as f64;
            assert!(
                (from_arpa - from_model).abs() < tolerance,
                "order {order}: {from_arpa} vs {from_model}"
            );
        }
    }
    let laplace = NgramModel::train(&train, 3, Smoothing::AddK { k: 1.0 }).unwrap();
    assert!(laplace.write_arpa(&mut Vec::new()).is_err());
}
