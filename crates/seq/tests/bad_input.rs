//! Bad input gets a clear error naming the file (and record), never a panic.

use std::io::Write;
use std::path::{Path, PathBuf};

use dnalm_seq::source::{read_all, SeqReader, SourceOptions};
use dnalm_seq::table::TableColumns;
use dnalm_seq::task::TaskData;
use dnalm_seq::SeqError;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn read_err(path: &Path) -> String {
    let err = read_all(path, &SourceOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()),
        "error does not name the file: {text}"
    );
    text
}

#[test]
fn truncated_gzip_is_reported_as_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let mut fasta = b">r1\n".to_vec();
    for i in 0..200_000 {
        fasta.push(b"ACGT"[(i * 7 + i / 3) % 4]);
        if i % 60 == 59 {
            fasta.push(b'\n');
        }
    }
    let compressed = gzip(&fasta);
    let path = write(dir.path(), "cut.fa.gz", &compressed[..compressed.len() / 2]);
    let text = read_err(&path);
    assert!(text.contains("truncated"), "{text}");
    let table = write(
        dir.path(),
        "cut.csv.gz",
        &gzip(b"sequence,label\nACGT,1\nACGT,0\n")[..20],
    );
    read_err(&table);
}

#[test]
fn empty_files_plain_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("e.fa", Vec::new()),
        ("e.fa.gz", gzip(b"")),
        ("e.csv", Vec::new()),
        ("e.csv.gz", gzip(b"")),
    ] {
        let path = write(dir.path(), name, &bytes);
        let text = read_err(&path);
        assert!(text.contains("empty"), "{name}: {text}");
    }
}

#[test]
fn fasta_without_header_and_binary_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let text = read_err(&write(dir.path(), "noheader.fa", b"ACGTACGT\nACGT\n"));
    assert!(text.contains("FASTA"), "{text}");
    read_err(&write(
        dir.path(),
        "garbage.fa",
        &[0u8, 159, 146, 150, 7, 7],
    ));
}

#[test]
fn invalid_base_names_record_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.fa", b">a\nACGT\n>b\nAC\nGX\n");
    match read_all(&path, &SourceOptions::default()) {
        Err(SeqError::InvalidBase {
            record: 2,
            position: 4,
            found: 'X',
            ref id,
            ..
        }) => assert_eq!(id, "b"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn csv_without_the_named_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.csv", b"sequence,label\nACGT,1\n");
    let options = SourceOptions {
        columns: TableColumns {
            sequence: Some("dna".into()),
            ..Default::default()
        },
        header_labels: false,
    };
    let text = read_all(&path, &options).unwrap_err().to_string();
    assert!(text.contains("'dna'") && text.contains("t.csv"), "{text}");
}

#[test]
fn windows_line_endings_and_soft_masking_are_normalised() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "crlf.fa", b">x\r\nacgtNNACGT\r\nggcc\r\n");
    let records = read_all(&path, &SourceOptions::default()).unwrap();
    assert_eq!(records[0].seq, b"ACGTNNACGTGGCC");
    let path = write(dir.path(), "crlf.tsv", b"sequence\tlabel\r\nacgt\t1\r\n");
    assert_eq!(
        read_all(&path, &SourceOptions::default()).unwrap()[0].seq,
        b"ACGT"
    );
}

/// Documented behaviour: a record is held whole in memory, so a single line may be as
/// long as memory allows. 64 MiB stands in for the 1 GB of the promise (same code path).
#[test]
fn a_single_64_mib_line() {
    let dir = tempfile::tempdir().unwrap();
    let len = 64 << 20;
    let mut bytes = b">long\n".to_vec();
    bytes.extend((0..len).map(|i| b"ACGT"[i % 4]));
    let path = write(dir.path(), "long.fa", &bytes);
    let records = read_all(&path, &SourceOptions::default()).unwrap();
    assert_eq!(records[0].len(), len);
    let path = write(
        dir.path(),
        "long.csv",
        &[b"sequence\n".as_slice(), &bytes[6..], b"\n"].concat(),
    );
    assert_eq!(
        read_all(&path, &SourceOptions::default()).unwrap()[0].len(),
        len
    );
}

#[test]
fn task_folder_missing_split_or_unknown_label() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.csv", b"sequence,label\nACGT,0\nACGA,1\n");
    write(dir.path(), "dev.csv", b"sequence,label\nACGT,0\n");
    let text = TaskData::open(dir.path(), &TableColumns::default())
        .unwrap_err()
        .to_string();
    assert!(text.contains("no test.csv"), "{text}");
    write(dir.path(), "test.csv", b"sequence,label\nACGT,2\n");
    let text = TaskData::open(dir.path(), &TableColumns::default())
        .unwrap_err()
        .to_string();
    assert!(text.contains("label '2'"), "{text}");
}

#[test]
fn a_folder_is_named_as_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_err(dir.path());
    assert!(err.contains("is a folder, not a sequence file"), "{err}");
}

#[test]
fn records_without_nucleotides_are_refused_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = write(dir.path(), "e.fa", b">ok\nACGT\n>hollow desc\n>next\nGG\n");
    let err = read_err(&fasta);
    assert!(
        err.contains("record 2 ('hollow') has no nucleotides"),
        "{err}"
    );
    let fastq = write(dir.path(), "e.fq", b"@a\nACGT\n+\nIIII\n@b\n\n+\n\n");
    let err = read_err(&fastq);
    assert!(err.contains("record 2 ('b') has no nucleotides"), "{err}");
    let table = write(dir.path(), "e.csv", b"id,sequence,label\nx,ACGT,1\ny,,0\n");
    let err = read_err(&table);
    assert!(err.contains("record 2 ('y') has no nucleotides"), "{err}");
}

#[test]
fn empty_labels_and_ambiguous_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(dir.path(), "l.csv", b"sequence,label\nACGT,1\nACGA,\n");
    let err = read_err(&table);
    assert!(err.contains("data row 2 ('row2'): empty label"), "{err}");
    let table = write(dir.path(), "d.csv", b"seq,seq\nACGT,ACGA\n");
    let err = read_err(&table);
    assert!(err.contains("2 columns are named 'seq'"), "{err}");
    // A duplicated column that is not read is no ambiguity.
    let table = write(dir.path(), "o.csv", b"sequence,note,note\nACGT,a,b\n");
    assert_eq!(
        read_all(&table, &SourceOptions::default()).unwrap().len(),
        1
    );
}

#[test]
fn records_of_n_only_are_counted_for_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let fasta = write(dir.path(), "n.fa", b">a\nNNNN\n>b\nACGN\n>c\nnnRY\n");
    let mut reader = SeqReader::open(&fasta, &SourceOptions::default()).unwrap();
    assert_eq!(reader.by_ref().count(), 3);
    assert_eq!(reader.report().all_n_records, 2);
}

#[test]
fn a_table_with_a_header_and_no_rows_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let table = write(dir.path(), "h.csv", b"sequence,label\n");
    let err = read_err(&table);
    assert!(err.contains("the file is empty (no records)"), "{err}");
}
