//! The charts of `solve`, `tornado` and a sweep's acceptability and
//! negotiation frontier.

use super::{row_chart, safe_range, RowLayout, SIZE};
use crate::report::format::{self, Ticks};
use plotters::prelude::*;

/// A statistic against a searched value: the evaluated points joined in
/// value order, the target as a dashed horizontal line and the answer as a
/// marked point.
pub fn solve_chart(
    points: &[(f64, f64)],
    target: f64,
    answer: Option<(f64, f64)>,
    title: &str,
    x_label: &str,
    (y_label, y_ticks): (&str, Ticks),
) -> Option<String> {
    let points: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if points.is_empty() {
        return None;
    }
    let xs = || points.iter().map(|p| p.0);
    let ys = || {
        points
            .iter()
            .map(|p| p.1)
            .chain(std::iter::once(target).filter(|t| t.is_finite()))
    };
    let (x0, x1) = safe_range(
        xs().fold(f64::INFINITY, f64::min),
        xs().fold(f64::NEG_INFINITY, f64::max),
    )?;
    let (lo, hi) = (
        ys().fold(f64::INFINITY, f64::min),
        ys().fold(f64::NEG_INFINITY, f64::max),
    );
    let pad = ((hi - lo) * 0.05).max(lo.abs().max(hi.abs()) * 1e-6).max(1e-9);
    let (y0, y1) = safe_range(lo - pad, hi + pad)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|x| format::axis(*x))
            .y_label_formatter(&|y| y_ticks.label(*y))
            .draw()
            .ok()?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                RGBColor(20, 50, 110).stroke_width(2),
            ))
            .ok()?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 3, RGBColor(20, 50, 110).filled())),
            )
            .ok()?;
        if target.is_finite() {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0, target), (x1, target)],
                    6,
                    4,
                    RGBColor(190, 60, 40).stroke_width(2),
                ))
                .ok()?;
        }
        if let Some(answer) = answer.filter(|(x, y)| x.is_finite() && y.is_finite()) {
            chart
                .draw_series(std::iter::once(Circle::new(
                    answer,
                    7,
                    RGBColor(190, 60, 40).stroke_width(3),
                )))
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}

/// A tornado: one horizontal bar per input from its value at the low to its
/// value at the high percentile, rows in the order given (widest first),
/// with the base value as a vertical line.
pub fn tornado_chart(
    rows: &[(String, f64, f64)],
    base: f64,
    title: &str,
    x_label: &str,
    x_ticks: Ticks,
) -> Option<String> {
    let rows: Vec<&(String, f64, f64)> = rows.iter().filter(|r| r.1.is_finite() && r.2.is_finite()).collect();
    if rows.is_empty() || !base.is_finite() {
        return None;
    }
    let values = || rows.iter().flat_map(|r| [r.1, r.2]).chain(std::iter::once(base));
    let (lo, hi) = (
        values().fold(f64::INFINITY, f64::min),
        values().fold(f64::NEG_INFINITY, f64::max),
    );
    let pad = ((hi - lo) * 0.05).max(lo.abs().max(hi.abs()) * 1e-6).max(1e-9);
    let (x0, x1) = safe_range(lo - pad, hi + pad)?;
    let n = rows.len() as f64;
    let labels: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let layout = RowLayout {
        width: 480,
        labels: (120, 520),
        height: (80, 28),
    };
    // The widest bar on top.
    row_chart(&labels, layout, (x0, x1), title, (x_label, x_ticks), |chart| {
        for (k, r) in rows.iter().enumerate() {
            let y = n - 1.0 - k as f64;
            let (a, b) = (r.1.min(r.2), r.1.max(r.2));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(a, y - 0.32), (b, y + 0.32)],
                    RGBColor(70, 110, 170).mix(0.55).filled(),
                )))
                .ok()?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(base, -0.5), (base, n - 0.5)],
                RGBColor(190, 60, 40).stroke_width(2),
            )))
            .ok()?;
        Some(())
    })
}

/// Colours of the lines of one chart, in order.
const SERIES: [RGBColor; 4] = [
    RGBColor(20, 50, 110),
    RGBColor(190, 60, 40),
    RGBColor(40, 130, 70),
    RGBColor(120, 80, 150),
];

/// Several named lines against one x axis, with a legend; `y_range` fixes
/// the y axis (e.g. 0…1 for probabilities).
pub fn lines_chart(
    xs: &[f64],
    series: &[(String, Vec<f64>)],
    title: &str,
    x_label: &str,
    (y_label, y_ticks): (&str, Ticks),
    y_range: Option<(f64, f64)>,
) -> Option<String> {
    let finite = |v: &[f64]| v.iter().copied().filter(|x| x.is_finite()).collect::<Vec<_>>();
    let all_x = finite(xs);
    let all_y: Vec<f64> = series.iter().flat_map(|(_, ys)| finite(ys)).collect();
    if all_x.is_empty() || all_y.is_empty() {
        return None;
    }
    let (x0, x1) = safe_range(
        all_x.iter().copied().fold(f64::INFINITY, f64::min),
        all_x.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    )?;
    let (y0, y1) = match y_range {
        Some((a, b)) => safe_range(a, b)?,
        None => {
            let (lo, hi) = (
                all_y.iter().copied().fold(f64::INFINITY, f64::min),
                all_y.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            );
            let pad = ((hi - lo) * 0.05).max(lo.abs().max(hi.abs()) * 1e-6).max(1e-9);
            safe_range(lo - pad, hi + pad)?
        }
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|x| format::axis(*x))
            .y_label_formatter(&|y| y_ticks.label(*y))
            .draw()
            .ok()?;
        for (k, (label, ys)) in series.iter().enumerate() {
            let colour = SERIES[k % SERIES.len()];
            let points: Vec<(f64, f64)> = xs
                .iter()
                .zip(ys)
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|(&x, &y)| (x, y))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .ok()?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
            chart
                .draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
                .ok()?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Points joined in the order given, each labelled (a negotiation frontier:
/// one point per contract value).
pub fn labelled_path(
    points: &[(f64, f64, String)],
    title: &str,
    (x_label, x_ticks): (&str, Ticks),
    (y_label, y_ticks): (&str, Ticks),
) -> Option<String> {
    let points: Vec<&(f64, f64, String)> = points.iter().filter(|p| p.0.is_finite() && p.1.is_finite()).collect();
    if points.is_empty() {
        return None;
    }
    let span = |get: &dyn Fn(&(f64, f64, String)) -> f64| {
        let lo = points.iter().map(|p| get(p)).fold(f64::INFINITY, f64::min);
        let hi = points.iter().map(|p| get(p)).fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.08).max(lo.abs().max(hi.abs()) * 1e-3).max(1e-6);
        safe_range(lo - pad, hi + pad)
    };
    let (x0, x1) = span(&|p| p.0)?;
    let (y0, y1) = span(&|p| p.1)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|x| x_ticks.label(*x))
            .y_label_formatter(&|y| y_ticks.label(*y))
            .draw()
            .ok()?;
        let line: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
        chart
            .draw_series(LineSeries::new(line, RGBColor(20, 50, 110).mix(0.5).stroke_width(1)))
            .ok()?;
        for p in &points {
            chart
                .draw_series(std::iter::once(Circle::new(
                    (p.0, p.1),
                    4,
                    RGBColor(20, 50, 110).filled(),
                )))
                .ok()?;
            chart
                .draw_series(std::iter::once(Text::new(
                    p.2.clone(),
                    (p.0, p.1),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )))
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}
