//! VCF records (plain text) on a fixed small reference: reference/alternate windows or
//! a named reason per ALT allele, or a typed error.
#![no_main]
use dnalm_genome::reference::ReferenceGenome;
use dnalm_genome::vcf_variants::{read_variants, WindowOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let reference = dnalm_fuzz::scratch().join("ref.fa");
    if !reference.exists() {
        let seq: String = (0..2000).map(|i| b"ACGTTGCA"[(i * 7 + i / 3) % 8] as char).collect();
        std::fs::write(&reference, format!(">20\n{seq}\n>chrM\nACGTACGT\n")).unwrap();
    }
    let vcf = dnalm_fuzz::scratch_file("v.vcf", data);
    let Ok(mut genome) = ReferenceGenome::open(&reference) else { return };
    let options = WindowOptions {
        flank: 16,
        label_info: Some("LABEL".into()),
        strict: data.first().is_some_and(|b| b & 1 == 1),
    };
    let _ = read_variants(&vcf, &mut genome, &options);
});
