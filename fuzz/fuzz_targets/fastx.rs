//! FASTA/FASTQ, plain or gzip (the format and compression found from the bytes), with
//! and without labels in the headers: records or a typed error, never a panic.
#![no_main]
use dnalm_seq::fastx::FastxRecords;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let header_labels = data.first().is_some_and(|b| b & 1 == 1);
    let bytes = data.to_vec();
    if let Ok(reader) = FastxRecords::from_reader(std::path::Path::new("f.fa"), std::io::Cursor::new(bytes), header_labels) {
        for record in reader.take(10_000) {
            let _ = record;
        }
    }
});
