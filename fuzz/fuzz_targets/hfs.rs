//! `packagers::hfs::read_volume`: an HFS+ volume (a raw partition) read whole.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = packagers::hfs::read_volume(data.to_vec());
});
