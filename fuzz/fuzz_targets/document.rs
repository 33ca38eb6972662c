//! The pipeline on arbitrary text read as a pasted page, each line in `$$…$$`, so that the
//! document reader and its macros see every program (see `matgrad::fuzzing::document_bytes`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| matgrad::fuzzing::document_bytes(data));
