//! `dnalm embed --regions`: a region embeds as the same nucleotides given as a FASTA
//! record, and a region longer than one input as the mean of its pieces' embeddings
//! weighted by their lengths (pieces given as records, embedded by the same command).

mod common;

use std::path::Path;

use common::{failure_of, npy_values, repo, stdout_of};
use dnalm_seq::source::{read_all, SourceOptions};

#[test]
fn regions_embed_as_their_nucleotides_and_long_ones_as_their_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let genome = read_all(
        &repo("data/sample/chr20_200kb.fa.gz"),
        &SourceOptions::default(),
    )
    .unwrap()[0]
        .seq[..3_000]
        .to_vec();
    let mut fasta = String::from(">chr20\n");
    fasta.push_str(std::str::from_utf8(&genome).unwrap());
    fasta.push('\n');
    std::fs::write(path("ref.fa"), fasta).unwrap();
    let chr20 = repo("data/sample/chr20_200kb.fa.gz").display().to_string();
    stdout_of(&[
        "train",
        "mlm",
        "--preset",
        "tiny",
        "--window-nt",
        "120",
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--warmup",
        "1",
        "--eval-every",
        "2",
        "-o",
        &path("bert"),
        &chr20,
    ]);
    // Region 1 fits one input (max tokens 66: 64 nt); region 2 is 64 + 64 + 22 nt.
    std::fs::write(path("r.bed"), "20\t100\t150\tshort\n20\t1000\t1150\n").unwrap();
    stdout_of(&[
        "embed",
        "-m",
        &path("bert"),
        "--max-tokens",
        "66",
        "--regions",
        &path("r.bed"),
        "-o",
        &path("regions.npy"),
        &path("ref.fa"),
    ]);
    let ids = std::fs::read_to_string(path("regions.npy.ids.txt")).unwrap();
    assert_eq!(ids, "short\n20:1001-1150\n", "labels as the BED names them");
    let pieces = [(100, 150), (1000, 1064), (1064, 1128), (1128, 1150)];
    let records: String = pieces
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| format!(">p{i}\n{}\n", std::str::from_utf8(&genome[a..b]).unwrap()))
        .collect();
    std::fs::write(path("pieces.fa"), records).unwrap();
    stdout_of(&[
        "embed",
        "-m",
        &path("bert"),
        "--max-tokens",
        "66",
        "-o",
        &path("pieces.npy"),
        &path("pieces.fa"),
    ]);
    let (regions, pieces_out) = (
        npy_values(Path::new(&path("regions.npy"))),
        npy_values(Path::new(&path("pieces.npy"))),
    );
    let dim = regions.len() / 2;
    assert_eq!(pieces_out.len(), 4 * dim);
    for d in 0..dim {
        assert!(
            (regions[d] - pieces_out[d]).abs() < 1e-5,
            "short region, value {d}"
        );
        let mean = (64.0 * pieces_out[dim + d]
            + 64.0 * pieces_out[2 * dim + d]
            + 22.0 * pieces_out[3 * dim + d])
            / 150.0;
        assert!(
            (regions[dim + d] - mean).abs() < 1e-5,
            "long region, value {d}"
        );
    }
    let err = failure_of(&[
        "embed",
        "-m",
        &path("bert"),
        "--regions",
        &path("r.bed"),
        "-o",
        &path("x.npy"),
        &path("ref.fa"),
        &path("pieces.fa"),
    ]);
    assert!(err.contains("give one FILE"), "{err}");
}
