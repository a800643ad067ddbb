//! Variants from a VCF on a reference genome (the shipped splice-junction variants as a
//! VCF, data/sample/splice_vcf): the same scores and AUROC as the table form, the VCF
//! written back with the scores in INFO, unscorable records counted and named.

mod common;

use common::{failure_of, repo, stdout_of};

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_vcf_scores_like_its_table_and_is_written_back_annotated() {
    let dir = tempfile::tempdir().unwrap();
    let genes = repo("data/sample/genes_300.csv.gz").display().to_string();
    let model = dir.path().join("genes.dnalm-ngram").display().to_string();
    stdout_of(&["ngram", "train", "--order", "4", "-o", &model, &genes]);
    // The reference is copied: its index is built beside it, not in data/sample.
    let reference = dir.path().join("junctions.fa");
    std::fs::copy(repo("data/sample/splice_vcf/junctions.fa"), &reference).unwrap();
    let reference = reference.display().to_string();
    let vcf = repo("data/sample/splice_vcf/variants.vcf")
        .display()
        .to_string();
    let table = repo("data/sample/splice_variants.csv")
        .display()
        .to_string();
    let auroc = |text: &str| {
        text.lines()
            .find(|l| l.contains("AUROC"))
            .map(str::to_string)
    };
    let from_table = stdout_of(&["eval", "variants", "-m", &model, &table]);
    // `eval variants` of a VCF on the junctions, with `extra` flags.
    let on_reference = |extra: &[&str], vcf: &str| -> Vec<String> {
        let mut args = vec!["eval", "variants", "-m", &model, "--reference", &reference];
        args.extend(extra);
        args.push(vcf);
        args.into_iter().map(String::from).collect()
    };
    let out = dir.path().join("scored.vcf").display().to_string();
    let from_vcf = stdout_of(&as_strs(&on_reference(
        &["--window", "120", "--label-info", "LABEL", "-o", &out],
        &vcf,
    )));
    assert_eq!(auroc(&from_vcf), auroc(&from_table), "{from_vcf}");
    assert!(
        from_vcf.contains("174 ALT alleles in 174 records; 174 scored"),
        "{from_vcf}"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("##INFO=<ID=DNALM_LLR,Number=A"));
    assert_eq!(written.matches(";DNALM_LLR=").count(), 174);
    // --format tsv whatever the name: one row per ALT with its status.
    let tsv = dir.path().join("scored.also.vcf").display().to_string();
    stdout_of(&as_strs(&on_reference(
        &["--window", "120", "--format", "tsv", "-o", &tsv],
        &vcf,
    )));
    let rows = std::fs::read_to_string(&tsv).unwrap();
    assert!(rows.starts_with("chrom\tpos\tid\tref\talt\tscore\tlabel\tstatus\n"));
    assert_eq!(
        rows.lines().filter(|l| l.ends_with("\tscored")).count(),
        174
    );
    let refused = common::dnalm(&as_strs(&on_reference(&["--window", "0"], &vcf)));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("0 is not in 1..="),
        "{err}"
    );

    // A record whose REF is not the reference's: counted and named, or (--strict) an error.
    let text = std::fs::read_to_string(&vcf).unwrap();
    let broken = text.replacen(
        "row3\t31\trow3_ei_30C\tG\tC",
        "row3\t31\trow3_ei_30C\tT\tC",
        1,
    );
    let bad = dir.path().join("bad.vcf");
    std::fs::write(&bad, broken).unwrap();
    let bad = bad.display().to_string();
    let counted = stdout_of(&as_strs(&on_reference(&["--window", "120"], &bad)));
    assert!(
        counted.contains("173 scored, 1 not scored (REF differs"),
        "{counted}"
    );
    let err = failure_of(&as_strs(&on_reference(&["--strict"], &bad)));
    assert!(
        err.contains("record 1 (row3:31): REF differs from the reference (G)"),
        "{err}"
    );
}
