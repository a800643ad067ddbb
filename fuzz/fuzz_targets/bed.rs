//! BED files (plain or gzip): regions or a typed error naming the line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = dnalm_fuzz::scratch_file("r.bed", data);
    let _ = dnalm_genome::bed::read_bed(&path);
});
