//! The windows of a scan, checked against an independent cut: each sequence split at
//! its `N` runs in the test and each stretch tiled with [`Tiling::plan`]; streamed
//! from plain and gzip FASTA, over records long enough that the windower drops what it
//! no longer needs, and over BED regions read through an index.

use std::io::Write;
use std::path::{Path, PathBuf};

use dnalm_genome::bed::read_bed;
use dnalm_genome::reference::ReferenceGenome;
use dnalm_genome::scan_source::{FastaStream, RegionSource, ScanSource};
use dnalm_genome::scan_windows::{ScanWindow, ScanWindows};
use dnalm_genome::tiling::Tiling;
use dnalm_seq::source::{read_all, SourceOptions};
use rand::Rng;

fn sample() -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/chr20_200kb.fa.gz");
    read_all(&path, &SourceOptions::default()).unwrap()[0].seq[..20_000].to_vec()
}

fn write_fasta(path: &Path, records: &[(&str, &[u8])], gzip: bool) {
    let mut text = Vec::new();
    for (name, seq) in records {
        writeln!(text, ">{name} some description").unwrap();
        for line in seq.chunks(61) {
            text.extend_from_slice(line);
            text.push(b'\n');
        }
    }
    if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&text).unwrap();
        text = encoder.finish().unwrap();
    }
    std::fs::write(path, text).unwrap();
}

/// What the windows must be: every stretch between `N`s tiled on its own.
fn expected(records: &[&[u8]], tiling: &Tiling) -> Vec<ScanWindow> {
    let mut windows = Vec::new();
    for (sequence, seq) in records.iter().enumerate() {
        let mut start = 0;
        while start < seq.len() {
            if seq[start] == b'N' {
                start += 1;
                continue;
            }
            let len = seq[start..].iter().take_while(|&&b| b != b'N').count();
            for w in tiling.plan(len) {
                windows.push(ScanWindow {
                    sequence,
                    offset: (start + w.span.start) as u64,
                    bases: seq[start + w.span.start..start + w.span.end].to_vec(),
                    keep: w.keep.start - w.span.start..w.keep.end - w.span.start,
                });
            }
            start += len;
        }
    }
    windows
}

fn all<S: ScanSource>(source: S, tiling: Tiling) -> Vec<ScanWindow> {
    let mut windows = ScanWindows::new(source, tiling).unwrap();
    let mut out = Vec::new();
    while let Some(window) = windows.next_window().unwrap() {
        out.push(window);
    }
    out
}

#[test]
fn streamed_windows_are_the_tiling_of_every_stretch_between_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let mut gapped = sample();
    gapped[..37].fill(b'N');
    gapped[5_000] = b'N';
    gapped[9_000..9_100].fill(b'N');
    gapped[19_990..].fill(b'N');
    let short: &[u8] = b"ACGTTGA";
    let gap: &[u8] = b"NNNNNNNNNN";
    let records: [(&str, &[u8]); 3] = [("a", &gapped), ("b", short), ("c", gap)];
    for (window, stride, both_sides) in [(512, 256, false), (510, 382, true), (100, 100, false)] {
        let tiling = Tiling::new(window, stride, both_sides).unwrap();
        let want = expected(&[&gapped, short, gap], &tiling);
        for gzip in [false, true] {
            let path = dir.path().join(if gzip { "g.fa.gz" } else { "g.fa" });
            write_fasta(&path, &records, gzip);
            let source = FastaStream::open(&path).unwrap();
            let lengths: Vec<u64> = source.sequences().iter().map(|s| s.length).collect();
            assert_eq!(lengths, [20_000, 7, 10]);
            assert_eq!(source.sequences()[0].contig, "a");
            let got = all(source, tiling);
            assert_eq!(got.len(), want.len(), "{window}/{stride}");
            assert!(got == want, "{window}/{stride} gzip {gzip}");
        }
    }
}

#[test]
fn a_long_record_is_cut_the_same_while_the_windower_drops_what_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = dnalm_seq::seeded_rng(5);
    let mut long: Vec<u8> = (0..2_500_000)
        .map(|_| b"ACGT"[rng.random_range(0..4)])
        .collect();
    for at in [300_000, 1_700_123] {
        long[at..at + 5_000].fill(b'N');
    }
    let path = dir.path().join("long.fa");
    write_fasta(&path, &[("chrL", &long)], false);
    let tiling = Tiling::new(1_000, 300, false).unwrap();
    let got = all(FastaStream::open(&path).unwrap(), tiling);
    assert!(got == expected(&[&long], &tiling));
}

#[test]
fn regions_through_the_index_give_the_windows_of_their_slices() {
    let dir = tempfile::tempdir().unwrap();
    let genome = sample();
    let fasta = dir.path().join("ref.fa");
    write_fasta(&fasta, &[("20", &genome)], false);
    let bed = dir.path().join("r.bed");
    std::fs::write(&bed, "chr20\t100\t2600\tfirst\n20\t15000\t15090\n").unwrap();
    let regions = read_bed(&bed).unwrap();
    let source = RegionSource::new(ReferenceGenome::open(&fasta).unwrap(), &regions, &bed).unwrap();
    assert_eq!(source.sequences()[0].contig, "20", "chr20 matched to 20");
    assert_eq!(source.sequences()[1].label, "20:15001-15090");
    let tiling = Tiling::new(256, 200, true).unwrap();
    let got = all(source, tiling);
    let want = expected(&[&genome[100..2600], &genome[15000..15090]], &tiling);
    assert!(got == want);
    // A region past its contig's end, or on a contig the genome lacks, names its line.
    std::fs::write(&bed, "20\t1\t5\n20\t19990\t20001\n").unwrap();
    let regions = read_bed(&bed).unwrap();
    let err = RegionSource::new(ReferenceGenome::open(&fasta).unwrap(), &regions, &bed)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("line 2: ends at 20001 but 20 has 20000 nt"),
        "{err}"
    );
    std::fs::write(&bed, "chrX\t1\t5\n").unwrap();
    let regions = read_bed(&bed).unwrap();
    let err = RegionSource::new(ReferenceGenome::open(&fasta).unwrap(), &regions, &bed)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("line 1: contig chrX is not in"), "{err}");
}

#[test]
fn bad_fasta_is_named_before_anything_is_scored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.fa");
    std::fs::write(&path, ">ok\nACGT\n>broken\nACGTAC\nGG!T\n").unwrap();
    let err = FastaStream::open(&path).err().unwrap().to_string();
    assert!(
        err.contains("record \"broken\": invalid character '!' at position 9"),
        "{err}"
    );
    std::fs::write(&path, "ACGT\n>late\nACGT\n").unwrap();
    let err = FastaStream::open(&path).err().unwrap().to_string();
    assert!(err.contains("before the first header"), "{err}");
    std::fs::write(&path, "").unwrap();
    assert!(FastaStream::open(&path)
        .err()
        .unwrap()
        .to_string()
        .contains("no FASTA records"));
    let err = FastaStream::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains("is a folder"), "{err}");
}
