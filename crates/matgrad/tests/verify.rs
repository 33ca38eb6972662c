//! `verify`: the seed page's claims, and a table of derivations with planted errors.

use super::common;

use crate::verify::{Verdict, Verification};
use common::{cases, parse};

fn verify(source: &str) -> Verification {
    let program = parse(source);
    let sizes: Vec<(String, usize)> = program.graph.dims.symbols().map(|(_, n)| (n.to_string(), 4)).collect();
    let point = program.point(&sizes, Default::default(), 3).expect("a point");
    program.verify(&point).expect("verifies").verification
}

/// One line per claim: where, verdict, kind, the claim, and the note.
fn report(verification: &Verification) -> String {
    let mut out = String::new();
    for claim in &verification.claims {
        let text: String = claim.source.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "{}:{} {} {} `{}`{}\n",
            claim.line,
            claim.column,
            claim.verdict.as_str(),
            claim.kind.as_str(),
            text,
            if claim.note.is_empty() { String::new() } else { format!(" — {}", claim.note) }
        ));
    }
    out
}

#[test]
fn the_seed_page_claim_by_claim() {
    let page = include_str!("data/pages/backprop-question.txt");
    let verification = verify(page);
    assert_eq!(verification.output, "L");
    assert!(verification.first_failure().is_none(), "{}", report(&verification));
    let holds = |needle: &str| {
        let claim = verification.claims.iter().find(|c| c.source.contains(needle));
        assert!(claim.is_some_and(|c| c.verdict == Verdict::Holds), "{needle}: {claim:?}");
    };
    // The first answer's chain rule for A, the second answer's for z, y, u, B, v.
    holds(r"\frac{\dv{L}}{\dv{A}} = \frac{\dv{L}}{\dv{w}}");
    holds(r"\frac{dL}{dA} = \frac{dL}{dw}\frac{\partial w}{\partial A}");
    for chain in [r"\frac{dL}{dz} =", r"\frac{dL}{dy} =", r"\frac{dL}{du} =", r"\frac{dL}{dB} =", r"\frac{dL} {dv} ="] {
        holds(chain);
    }
    // The third answer's differentials, definitions and gradients.
    for step in [
        r"dy = dA\:x + A\:dx",
        r"du = (U - U^2)\:dy",
        r"dz = dA\:Vu + AV\:du + AU\:dv",
        r"dL = 2w^Tdw",
        r"\tfrac 12\:dL &= P:dA + r:dv + q:du",
        r"U &= {\rm Diag}(u)",
        r"P &= wz^T+A^Twu^TV",
        r"\cgrad{L}{A} &= {2P+2(U - U^2)qx^T}",
        r"\cgrad{L}{B} &= 2rx^T",
        r"\cgrad{L}{x} &= {2B^Tr + 2A^T(U-U^2)q}",
        r"C:\LR{AB} &= \LR{CB^T}:A",
    ] {
        holds(step);
    }
    insta::assert_snapshot!(report(&verification));
}

/// Each derivation holds as written; with each planted error, the first claim that fails is
/// the planted one, and no claim before it fails.
#[test]
fn derivations_and_their_planted_errors() {
    let text = include_str!("data/derivations.txt");
    let mut out = String::new();
    for (name, body) in cases(text) {
        let mut parts = body.split("\n--- ");
        let correct = parts.next().unwrap_or_default().to_string();
        let verification = verify(&correct);
        assert!(verification.first_failure().is_none(), "{name} fails as written:\n{}", report(&verification));
        let unchecked: Vec<_> = verification.claims.iter().filter(|c| c.verdict == Verdict::Unchecked).collect();
        assert!(unchecked.is_empty(), "{name}: unchecked claims {unchecked:?}");
        out.push_str(&format!("=== {name}\n{}", report(&verification)));
        out.push_str(&planted_errors(&name, &correct, parts));
    }
    insta::assert_snapshot!(out);
}

/// The seed page with errors planted in its answers: each is caught where it is made.
#[test]
fn the_seed_page_with_planted_errors() {
    let page = include_str!("data/pages/backprop-question.txt");
    let planted = include_str!("data/pages/backprop-question.planted.txt");
    let parts = planted.split("\n--- ").skip(1);
    insta::assert_snapshot!(planted_errors("the seed page", page, parts));
}

/// For each `what\nold => new…` in `parts`: `correct` with the replacements fails first at
/// the claim that holds the change (or the one `@ text` names). The report of each, failing claims only.
fn planted_errors<'t>(name: &str, correct: &str, parts: impl Iterator<Item = &'t str>) -> String {
    let mut out = String::new();
    {
        for planted in parts {
            let (what, replacements) = planted.split_once('\n').unwrap_or((planted, ""));
            let mut wrong = correct.to_string();
            let mut new_texts = Vec::new();
            let mut expected_at = None;
            for line in replacements.lines().filter(|l| !l.trim().is_empty()) {
                if let Some(at) = line.strip_prefix("@ ") {
                    expected_at = Some(at);
                    continue;
                }
                let (old, new) = line.split_once(" => ").unwrap_or_else(|| panic!("{name}/{what}: `old => new`"));
                assert!(wrong.contains(old), "{name}/{what}: `{old}` is not in the derivation");
                wrong = wrong.replacen(old, new, 1);
                new_texts.push((old.to_string(), new.to_string()));
            }
            let verification = verify(&wrong);
            let failure = verification
                .first_failure()
                .unwrap_or_else(|| panic!("{name}/{what}: nothing fails\n{}", report(&verification)));
            // The failing claim is the planted one: it holds the new text (or, for a deleted
            // term, stands where the old text stood).
            let planted_here = expected_at.map(|at| failure.source.contains(at)).unwrap_or_else(|| {
                new_texts.iter().any(|(old, new)| {
                    // Where the change is (the first differing byte), inside the failing claim.
                    let at = correct.find(old.as_str()).unwrap_or(0);
                    let differs = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
                    failure_range(&wrong, failure).contains(&(at + differs))
                })
            });
            assert!(planted_here, "{name}/{what}: the first failure is elsewhere: {failure:?}");
            let failing: String = report(&verification)
                .lines()
                .filter(|line| line.split(' ').nth(1) == Some("fails"))
                .map(|line| format!("{line}\n"))
                .collect();
            out.push_str(&format!("--- {what}\n{failing}"));
        }
    }
    out
}

/// The byte range of a claim in `source`.
fn failure_range(source: &str, claim: &crate::verify::Claim) -> std::ops::Range<usize> {
    let start = source.find(claim.source.as_str()).unwrap_or(0);
    start..start + claim.source.len() + 1
}
