//! CSV/TSV tables, plain or gzip: records or a typed error naming the row.
#![no_main]
use dnalm_seq::table::{TableColumns, TableRecords};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let delimiter = if data.first().is_some_and(|b| b & 1 == 1) { b'\t' } else { b',' };
    let bytes = data.to_vec();
    let columns = TableColumns::default();
    if let Ok(reader) = TableRecords::from_reader(std::path::Path::new("t.csv"), std::io::Cursor::new(bytes), delimiter, &columns) {
        for record in reader.take(10_000) {
            let _ = record;
        }
    }
});
