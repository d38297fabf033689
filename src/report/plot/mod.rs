//! Pictures as SVG text (plotters' SVG backend: no system libraries): the
//! run's charts here, the decision commands' and sweeps' in `decisions.rs`,
//! the 2-D sweep's heat map in `grid.rs`.

mod decisions;
mod grid;

pub use decisions::{labelled_path, lines_chart, solve_chart, tornado_chart};
pub use grid::heat_map;

use super::format::Ticks;
use plotters::prelude::*;

/// Size of every picture, in pixels.
const SIZE: (u32, u32) = (720, 400);

/// An axis range plotters can always lay out: finite, at most 1e200 in
/// magnitude, and wide relative to its size (a range narrower than its
/// floating-point resolution makes tick placement loop). `None` when the
/// data cannot be drawn at all; any data that can be is drawn.
pub fn safe_range(lo: f64, hi: f64) -> Option<(f64, f64)> {
    const LARGEST: f64 = 1e200;
    if !lo.is_finite() || !hi.is_finite() || lo.abs() > LARGEST || hi.abs() > LARGEST || hi < lo {
        return None;
    }
    let scale = lo.abs().max(hi.abs());
    let least = (scale * 1e-6).max(1e-9);
    if hi - lo >= least {
        return Some((lo, hi));
    }
    let middle = lo / 2.0 + hi / 2.0;
    Some((middle - least, middle + least))
}

/// A histogram of `points` (value, how many replications had it: NaN and
/// infinities left out) with `bins` bars, and a dashed vertical line at each
/// of `marks` (value, legend) inside the range. Returns `None` when there is
/// nothing to draw.
pub fn histogram(
    points: &[(f64, u64)],
    title: &str,
    x_label: &str,
    x_ticks: Ticks,
    bins: usize,
    marks: &[(f64, String)],
) -> Option<String> {
    let data: Vec<(f64, u64)> = points
        .iter()
        .copied()
        .filter(|(v, c)| v.is_finite() && *c > 0)
        .collect();
    if data.is_empty() {
        return None;
    }
    let lo = data.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let mut hi = data.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    if hi <= lo {
        hi = lo + lo.abs().max(1.0) * 0.01;
    }
    let (lo, hi) = safe_range(lo, hi)?;
    let width = (hi - lo) / bins as f64;
    if bins == 0 || width.is_nan() || width <= 0.0 {
        return None;
    }
    let mut counts = vec![0u64; bins];
    for (v, c) in &data {
        let k = (((v - lo) / width).max(0.0) as usize).min(bins - 1);
        counts[k] += c;
    }
    let total: u64 = data.iter().map(|p| p.1).sum();
    let top = counts.iter().copied().max().unwrap_or(1) as f64 / total as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top * 1.08)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("share of replications")
            .x_label_formatter(&|x| x_ticks.label(*x))
            .y_label_formatter(&|y| format!("{:.0} %", y * 100.0))
            .draw()
            .ok()?;
        let n = total as f64;
        chart
            .draw_series(counts.iter().enumerate().map(|(k, &c)| {
                let x0 = lo + k as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, c as f64 / n)], RGBColor(70, 110, 170).filled())
            }))
            .ok()?;
        let mut legend = false;
        for (x, label) in marks.iter().filter(|(x, _)| *x >= lo && *x <= hi) {
            let colour = RGBColor(190, 60, 40);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(*x, 0.0), (*x, top * 1.08)],
                    6,
                    4,
                    colour.stroke_width(2),
                ))
                .ok()?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
            legend = true;
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()
                .ok()?;
        }
        root.present().ok()?;
    }
    Some(svg)
}

/// A fan chart: median line and p25–p75, p05–p95 bands against calendar
/// year. `bands[t]` holds (p05, p25, p50, p75, p95) at `years[t]`.
pub fn fan_chart(years: &[f64], bands: &[[f64; 5]], title: &str, y_label: &str, y_ticks: Ticks) -> Option<String> {
    fan_chart_with(
        years,
        bands,
        title,
        ("year (end of cycle)", Ticks::Plain),
        (y_label, y_ticks),
    )
}

fn fan_chart_with(
    years: &[f64],
    bands: &[[f64; 5]],
    title: &str,
    (x_label, x_ticks): (&str, Ticks),
    (y_label, y_ticks): (&str, Ticks),
) -> Option<String> {
    if years.is_empty() || bands.len() != years.len() {
        return None;
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for b in bands {
        for &v in b.iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return None;
    }
    lo = lo.min(0.0);
    hi = hi.max(0.0);
    let pad = ((hi - lo) * 0.05).max(1.0);
    let x0 = if x_label.starts_with("year") {
        years[0] - years.get(1).map_or(1.0, |y| y - years[0])
    } else {
        years[0]
    };
    let x1 = years[years.len() - 1];
    let (x0, x1) = safe_range(x0, x1)?;
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
            .x_label_formatter(&|x| {
                if x_label.starts_with("year") {
                    format!("{x:.0}")
                } else {
                    x_ticks.label(*x)
                }
            })
            .y_label_formatter(&|y| y_ticks.label(*y))
            .draw()
            .ok()?;
        let band = |low: usize, high: usize| -> Vec<(f64, f64)> {
            let mut points: Vec<(f64, f64)> = years.iter().zip(bands).map(|(&x, b)| (x, b[high])).collect();
            points.extend(years.iter().zip(bands).rev().map(|(&x, b)| (x, b[low])));
            points
        };
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(0, 4),
                RGBColor(70, 110, 170).mix(0.18),
            )))
            .ok()?
            .label("p05–p95");
        chart
            .draw_series(std::iter::once(Polygon::new(
                band(1, 3),
                RGBColor(70, 110, 170).mix(0.38),
            )))
            .ok()?
            .label("p25–p75");
        chart
            .draw_series(LineSeries::new(
                years.iter().zip(bands).map(|(&x, b)| (x, b[2])),
                RGBColor(20, 50, 110).stroke_width(2),
            ))
            .ok()?
            .label("median");
        chart
            .draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.5)))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Median line and p25–p75, p05–p95 bands of a statistic against a swept value.
pub fn band_chart(
    xs: &[f64],
    bands: &[[f64; 5]],
    title: &str,
    x_label: &str,
    (y_label, y_ticks): (&str, Ticks),
) -> Option<String> {
    fan_chart_with(xs, bands, title, (x_label, Ticks::Plain), (y_label, y_ticks))
}

/// The layout of a chart with one labelled row per item: its width
/// besides the labels, the labels' width bounds, and its height as a base
/// plus a step per row (at least the standard height).
pub(super) struct RowLayout {
    pub(super) width: u32,
    pub(super) labels: (u32, u32),
    pub(super) height: (u32, u32),
}

/// A chart with one row per label (the first on top, labels at the left,
/// room for the longest) over the value range `x`; `draw` adds the marks,
/// row k at y = n − 1 − k.
pub(super) fn row_chart(
    labels: &[&str],
    layout: RowLayout,
    x: (f64, f64),
    title: &str,
    (x_label, x_ticks): (&str, Ticks),
    draw: impl FnOnce(
        &mut ChartContext<
            SVGBackend,
            Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
        >,
    ) -> Option<()>,
) -> Option<String> {
    let n = labels.len() as f64;
    let mut svg = String::new();
    {
        let height = SIZE.1.max(layout.height.0 + layout.height.1 * labels.len() as u32);
        // Room for the longest label (about 7 px a character at this size).
        let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u32;
        let label_area = (7 * longest + 16).clamp(layout.labels.0, layout.labels.1);
        let root = SVGBackend::with_string(&mut svg, (layout.width + label_area, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(label_area)
            .build_cartesian_2d(x.0..x.1, -0.5..(n - 0.5))
            .ok()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(labels.len())
            .y_label_formatter(&|y| {
                let k = (n - 1.0 - y.round()) as usize;
                labels.get(k).map_or(String::new(), |l| l.to_string())
            })
            .x_desc(x_label)
            .x_label_formatter(&|x| x_ticks.label(*x))
            .draw()
            .ok()?;
        draw(&mut chart)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// One horizontal bar per row of (label, p05, p50, p95), the median
/// marked, rows top to bottom in the order given, labels at the left (so
/// long contract names never overlap) — for comparing contracts.
pub fn interval_chart(rows: &[(String, f64, f64, f64)], title: &str, x_label: &str, x_ticks: Ticks) -> Option<String> {
    let rows: Vec<&(String, f64, f64, f64)> = rows
        .iter()
        .filter(|r| r.1.is_finite() && r.2.is_finite() && r.3.is_finite())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let lo = rows.iter().map(|r| r.1).fold(0.0, f64::min);
    let hi = rows.iter().map(|r| r.3).fold(0.0, f64::max);
    let pad = ((hi - lo) * 0.05).max(lo.abs().max(hi.abs()) * 1e-6).max(1e-9);
    let x = safe_range(lo - pad, hi + pad)?;
    let n = rows.len() as f64;
    let labels: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let layout = RowLayout {
        width: 560,
        labels: (80, 400),
        height: (100, 36),
    };
    row_chart(&labels, layout, x, title, (x_label, x_ticks), |chart| {
        for (k, r) in rows.iter().enumerate() {
            let y = n - 1.0 - k as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(r.1, y - 0.25), (r.3, y + 0.25)],
                    RGBColor(70, 110, 170).mix(0.35).filled(),
                )))
                .ok()?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r.2, y - 0.32), (r.2, y + 0.32)],
                    RGBColor(20, 50, 110).stroke_width(3),
                )))
                .ok()?;
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, -0.5), (0.0, n - 0.5)],
                BLACK.mix(0.4),
            )))
            .ok()?;
        Some(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_svg_with_labels() {
        let marks = [(2.0, "investors' rate".to_string())];
        let svg = histogram(
            &[(1.0, 1), (2.0, 1), (2.5, 1), (f64::NAN, 1), (3.0, 2)],
            "IRR",
            "annual IRR",
            Ticks::Plain,
            10,
            &marks,
        )
        .expect("svg");
        assert!(
            svg.starts_with("<svg") && svg.contains("annual IRR") && svg.contains("investors&apos; rate")
                || svg.contains("investors' rate")
        );
        let fan = fan_chart(
            &[2019.0, 2020.0],
            &[[-2.0, -1.0, 0.0, 1.0, 2.0], [-1.0, 0.0, 1.0, 2.0, 3.0]],
            "cash",
            "EUR",
            Ticks::Money("EUR"),
        )
        .expect("svg");
        assert!(fan.contains("year (end of cycle)") && fan.contains("€"));
        assert!(histogram(&[(f64::NAN, 3)], "x", "y", Ticks::Plain, 5, &[]).is_none());
        let rows = [("a-long-contract-name".to_string(), -1.0, 0.5, 2.0)];
        let intervals = interval_chart(&rows, "t", "x", Ticks::Percent).expect("svg");
        assert!(intervals.contains("a-long-contract-name") && intervals.contains(" %"));
        let heat = heat_map(
            &["1".to_string(), "2".to_string()],
            &["a".to_string(), "b".to_string(), "c".to_string()],
            &[vec![0.1, 0.2, f64::NAN], vec![0.3, 0.4, 0.5]],
            "t",
            ("x", "y"),
            Ticks::Percent,
        )
        .expect("svg");
        assert!(heat.contains("50 %") && heat.contains("–"));
    }

    #[test]
    fn degenerate_and_huge_ranges_are_drawn_or_skipped() {
        // Each of these looped inside plotters' tick placement before.
        assert!(histogram(&[(1e300, 2)], "x", "y", Ticks::Plain, 5, &[]).is_none());
        assert!(histogram(&[(1e12, 1), (1e12 + 1e-4, 1)], "x", "y", Ticks::Plain, 5, &[]).is_some());
        let fan = fan_chart(&[2019.0, 1e308], &[[0.0; 5], [1e150; 5]], "cash", "EUR", Ticks::Plain);
        assert!(fan.is_none());
        let flat = band_chart(&[1.0, 1.0], &[[5e10; 5], [5e10; 5]], "t", "x", ("y", Ticks::Plain));
        assert!(flat.is_some());
        let y = ("y", Ticks::Plain);
        assert!(solve_chart(&[(1.0, 2.0), (1.0, 2.0)], 2.0, Some((1.0, 2.0)), "t", "x", y).is_some());
        assert!(solve_chart(&[(f64::NAN, 1.0)], 0.0, None, "t", "x", y).is_none());
        let bars = [("effect".to_string(), 1.0, 3.0), ("cost".to_string(), 2.0, 2.5)];
        let tornado = tornado_chart(&bars, 2.0, "t", "x", Ticks::Plain).expect("svg");
        assert!(tornado.contains("effect") && tornado.contains("cost"));
        assert!(tornado_chart(&bars, f64::NAN, "t", "x", Ticks::Plain).is_none());
        let lines = lines_chart(
            &[1.0, 2.0],
            &[("probability of a".to_string(), vec![0.2, 0.4])],
            "t",
            "x",
            ("y", Ticks::Percent),
            Some((0.0, 1.0)),
        );
        assert!(lines.expect("svg").contains("probability of a"));
        let path = labelled_path(
            &[(0.1, 0.05, "30000".to_string()), (0.2, 0.07, "45000".to_string())],
            "t",
            ("x", Ticks::Percent),
            y,
        );
        assert!(path.expect("svg").contains("45000"));
        assert!(labelled_path(&[], "t", ("x", Ticks::Plain), y).is_none());
        assert!(heat_map(&[], &[], &[], "t", ("x", "y"), Ticks::Plain).is_none());
        let huge = heat_map(
            &["1".to_string()],
            &["a".to_string()],
            &[vec![1e300]],
            "t",
            ("x", "y"),
            Ticks::Plain,
        );
        assert!(huge.is_some());
    }
}
