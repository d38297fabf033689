//! The pictures of a run: IRR and net-savings histograms, cash-flow fans,
//! and for portfolios the per-contract interval charts. Written as SVG
//! files and embedded in `report.html`.

use super::format::Ticks;
use super::{plot, Exporter, RunOutput};
use crate::model::names;
use crate::stats::{RunState, RunSummary};

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

/// Draws the pictures of a run (those whose data exist); the IRR histogram
/// marks `investor_rate`, the rate the investors discount at.
pub fn pictures(summary: &RunSummary, state: &RunState, currency: &str, investor_rate: Option<f64>) -> Vec<Picture> {
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
    if let Some(irr) = state.statistic(names::IRR) {
        let (shown, caption) = irr_focus(&irr.points(), state.replications);
        let marks: Vec<(f64, String)> = investor_rate
            .filter(|r| r.is_finite())
            .map(|r| (r, format!("investors' rate {}", super::format::percent(r))))
            .into_iter()
            .collect();
        add(
            "irr_histogram.svg",
            &caption,
            plot::histogram(&shown, "Investor IRR", "annual IRR", Ticks::Percent, 40, &marks),
        );
    }
    if let Some(net) = state.statistic(names::NET_SAVINGS) {
        add(
            "net_savings_histogram.svg",
            "Payer net savings across replications",
            plot::histogram(
                &net.points(),
                "Payer net savings",
                "net savings, discounted",
                Ticks::Money(currency),
                40,
                &[],
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
            "undiscounted",
            Ticks::Money(currency),
        ),
    );
    add(
        "cashflow_fan_payer.svg",
        "Payer: cumulative costs avoided minus payments (and programme costs it bears)",
        plot::fan_chart(
            &years,
            &payer,
            "Payer: cumulative net position",
            "undiscounted",
            Ticks::Money(currency),
        ),
    );
    if let Some((contracts, _)) = &summary.payment_correlation {
        for (statistic, label, unit) in [
            (names::NET_SAVINGS, "Payer net savings by contract", "discounted"),
            (names::MULTIPLE, "Investor multiple by contract", "multiple"),
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
                plot::interval_chart(&rows, label, unit, Ticks::of(names::unit(statistic), currency)),
            );
        }
    }
    pictures
}

/// The type-7 quantile of weighted points in increasing order (a
/// histogram's bins as (value, count)); NaN when there are none.
fn weighted_quantile(points: &[(f64, u64)], p: f64) -> f64 {
    let n: u64 = points.iter().map(|q| q.1).sum();
    if n == 0 {
        return f64::NAN;
    }
    crate::stats::summary::type7(n, p, |rank| {
        let mut below = 0;
        for &(value, count) in points {
            below += count;
            if rank < below {
                return value;
            }
        }
        points.last().map_or(f64::NAN, |q| q.0)
    })
}

/// The IRRs a histogram should show, from the IRR's histogram points and
/// the run's replications: total losses (−100 %) and the tails beyond the
/// 1st and 99th percentiles left out, so the mass is readable; the caption
/// says how many were left out.
fn irr_focus(points: &[(f64, u64)], replications: u64) -> (Vec<(f64, u64)>, String) {
    let defined: Vec<(f64, u64)> = points.iter().copied().filter(|p| p.0.is_finite()).collect();
    let count = |points: &[(f64, u64)]| points.iter().map(|p| p.1).sum::<u64>();
    let undefined = replications.saturating_sub(count(&defined));
    let total_losses = count(&defined.iter().copied().filter(|p| p.0 <= -1.0).collect::<Vec<_>>());
    let rest: Vec<(f64, u64)> = defined.iter().copied().filter(|p| p.0 > -1.0).collect();
    let (low, high) = (weighted_quantile(&rest, 0.01), weighted_quantile(&rest, 0.99));
    let shown: Vec<(f64, u64)> = rest.into_iter().filter(|p| p.0 >= low && p.0 <= high).collect();
    let share = |k: u64| 100.0 * k as f64 / replications.max(1) as f64;
    let mut caption = format!(
        "Investor IRR across replications, from its 1st to its 99th percentile ({} of {} shown)",
        super::format::count(count(&shown)),
        super::format::count(replications)
    );
    if total_losses > 0 {
        caption.push_str(&format!(
            "; {:.1} % of replications lose everything (IRR −100 %) and are not drawn",
            share(total_losses)
        ));
    }
    if undefined > 0 {
        caption.push_str(&format!("; {:.1} % have no single IRR", share(undefined)));
    }
    (shown, caption)
}

#[cfg(test)]
mod tests {
    use super::irr_focus;
    use crate::stats::accumulate::Accumulator;

    #[test]
    fn total_losses_and_far_tails_are_left_out_and_counted() {
        let mut irr: Vec<f64> = (0..200).map(|i| i as f64 / 1000.0).collect();
        irr.extend([-1.0; 50]);
        irr.push(f64::NAN);
        let mut accumulator = Accumulator::new();
        irr.iter().for_each(|&x| accumulator.add(x));
        let (shown, caption) = irr_focus(&accumulator.points(), irr.len() as u64);
        assert!(shown.iter().all(|&(x, _)| (0.0..=0.2).contains(&x)));
        let drawn: u64 = shown.iter().map(|p| p.1).sum();
        assert!((190..200).contains(&drawn), "{drawn}");
        assert!(caption.contains("19.9 % of replications lose everything"), "{caption}");
        assert!(caption.contains("0.4 % have no single IRR"), "{caption}");
    }
}
