#!/usr/bin/env python3
"""Picks the committed corpus from a `cargo fuzz cmin` output: the inputs named `crash-*`
already committed (fixed crashes) first, then inputs evenly spaced in the list sorted by
size (small and large, so every stage of the pipeline is reached), up to LIMIT files and
BYTES bytes, so that `tests/fuzz_corpus.rs` stays quick.

usage: fuzz/sample.py MINIMISED_DIR COMMITTED_DIR"""
import pathlib, sys

LIMIT, BYTES = 300, 1 << 20
source, target = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
target.mkdir(parents=True, exist_ok=True)
kept = sorted(p for p in target.iterdir() if p.name.startswith("crash-"))
for p in target.iterdir():
    if not p.name.startswith("crash-"):
        p.unlink()
total = sum(p.stat().st_size for p in kept)
count = len(kept)
inputs = sorted(source.iterdir(), key=lambda p: (p.stat().st_size, p.name))
stride = max(1, len(inputs) / max(1, LIMIT - count))
picks = [inputs[int(i * stride)] for i in range(LIMIT - count) if int(i * stride) < len(inputs)]
for p in picks:
    size = p.stat().st_size
    if count >= LIMIT or total + size > BYTES:
        break
    (target / p.name).write_bytes(p.read_bytes())
    count, total = count + 1, total + size
print(f"{count} files, {total} bytes in {target}")
