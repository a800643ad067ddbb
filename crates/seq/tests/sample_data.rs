//! Reads the real sample shipped in `data/sample` and checks it against facts counted
//! independently (by Python, see `scripts/make_sample.py`).

use std::path::PathBuf;

use dnalm_seq::packed::Corpus;
use dnalm_seq::source::{read_all, SeqReader, SourceOptions};
use dnalm_seq::split::{Split, SplitFractions};
use dnalm_seq::table::TableColumns;
use dnalm_seq::task::TaskData;
use dnalm_seq::window::{windows, WindowSpec};

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/sample")
        .join(name)
}

#[test]
fn chr20_sample_reads_packs_and_round_trips() {
    let path = sample("chr20_200kb.fa.gz");
    let records = read_all(&path, &SourceOptions::default()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].id, "chr20:30000001-30150000");
    assert_eq!((records[0].len(), records[1].len()), (150_000, 50_000));
    // The second piece runs into the N gap that starts at 0-based 34,897,085.
    let n_start = 34_897_085 - 34_880_000;
    assert!(records[1].seq[..n_start].iter().all(|&b| b != b'N'));
    assert!(records[1].seq[n_start..].iter().all(|&b| b == b'N'));

    let corpus =
        Corpus::from_records(SeqReader::open(&path, &SourceOptions::default()).unwrap()).unwrap();
    assert_eq!(corpus.total_len(), 200_000);
    for (record, packed) in records.iter().zip(&corpus.records) {
        assert_eq!(packed.seq.extract(0..record.len()), record.seq);
    }
    assert_eq!(corpus.records[1].seq.n_count(0..50_000), 50_000 - n_start);
    // 2 bits per base plus one N run.
    assert!(
        corpus.heap_bytes() <= 200_000 / 4 + 64,
        "{} bytes",
        corpus.heap_bytes()
    );
}

#[test]
fn genome_windows_by_position_split_never_overlap_between_splits() {
    let path = sample("chr20_200kb.fa.gz");
    let corpus =
        Corpus::from_records(SeqReader::open(&path, &SourceOptions::default()).unwrap()).unwrap();
    let spec = WindowSpec {
        len: 512,
        stride: 256,
        max_n_fraction: 0.1,
    };
    let fractions = SplitFractions::new(0.1, 0.1).unwrap();
    let mut all = Vec::new();
    for split in [Split::Train, Split::Dev, Split::Test] {
        let found = windows(&corpus, &spec, |record| {
            fractions.position_range(record.seq.len(), split)
        })
        .unwrap();
        for window in &found {
            let range = fractions.position_range(corpus.records[window.record].seq.len(), split);
            assert!(range.start <= window.start && window.range().end <= range.end);
            let n = corpus.records[window.record].seq.n_count(window.range());
            assert!(n <= 51, "window {window:?} has {n} N");
        }
        all.push(found.len());
    }
    // Record 1 is 150 kb clean: train 0..120000 gives (120000-512)/256+1 = 467 windows;
    // record 2's train part 0..40000 holds 17,085 clean nt: windows whose end is at most
    // 17085 + 51 N: starts 0..=16624 step 256 -> 65.
    assert_eq!(all[0], 467 + 65);
    assert!(all[1] > 0 && all[2] > 0);
}

#[test]
fn gue_task_folder_and_gene_table() {
    let task = TaskData::open(&sample("prom_core_tata"), &TableColumns::default()).unwrap();
    assert_eq!(
        (task.train.len(), task.dev.len(), task.test.len()),
        (300, 100, 100)
    );
    assert_eq!(task.labels, ["0", "1"]);
    assert!(task.train.iter().all(|row| row.len() == 70));
    assert_eq!(
        task.train
            .iter()
            .filter(|row| row.label.as_deref() == Some("1"))
            .count(),
        157
    );

    let genes = read_all(&sample("genes_300.csv.gz"), &SourceOptions::default()).unwrap();
    assert_eq!(genes.len(), 300);
    assert_eq!(genes[0].id, "108251792");
    assert!(genes[0].seq.starts_with(b"TACGTGGAGAGCCAGTTC"));
    assert!(genes
        .iter()
        .all(|gene| !gene.seq.contains(&b'<') && gene.len() <= 1000));
}
