//! Fuzzes the command line's file readers: any bytes, read as a `.npy` file
//! or as an `.npz` archive (its only member, or member `x`), must give an
//! array or an `Error`, never a panic, an abort or an allocation the bytes
//! do not justify (headers declaring more data than the file holds are
//! refused before allocating; libFuzzer's malloc limit catches the rest).
#![no_main]

use jitexpr::cli::io::{npy_from_bytes, npz_from_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match npy_from_bytes(data) {
        Ok(a) => {
            // What the reader returns is a whole array: its shape's size.
            let n: usize = a.shape().iter().product();
            assert_eq!(a.len(), n);
            let _ = jitexpr::cli::print::format_array(&a);
        }
        Err(e) => {
            let _ = e.render();
        }
    }
    for member in [None, Some("x")] {
        if let Err(e) = npz_from_bytes(data, member) {
            let _ = e.render();
        }
    }
});
