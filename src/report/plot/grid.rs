//! A 2-D sweep's heat map.

use super::SIZE;
use crate::report::format::Ticks;
use plotters::prelude::*;

/// A grid of values as coloured cells with each value written in its cell:
/// `values[i][j]` at column `xs[i]` and row `ys[j]` (a 2-D sweep). Colour
/// runs from light (the smallest) to dark blue (the largest); a missing
/// value is a grey cell marked `–`.
pub fn heat_map(
    xs: &[String],
    ys: &[String],
    values: &[Vec<f64>],
    title: &str,
    (x_label, y_label): (&str, &str),
    ticks: Ticks,
) -> Option<String> {
    if xs.is_empty() || ys.is_empty() || values.len() != xs.len() || values.iter().any(|c| c.len() != ys.len()) {
        return None;
    }
    let finite: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let shade = |v: f64| -> RGBColor {
        if !v.is_finite() {
            return RGBColor(225, 225, 225);
        }
        let t = if hi > lo {
            ((v - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            0.5
        };
        let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
        RGBColor(mix(235.0, 30.0), mix(242.0, 70.0), mix(250.0, 140.0))
    };
    let (nx, ny) = (xs.len() as f64, ys.len() as f64);
    let longest = ys.iter().map(|y| y.chars().count()).max().unwrap_or(0) as u32;
    let label_area = (7 * longest + 24).clamp(60, 300);
    let mut svg = String::new();
    {
        let width = (label_area + 90 * xs.len() as u32 + 40).max(SIZE.0);
        let height = (120 + 40 * ys.len() as u32).max(260);
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(label_area)
            .build_cartesian_2d(-0.5..(nx - 0.5), -0.5..(ny - 0.5))
            .ok()?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(xs.len())
            .y_labels(ys.len())
            .x_label_formatter(&|x| xs.get(x.round() as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|y| ys.get(y.round() as usize).cloned().unwrap_or_default())
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .ok()?;
        for (i, column) in values.iter().enumerate() {
            for (j, &v) in column.iter().enumerate() {
                let (x, y) = (i as f64, j as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                        shade(v).filled(),
                    )))
                    .ok()?;
                let dark = v.is_finite() && hi > lo && (v - lo) / (hi - lo) > 0.55;
                let text = if v.is_finite() {
                    ticks.label(v)
                } else {
                    "–".to_string()
                };
                let style = ("sans-serif", 13)
                    .into_font()
                    .color(if dark { &WHITE } else { &BLACK })
                    .pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ));
                chart
                    .draw_series(std::iter::once(Text::new(text, (x, y), style)))
                    .ok()?;
            }
        }
        root.present().ok()?;
    }
    Some(svg)
}
