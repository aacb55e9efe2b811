//! `packagers::jar`: a jar (omni.ja, a package zip) listed, then every entry decompressed
//! and CRC-checked. The reader must bound what it inflates by the size the entry claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use packagers::jar;

fuzz_target!(|data: &[u8]| {
    let Ok(entries) = jar::read_entries(data) else {
        return;
    };
    for info in &entries {
        // read_entries promises ranges inside the jar.
        let raw = &data[info.data.clone()];
        if let Ok(content) = jar::decompress(info, raw) {
            assert_eq!(content.len(), info.size as usize);
        }
    }
});
