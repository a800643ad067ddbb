//! A fine-tuning task given as one table with a split column: the splits and the label
//! vocabulary, or a typed error.
#![no_main]
use dnalm_seq::table::TableColumns;
use dnalm_seq::task::TaskData;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = dnalm_fuzz::scratch_file("task.csv", data);
    let _ = TaskData::open_any(&path, &TableColumns::default(), "split");
});
