//! What a run prints in the terminal: a few lines a person reads first; the
//! files hold everything.

use super::format;
use crate::model::names;
use crate::stats::RunSummary;

/// The headline table of a run, then the exact expectation of the true
/// savings and the headline probabilities, one line each.
pub fn headline(report: &RunSummary) -> String {
    let mut out = format!(
        "  {:<28} {:>14} {:>12} {:>14} {:>14} {:>14}\n",
        "statistic", "mean", "± se", "p05", "p50", "p95"
    );
    for name in names::HEADLINE_STATISTICS {
        if let Some(s) = report.statistic(name) {
            out.push_str(&format!(
                "  {name:<28} {} {} {} {} {}\n",
                format::terminal(s.mean, 14),
                format::terminal(s.se, 12),
                format::terminal(s.p05, 14),
                format::terminal(s.p50, 14),
                format::terminal(s.p95, 14),
            ));
        }
    }
    if let Some((_, v)) = report.expected.iter().find(|(n, _)| n == names::TRUE_SAVINGS) {
        out.push_str(&format!("  exact expected true savings: {v:.2}\n"));
    }
    for name in names::HEADLINE_EVENTS {
        if let Some(p) = report.probability(name) {
            out.push_str(&format!("  P({name}) = {:.4} ± {:.4}\n", p.p, p.se));
        }
    }
    out
}
