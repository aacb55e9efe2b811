//! `packagers::udif::read_partitions`: a UDIF image's trailer, property list, block tables
//! and chunks decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = packagers::udif::read_partitions(data);
});
