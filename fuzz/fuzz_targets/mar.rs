//! `packagers::mar::MarReader`: header, signatures, additional sections and index
//! validated, then every member read.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use packagers::mar::MarReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = MarReader::new(Cursor::new(data)) else {
        return;
    };
    let _ = reader.product_info();
    let _ = reader.signatures();
    assert_eq!(reader.total_size(), data.len() as u64);
    for entry in reader.entries().to_vec() {
        let bytes = reader.read(&entry).expect("a validated entry reads");
        assert_eq!(bytes.len(), entry.length as usize);
    }
});
