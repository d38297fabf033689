//! `report.html`: one self-contained page (inline CSS and SVG, no network).

use super::charts::Picture;
use super::format;
use super::{Exporter, RunOutput, ENGINE_VERSION};
use crate::model::names;
use crate::stats::RunSummary;

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The headline statistics, in the order a reader wants them.
pub const HEADLINE: [(&str, &str); 9] = [
    (names::IRR, "Investor IRR (annual)"),
    (names::MULTIPLE, "Investor money multiple"),
    (names::NPV, "Investor NPV at the investors' rate"),
    (names::TRUE_SAVINGS, "Payer: true savings (discounted)"),
    (names::PAYMENTS, "Payer: outcome payments (discounted)"),
    (names::NET_SAVINGS, "Payer: net savings (discounted)"),
    (names::CONTRIBUTIONS, "Capital called"),
    (names::DISTRIBUTIONS, "Distributed to investors"),
    (names::OVERCALL, "Called beyond commitment"),
];

/// Writes `report.html`.
pub struct Html;

impl Exporter for Html {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        let page = render(run.summary, run.description, run.terms, run.pictures);
        vec![("report.html".to_string(), page.into_bytes())]
    }
}

/// Renders the page, with the pictures inline.
pub fn render(report: &RunSummary, description: &str, terms: &[(String, String)], pictures: &[Picture]) -> String {
    let mut rows = String::new();
    for (name, label) in HEADLINE {
        if let Some(s) = report.statistic(name) {
            rows.push_str(&format!(
                "<tr><td>{}</td><td class=n>{} ± {}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td><code>{}</code></td></tr>\n",
                escape(label),
                format::table(s.mean),
                format::table(s.se),
                format::table(s.p05),
                format::table(s.p50),
                format::table(s.p95),
                escape(name)
            ));
        }
    }
    let mut probabilities = String::new();
    for (name, p) in &report.probabilities {
        probabilities.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=n>{:.4} ± {:.4}</td></tr>\n",
            escape(name),
            p.p,
            p.se
        ));
    }
    let mut term_rows = String::new();
    for (k, v) in terms {
        term_rows.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>\n", escape(k), escape(v)));
    }
    let mut figures = String::new();
    for Picture { caption, svg, .. } in pictures {
        figures.push_str(&format!(
            "<figure>{svg}<figcaption>{}</figcaption></figure>\n",
            escape(caption)
        ));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sibsim: {name}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #1a1a1a; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; margin-bottom: .2rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; width: 100%; font-size: .92rem; }}
th, td {{ padding: .3rem .5rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
figure {{ margin: 1rem 0; }} figcaption {{ font-size: .9rem; color: #555; }}
svg {{ max-width: 100%; height: auto; }} .meta {{ color: #555; font-size: .9rem; }}
</style></head><body>
<h1>{name}</h1>
<p>{description}</p>
<p class="meta">{replications} replications · seed {seed} · sibsim {version} · quantiles are exact order statistics · ± is one Monte Carlo standard error</p>
<h2>Headline</h2>
<table id="headline"><tr><th>statistic</th><th>mean ± se</th><th>p05</th><th>p50</th><th>p95</th><th>name</th></tr>
{rows}</table>
<h2>Probabilities</h2>
<table id="probabilities"><tr><th>event</th><th>p ± se</th></tr>
{probabilities}</table>
<h2>Pictures</h2>
{figures}
<h2>Key terms</h2>
<table id="terms">
{term_rows}</table>
</body></html>
"#,
        name = escape(&report.scenario),
        description = escape(description),
        replications = report.replications,
        seed = report.seed,
        version = ENGINE_VERSION,
    )
}
