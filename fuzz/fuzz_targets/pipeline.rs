//! The whole pipeline on arbitrary text: parse, listing and re-parse, gradients and their
//! closed forms, evaluation, explanation (see `matgrad::fuzzing::pipeline`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| matgrad::fuzzing::pipeline_bytes(data));
