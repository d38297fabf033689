//! The pictures of a run: IRR and net-savings histograms, cash-flow fans,
//! and for portfolios the per-contract interval charts. Written as SVG
//! files and embedded in `report.html`.

use super::{plot, Exporter, RunOutput};
use crate::model::names;
use crate::sim::record::RunResults;
use crate::stats::RunSummary;

/// One picture: its file name, caption and SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// File name in the results folder.
    pub file: String,
    /// Caption in the report.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// Writes every picture as an SVG file.
pub struct Charts;

impl Exporter for Charts {
    fn files(&self, run: &RunOutput) -> Vec<(String, Vec<u8>)> {
        run.pictures
            .iter()
            .map(|p| (p.file.clone(), p.svg.clone().into_bytes()))
            .collect()
    }
}

/// Draws the pictures of a run (those whose data exist).
pub fn pictures(summary: &RunSummary, results: &RunResults, currency: &str) -> Vec<Picture> {
    let mut pictures = Vec::new();
    let mut add = |file: &str, caption: &str, svg: Option<String>| {
        if let Some(svg) = svg {
            pictures.push(Picture {
                file: file.to_string(),
                caption: caption.to_string(),
                svg,
            });
        }
    };
    if let Some(irr) = results.column(names::IRR) {
        let percent: Vec<f64> = irr.iter().map(|x| x * 100.0).collect();
        add(
            "irr_histogram.svg",
            "Investor IRR across replications (undefined IRRs left out)",
            plot::histogram(&percent, "Investor IRR", "annual IRR (%)", 40),
        );
    }
    if let Some(net) = results.column(names::NET_SAVINGS) {
        add(
            "net_savings_histogram.svg",
            "Payer net savings across replications",
            plot::histogram(
                net,
                "Payer net savings",
                &format!("net savings, discounted ({currency})"),
                40,
            ),
        );
    }
    let years: Vec<f64> = summary.cashflows.iter().map(|c| c.0).collect();
    let investor: Vec<[f64; 5]> = summary.cashflows.iter().map(|c| c.1).collect();
    let payer: Vec<[f64; 5]> = summary.cashflows.iter().map(|c| c.2).collect();
    add(
        "cashflow_fan_investor.svg",
        "Cumulative cash flow to investors: median, p25–p75 and p05–p95",
        plot::fan_chart(
            &years,
            &investor,
            "Investors: cumulative cash flow",
            &format!("{currency} (undiscounted)"),
        ),
    );
    add(
        "cashflow_fan_payer.svg",
        "Payer: cumulative costs avoided minus payments (and programme costs it bears)",
        plot::fan_chart(
            &years,
            &payer,
            "Payer: cumulative net position",
            &format!("{currency} (undiscounted)"),
        ),
    );
    if let Some((contracts, _)) = &summary.payment_correlation {
        for (statistic, label, unit) in [
            (
                names::NET_SAVINGS,
                "Payer net savings by contract",
                format!("{currency}, discounted"),
            ),
            (names::MULTIPLE, "Investor multiple by contract", "multiple".to_string()),
        ] {
            let rows: Vec<(String, f64, f64, f64)> = contracts
                .iter()
                .filter_map(|c| {
                    summary
                        .statistic(&names::contract(c, statistic))
                        .map(|s| (c.clone(), s.p05, s.p50, s.p95))
                })
                .collect();
            let file = format!("contracts_{}.svg", statistic.replace('.', "_"));
            add(
                &file,
                &format!("{label}: p05–p95 box, median line"),
                plot::interval_chart(&rows, label, &unit),
            );
        }
    }
    pictures
}
