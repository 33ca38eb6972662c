//! Replays the fuzz targets' committed corpus (`fuzz/corpus/`, minimised with
//! `cargo fuzz cmin`) through the same pipeline they run, on stable Rust: every input that
//! once reached new code, and every crash found and fixed, must still run without a panic.

use std::path::Path;

/// Every file of `fuzz/corpus/<target>`, in name order.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("a corpus file"))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn the_pipeline_corpus_runs() {
    for (name, bytes) in corpus("pipeline") {
        eprintln!("pipeline/{name}");
        matgrad::fuzzing::pipeline_bytes(&bytes);
    }
}

#[test]
fn the_document_corpus_runs() {
    for (name, bytes) in corpus("document") {
        eprintln!("document/{name}");
        matgrad::fuzzing::document_bytes(&bytes);
    }
}
