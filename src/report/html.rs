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

/// The style every sibsim page shares.
const STYLE: &str = "body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 980px; color: #1a1a1a; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1rem 0; } figcaption { font-size: .9rem; color: #555; }
svg { max-width: 100%; height: auto; } .meta { color: #555; font-size: .9rem; }
.finding { font-size: 1.05rem; }
";

/// A page's start, up to and including `<body>`: the document head with its
/// (already escaped) title and the shared style, inline (no network).
pub fn document_head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>sibsim: {title}</title>\n<style>\n{STYLE}</style></head><body>\n"
    )
}

/// The headline statistics, in the order a reader wants them.
pub const HEADLINE: [(&str, &str); 12] = [
    (names::IRR, "Investor IRR (annual)"),
    (names::MULTIPLE, "Investor money multiple"),
    (names::NPV, "Investor NPV at the investors' rate"),
    (names::TRUE_SAVINGS, "Payer: true savings (discounted)"),
    (names::PAYMENTS, "Payer: outcome payments (discounted)"),
    (names::NET_SAVINGS, "Payer: net savings (discounted)"),
    (names::CONTRIBUTIONS, "Capital called"),
    (names::DISTRIBUTIONS, "Distributed to investors"),
    (names::OVERCALL, "Called beyond commitment"),
    (
        names::DEADWEIGHT,
        "Payer: deadweight, paid for outcomes that would have happened anyway (discounted)",
    ),
    (
        names::DEADWEIGHT_SHARE,
        "Payer: deadweight share of per-participant outcome payments",
    ),
    (names::ENROLLED, "Children who started the programme"),
];

/// Writes `report.html`.
pub struct Html;

impl Exporter for Html {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        let page = render(run.summary, run.description, run.terms, run.pictures, run.currency);
        vec![("report.html".to_string(), page.into_bytes())]
    }
}

/// One sentence that says what the run found, from its numbers.
pub fn opening(report: &RunSummary, currency: &str) -> String {
    let mut parts = Vec::new();
    if let (Some(net), Some(loss)) = (
        report.statistic(names::NET_SAVINGS),
        report.probability(names::NET_LOSS),
    ) {
        parts.push(format!(
            "the payer's net savings average {} (median {}), and it ends worse off than without the contract in {} of them",
            format::money(net.mean, currency),
            format::money(net.p50, currency),
            format::percent(loss.p)
        ));
    }
    if let (Some(irr), Some(loss)) = (report.statistic(names::IRR), report.probability(names::INVESTOR_LOSS)) {
        parts.push(format!(
            "the investors' median IRR is {} (from {} at the 5th percentile to {} at the 95th), and they lose money in {}",
            format::percent(irr.p50),
            format::percent(irr.p05),
            format::percent(irr.p95),
            format::percent(loss.p)
        ));
    }
    if let Some(p) = report.probability(names::PAID_WITHOUT_IMPACT).filter(|p| p.p > 0.0) {
        parts.push(format!(
            "the payer pays for impact that did not happen in {}",
            format::percent(p.p)
        ));
    }
    if parts.is_empty() {
        return format!("{} replications.", format::count(report.replications));
    }
    format!(
        "Across {} replications, {}.",
        format::count(report.replications),
        parts.join("; ")
    )
}

/// Text between backticks (a metric's name in the key terms) as `<code>`,
/// as the Markdown it is written in would show it; text with an unpaired
/// backtick is left as it is.
fn code_spans(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return text.to_string();
    }
    let mut out = String::new();
    for (k, part) in parts.iter().enumerate() {
        if k % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Renders the page, with the pictures inline.
pub fn render(
    report: &RunSummary,
    description: &str,
    terms: &[(String, String)],
    pictures: &[Picture],
    currency: &str,
) -> String {
    let mut rows = String::new();
    for (name, label) in HEADLINE {
        if let Some(s) = report.statistic(name) {
            let unit = names::unit(name);
            let (mean, se) = format::mean_and_se(s.mean, s.se, unit, currency);
            rows.push_str(&format!(
                "<tr><td>{}</td><td class=n>{} ± {}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td><code>{}</code></td></tr>\n",
                escape(label),
                mean,
                se,
                format::value(s.p05, unit, currency),
                format::value(s.p50, unit, currency),
                format::value(s.p95, unit, currency),
                escape(name)
            ));
        }
    }
    let mut probabilities = String::new();
    for (name, p) in &report.probabilities {
        let (probability, se) = format::percent_and_se(p.p, p.se);
        probabilities.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=n>{} ± {}</td><td>{}</td></tr>\n",
            escape(name),
            probability,
            se,
            escape(super::terminal::meaning(name))
        ));
    }
    let mut tails = String::new();
    for (name, value) in &report.expected_shortfall {
        let unit = names::unit(name);
        tails.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=n>{}</td></tr>\n",
            escape(name),
            value.map_or("–".to_string(), |v| format::value(v, unit, currency))
        ));
    }
    let contracts = contract_table(report, currency);
    let correlation = correlation_table(report);
    let mut term_rows = String::new();
    for (k, v) in terms {
        term_rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>\n",
            escape(k),
            code_spans(&escape(v))
        ));
    }
    let mut figures = String::new();
    for Picture { caption, svg, .. } in pictures {
        figures.push_str(&format!(
            "<figure>{svg}<figcaption>{}</figcaption></figure>\n",
            escape(caption)
        ));
    }
    format!(
        r#"{head}<h1>{name}</h1>
<p>{description}</p>
<p id="finding" class="finding">{finding}</p>
<p class="meta">{replications} replications · seed {seed} · sibsim {version} · money in {currency}, discounted unless a chart says otherwise · quantiles within 0.1 % of the order statistics · ± is one Monte Carlo standard error</p>
<h2>Headline</h2>
<table id="headline"><tr><th>statistic</th><th>mean ± se</th><th>p05</th><th>p50</th><th>p95</th><th>name</th></tr>
{rows}</table>
{contracts}<h2>Probabilities</h2>
<table id="probabilities"><tr><th>event</th><th>p ± se</th><th>meaning</th></tr>
{probabilities}</table>
<h2>Tails</h2>
<table id="shortfall"><tr><th>statistic</th><th>expected shortfall: mean of the worst 5 %</th></tr>
{tails}</table>
{correlation}
<h2>Pictures</h2>
{figures}
<h2>Key terms</h2>
<table id="terms">
{term_rows}</table>
</body></html>
"#,
        head = document_head(&escape(&report.scenario)),
        name = escape(&report.scenario),
        description = escape(description),
        replications = format::count(report.replications),
        seed = report.seed,
        version = ENGINE_VERSION,
        finding = escape(&opening(report, currency)),
        currency = escape(currency),
    )
}

/// For a portfolio: one row per contract; empty otherwise.
fn contract_table(report: &RunSummary, currency: &str) -> String {
    let contracts = super::contracts::rows(report, currency);
    if contracts.is_empty() {
        return String::new();
    }
    let mut rows = String::new();
    for [name, cells @ ..] in &contracts {
        rows.push_str(&format!("<tr><td>{}</td>", escape(name)));
        for cell in cells {
            rows.push_str(&format!("<td class=n>{cell}</td>"));
        }
        rows.push_str("</tr>\n");
    }
    format!(
        "<h2>By contract</h2>\n<table id=\"contracts\"><tr><th>contract</th><th>IRR p05</th><th>IRR p50</th><th>IRR p95</th><th>P(investor loss)</th><th>multiple (mean)</th><th>payer net savings (mean)</th><th>P(paid without impact)</th></tr>\n{rows}</table>\n"
    )
}

/// For a portfolio: the correlation of the contracts' payments, shaded from
/// white (0) to blue (1) and red (−1); empty otherwise.
fn correlation_table(report: &RunSummary) -> String {
    let Some((contracts, matrix)) = &report.payment_correlation else {
        return String::new();
    };
    let mut out =
        String::from("<h2>How the contracts' payments move together</h2>\n<table id=\"correlation\"><tr><th></th>");
    for c in contracts {
        out.push_str(&format!("<th>{}</th>", escape(c)));
    }
    out.push_str("</tr>\n");
    for (c, row) in contracts.iter().zip(matrix) {
        out.push_str(&format!("<tr><th>{}</th>", escape(c)));
        for &r in row {
            let (colour, text) = if r.is_finite() {
                let a = (r.abs() * 0.85).min(0.85);
                let rgb = if r >= 0.0 { "40, 90, 180" } else { "190, 60, 40" };
                (
                    format!("background: rgba({rgb}, {a:.2})"),
                    format!("{r:.2}").replacen('-', "\u{2212}", 1),
                )
            } else {
                (String::new(), "–".to_string())
            };
            out.push_str(&format!("<td class=n style=\"{colour}\">{text}</td>"));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n<p class=\"meta\">Pearson correlation of each pair of contracts' discounted outcome payments across replications; the shared shock is what makes them move together.</p>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::code_spans;

    #[test]
    fn backticked_names_become_code_and_unpaired_ones_stay() {
        assert_eq!(
            code_spans("on `placement_years`: €60 000"),
            "on <code>placement_years</code>: €60 000"
        );
        assert_eq!(code_spans("no names"), "no names");
        assert_eq!(code_spans("one ` alone"), "one ` alone");
    }
}
