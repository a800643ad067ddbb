//! VCF records against a reference cut from the shipped chr20 sample (GRCh37
//! chr20:30000001-30020000 as contig `20`): windows of SNVs, multi-allelic records,
//! deletions and insertions; every record that cannot be scored counted with its
//! reason, or an error under `strict`; the index built when missing; INFO written back.

use std::path::{Path, PathBuf};

use dnalm_genome::reference::ReferenceGenome;
use dnalm_genome::vcf_variants::{annotate, read_variants, Skipped, WindowOptions};
use dnalm_seq::source::{read_all, SourceOptions};

fn sample() -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/sample/chr20_200kb.fa.gz");
    let records = read_all(&path, &SourceOptions::default()).unwrap();
    records[0].seq[..20_000].to_vec()
}

fn base(genome: &[u8], pos: usize) -> char {
    genome[pos - 1] as char
}

fn other(b: char) -> char {
    if b == 'A' {
        'C'
    } else {
        'A'
    }
}

/// The reference FASTA (no index yet) and a VCF of every kind of record.
fn inputs(dir: &Path, genome: &[u8]) -> (PathBuf, PathBuf) {
    let fasta = dir.join("ref.fa");
    let mut text = String::from(">20\n");
    for line in genome.chunks(60) {
        text.push_str(std::str::from_utf8(line).unwrap());
        text.push('\n');
    }
    std::fs::write(&fasta, text).unwrap();
    let b = |pos| base(genome, pos);
    let del: String = (301..304).map(b).collect();
    let rows = [
        format!(
            "20\t101\tsnv\t{}\t{}\t.\tPASS\tLABEL=1",
            b(101),
            other(b(101))
        ),
        format!(
            "20\t201\tmulti\t{}\t{},G\t.\tPASS\tLABEL=0",
            b(201),
            other(b(201))
        ),
        format!("20\t301\tdel\t{del}\t{}\t.\tPASS\t.", b(301)),
        format!("20\t401\tins\t{}\t{}GT\t.\tPASS\t.", b(401), b(401)),
        format!("20\t501\tmismatch\t{}\tG\t.\tPASS\t.", other(b(501))),
        format!(
            "chr20\t601\tprefixed\t{}\t{}\t.\tPASS\t.",
            b(601),
            other(b(601))
        ),
        "5\t100\tmissing\tA\tC\t.\tPASS\t.".to_string(),
        "20\t19998\tpast\tACGTA\tA\t.\tPASS\t.".to_string(),
        format!("20\t701\tsymbolic\t{}\t<DEL>\t.\tPASS\t.", b(701)),
    ];
    let vcf = dir.join("variants.vcf");
    let header =
        "##fileformat=VCFv4.3\n##contig=<ID=20>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    std::fs::write(&vcf, format!("{header}{}\n", rows.join("\n"))).unwrap();
    (fasta, vcf)
}

#[test]
fn records_become_windows_or_named_skips() {
    let dir = tempfile::tempdir().unwrap();
    let genome = sample();
    let (fasta, vcf) = inputs(dir.path(), &genome);
    let mut reference = ReferenceGenome::open(&fasta).unwrap();
    assert!(
        dir.path().join("ref.fa.fai").is_file(),
        "the missing index is built"
    );
    let options = WindowOptions {
        flank: 20,
        label_info: Some("LABEL".into()),
        strict: false,
    };
    let alleles = read_variants(&vcf, &mut reference, &options).unwrap();
    let ids: Vec<(&str, usize)> = alleles.iter().map(|a| (a.id.as_str(), a.allele)).collect();
    assert_eq!(
        ids,
        [
            ("snv", 0),
            ("multi", 0),
            ("multi", 1),
            ("del", 0),
            ("ins", 0),
            ("mismatch", 0),
            ("prefixed", 0),
            ("missing", 0),
            ("past", 0),
            ("symbolic", 0)
        ]
    );
    // The SNV: 20 nt either side of position 101, the alternate differing at its centre.
    let (r, a) = alleles[0].windows.clone().unwrap();
    assert_eq!(r, genome[80..121].to_vec());
    assert_eq!(r.len(), a.len());
    let differing: Vec<usize> = (0..r.len()).filter(|&i| r[i] != a[i]).collect();
    assert_eq!(differing, [20]);
    assert_eq!(alleles[0].label, Some(true));
    assert_eq!(alleles[2].label, Some(false));
    assert_eq!(alleles[2].windows.as_ref().unwrap().1[20], b'G');
    // The deletion drops two bases, the insertion adds two.
    let (r, a) = alleles[3].windows.clone().unwrap();
    assert_eq!((r.len(), a.len()), (43, 41));
    assert_eq!(a, [&genome[280..301], &genome[303..323]].concat());
    let (r, a) = alleles[4].windows.clone().unwrap();
    assert_eq!(a.len(), r.len() + 2);
    assert!(alleles[6].windows.is_ok(), "chr20 finds contig 20");
    let skipped: Vec<Skipped> = alleles[5..]
        .iter()
        .filter_map(|a| a.windows.clone().err())
        .collect();
    assert_eq!(
        skipped,
        [
            Skipped::RefMismatch {
                genome: base(&genome, 501).to_string()
            },
            Skipped::MissingContig,
            Skipped::PastEnd,
            Skipped::NotSequence,
        ]
    );

    let strict = WindowOptions {
        strict: true,
        ..options.clone()
    };
    let err = read_variants(&vcf, &mut reference, &strict)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("record 5 (20:501): REF differs from the reference"),
        "{err}"
    );

    let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); 9];
    for allele in &alleles {
        values[allele.record - 1].push(allele.windows.as_ref().ok().map(|_| -0.5));
    }
    let mut out = Vec::new();
    annotate(&vcf, &mut out, "DNALM_SCORE", "test", &values).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("##INFO=<ID=DNALM_SCORE,Number=A,Type=Float"),
        "{text}"
    );
    assert!(
        text.contains("\tLABEL=0;DNALM_SCORE=-0.500000,-0.500000\n"),
        "{text}"
    );
    assert!(
        text.contains("\tmismatch\t") && text.contains("\tDNALM_SCORE=.\n"),
        "{text}"
    );
}

#[test]
fn a_bgzipped_reference_without_its_index_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ref.fa.gz");
    std::fs::write(&path, b"not read").unwrap();
    let err = ReferenceGenome::open(&path).err().unwrap().to_string();
    assert!(err.contains("samtools faidx"), "{err}");
}
