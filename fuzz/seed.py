#!/usr/bin/env python3
"""Seeds a fuzzing corpus from the repository's programs: the examples, every case of the
data-driven test files (split on `=== ` lines), the seed page, and the rule-table programs.

usage: fuzz/seed.py DIR   (run from the repository root)"""
import hashlib, pathlib, re, sys

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
root = pathlib.Path(".")
seeds = []
for path in sorted(root.glob("examples/*.mg")) + sorted(root.glob("examples/*.tex")):
    seeds.append(path.read_text())
seeds.append((root / "crates/matgrad/tests/data/pages/backprop-question.txt").read_text())
for path in sorted((root / "crates/matgrad/tests/data").glob("*.txt")):
    for block in re.split(r"(?m)^=== .*\n", path.read_text())[1:]:
        seeds.append(block)
# The programs of the tests' rule table and of the parser's table tests, as string literals.
for path in [root / "crates/matgrad/tests/common/mod.rs", root / "crates/matgrad/src/syntax/tests.rs"]:
    for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', path.read_text()):
        if "=" in literal:
            seeds.append(literal.encode().decode("unicode_escape").encode("latin-1", "replace").decode("utf-8", "replace"))
for seed in seeds:
    data = seed.encode()
    (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
print(f"{len(seeds)} seeds in {out}")
