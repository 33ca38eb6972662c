//! `verify`'s report: every claim of a page with its verdict, at a point.

use serde::Serialize;

use super::At;
use crate::explain::Format;
use crate::verify::{render, summary, Claim, Verification};
use crate::{Error, Point, Program};

/// A page's claims checked against its model.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    #[serde(flatten)]
    pub verification: Verification,
    /// "45 hold, 0 fail, 1 unchecked. Every checked claim holds."
    pub summary: String,
    #[serde(flatten)]
    pub at: At,
    /// How the inputs were read, for text.
    #[serde(skip)]
    pub inputs_header: String,
}

impl Program {
    /// Checks every claim of a pasted page at `point` (see `verify` for what is a claim
    /// and how each kind is checked).
    pub fn verify(&self, point: &Point) -> Result<VerifyReport, Error> {
        let verification = self.verify_claims(&point.sizes, &point.inputs)?;
        Ok(VerifyReport {
            summary: summary(&verification),
            verification,
            at: At::of(point),
            inputs_header: self.inputs_header(),
        })
    }
}

impl VerifyReport {
    /// The first claim that fails, if any.
    pub fn first_failure(&self) -> Option<&Claim> {
        self.verification.first_failure()
    }

    /// For a terminal: each claim on a line with its verdict, then the summary.
    pub fn text(&self) -> String {
        render(&self.verification, Format::Text, &format!("{}{}", self.inputs_header, self.at.header))
    }

    /// A Markdown table, for a post.
    pub fn markdown(&self) -> String {
        render(&self.verification, Format::Markdown, "")
    }

    /// A standalone HTML page.
    pub fn html(&self) -> String {
        render(&self.verification, Format::Html, "")
    }
}
