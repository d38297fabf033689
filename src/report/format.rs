//! Every number a person reads, formatted in one place.
//!
//! Files meant for programs (`summary.json`, the CSVs) carry full-precision
//! numbers and never pass through here. The styles differ by where a number
//! is read: a table cell, a chart axis, the terminal, a sentence. The unit of
//! a statistic comes from its name ([`crate::model::names::unit`]).

use crate::model::names::Unit;

/// The sign a reader sees: a true minus (U+2212), not a hyphen.
const MINUS: char = '\u{2212}';

/// A table cell: thousands grouped by a thin space with no decimals from
/// 1,000 up, one decimal from 10, four below; `–` when not finite.
pub fn table(x: f64) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let a = x.abs();
    if a >= 1000.0 {
        let out = grouped(a);
        if x < 0.0 {
            format!("{MINUS}{out}")
        } else {
            out
        }
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

/// A chart axis tick: `1.2M`, `45k`, `300`, `0.25`.
pub fn axis(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", x / 1e3)
    } else if a >= 100.0 || a == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// How a chart axis labels its ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ticks<'a> {
    /// Plain numbers: `1.2M`, `45k`, `300`, `0.25`.
    Plain,
    /// Money in a currency, compact: `€2.1M`, `−$45k`.
    Money(&'a str),
    /// Fractions as percentages: `5 %`, `−12.5 %`.
    Percent,
    /// Multiples: `1.2×`.
    Multiple,
}

impl<'a> Ticks<'a> {
    /// The ticks for a statistic's unit.
    pub fn of(unit: Unit, currency: &'a str) -> Ticks<'a> {
        match unit {
            Unit::Money => Ticks::Money(currency),
            Unit::Rate | Unit::Share => Ticks::Percent,
            Unit::Multiple => Ticks::Multiple,
            Unit::Count => Ticks::Plain,
        }
    }

    /// The ticks for a statistic with its field (`investor.irr.p50`,
    /// `payer.net_loss.p`: a probability).
    pub fn of_target(target: &str, currency: &'a str) -> Ticks<'a> {
        match target.rsplit_once('.') {
            Some((_, "p")) => Ticks::Percent,
            Some((name, _)) => Ticks::of(crate::model::names::unit(name), currency),
            None => Ticks::Plain,
        }
    }

    /// The label of one tick.
    pub fn label(self, x: f64) -> String {
        let signed = |text: String| {
            if x < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
                format!("{MINUS}{text}")
            } else {
                text
            }
        };
        match self {
            Ticks::Plain => axis(x).replacen('-', &MINUS.to_string(), 1),
            Ticks::Money(currency) => signed(format!("{}{}", currency_symbol(currency), axis(x.abs()))),
            Ticks::Percent => {
                let p = x.abs() * 100.0;
                let digits = if p == 0.0 || p >= 10.0 || (p - p.round()).abs() < 1e-9 {
                    0
                } else {
                    1
                };
                signed(format!("{p:.digits$} %"))
            }
            Ticks::Multiple => signed(format!("{}×", axis(x.abs()))),
        }
    }
}

/// Money in a sentence, in thousands or millions: `1.23M`, `456k`, `−12k`.
pub fn money_compact(x: f64) -> String {
    let sign = if x < 0.0 { MINUS.to_string() } else { String::new() };
    let a = x.abs();
    if a >= 1e6 {
        format!("{sign}{:.2}M", a / 1e6)
    } else {
        format!("{sign}{:.0}k", a / 1e3)
    }
}

/// A fraction as a percentage with one decimal: `5.1 %`; `–` when not finite.
pub fn percent(x: f64) -> String {
    percent_to(x, 1)
}

/// Decimals of a percentage that show a standard error `se` (a fraction):
/// one from 0.1 points up (and for 0 or a non-finite se), else enough for
/// two significant digits (`0.045 %`: a rare event's se read `0.0 %` at one
/// decimal, as if it were known exactly).
fn se_decimals(se: f64) -> usize {
    if !se.is_finite() || se == 0.0 || se.abs() >= 0.001 {
        return 1;
    }
    (1 - (se.abs() * 100.0).log10().floor() as i32).clamp(2, 8) as usize
}

/// A percentage with `decimals` decimals and a true minus; `–` when not finite.
fn percent_to(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{:.decimals$} %", x * 100.0).replacen('-', &MINUS.to_string(), 1)
    } else {
        "–".to_string()
    }
}

/// The standard error of a probability or rate in percentage points, to
/// two significant digits below 0.1 points, else as [`percent`].
pub fn percent_se(se: f64) -> String {
    percent_to(se, se_decimals(se))
}

/// A probability and its standard error, both to the se's decimals
/// (`0.23 %` and `0.046 %`, not `0.2 %` beside `0.046 %`).
pub fn percent_and_se(p: f64, se: f64) -> (String, String) {
    let decimals = se_decimals(se);
    (percent_to(p, decimals), percent_to(se, decimals))
}

/// The symbol printed before amounts in `currency`: €, $ or £, or the code
/// and a space for any other.
pub fn currency_symbol(currency: &str) -> String {
    match currency {
        "EUR" => "€".to_string(),
        "USD" => "$".to_string(),
        "GBP" => "£".to_string(),
        code => format!("{code} "),
    }
}

/// A count for prose, thousands grouped by thin spaces as money's are:
/// `10 000` replications.
pub fn count(n: u64) -> String {
    grouped(n as f64)
}

/// Digits of a non-negative whole number grouped by thin spaces.
fn grouped(a: f64) -> String {
    let digits = format!("{a:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// Money as a person reads it: the currency, thousands grouped, whole units
/// from 100 up (cents below), a true minus: `€1 234 567`, `−$45.20`; `–`
/// when not finite.
pub fn money(x: f64, currency: &str) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    let sign = if x < 0.0 && x.abs() >= 0.005 {
        MINUS.to_string()
    } else {
        String::new()
    };
    let a = x.abs();
    let number = if !(0.005..100.0).contains(&a) {
        grouped(a)
    } else {
        format!("{a:.2}")
    };
    format!("{sign}{}{number}", currency_symbol(currency))
}

/// A standard error of a count or other plain number: two significant
/// digits below 10 (`0.86`, `0.012`), else as [`table`]; the se of a
/// mean only says how far to trust its last digits.
pub fn plain_se(se: f64) -> String {
    if !se.is_finite() {
        return "–".to_string();
    }
    if se == 0.0 {
        return "0".to_string();
    }
    if se >= 10.0 {
        return table(se);
    }
    let decimals = (1 - se.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{se:.decimals$}")
}

/// A value of a statistic with its field (`investor.irr.p50`,
/// `payer.net_loss.p`: a probability) in its unit.
pub fn target_value(x: f64, target: &str, currency: &str) -> String {
    match target.rsplit_once('.') {
        Some((_, "p")) => percent(x),
        Some((name, _)) => value(x, crate::model::names::unit(name), currency),
        None => table(x),
    }
}

/// The standard error of a statistic in `unit`: a rate's in percentage
/// points, a count's and a multiple's to two significant digits (a
/// multiple's se of 0.003 read `0.00×` at two decimals), others as
/// [`value`].
pub fn se(se: f64, unit: Unit, currency: &str) -> String {
    match unit {
        Unit::Rate | Unit::Share => percent_se(se),
        Unit::Count => plain_se(se),
        Unit::Multiple if se.is_finite() => format!("{}×", plain_se(se)),
        _ => value(se, unit, currency),
    }
}

/// A statistic's mean and its standard error in its unit: a rate's or
/// share's mean to its se's decimals (see [`percent_and_se`]), others as
/// [`value`] and [`se`].
pub fn mean_and_se(mean: f64, se_value: f64, unit: Unit, currency: &str) -> (String, String) {
    match unit {
        Unit::Rate | Unit::Share if mean.is_finite() => percent_and_se(mean, se_value),
        _ => (value(mean, unit, currency), se(se_value, unit, currency)),
    }
}

/// A value in its unit for the terminal and the report: money with its
/// currency, rates as percentages, multiples with `×`, counts as [`table`].
pub fn value(x: f64, unit: Unit, currency: &str) -> String {
    if !x.is_finite() {
        return "–".to_string();
    }
    match unit {
        Unit::Money => money(x, currency),
        Unit::Rate | Unit::Share => percent(x),
        Unit::Multiple => format!("{x:.2}×").replacen('-', &MINUS.to_string(), 1),
        Unit::Count => table(x),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_style_reads_as_documented() {
        assert_eq!(table(1234567.4), "1\u{2009}234\u{2009}567");
        assert_eq!(table(-1500.0), "\u{2212}1\u{2009}500");
        assert_eq!(table(12.345), "12.3");
        assert_eq!(table(0.5), "0.5000");
        assert_eq!(table(f64::NAN), "–");
        assert_eq!(Ticks::Money("EUR").label(2_100_000.0), "€2.1M");
        assert_eq!(Ticks::Money("USD").label(-45_000.0), "\u{2212}$45k");
        assert_eq!(Ticks::Percent.label(0.05), "5 %");
        assert_eq!(Ticks::Percent.label(-0.15), "\u{2212}15 %");
        assert_eq!(Ticks::Percent.label(0.025), "2.5 %");
        assert_eq!(Ticks::Multiple.label(1.5), "1.50×");
        assert_eq!(se(0.00287, Unit::Multiple, "EUR"), "0.0029×");
        assert_eq!(se(0.031, Unit::Multiple, "EUR"), "0.031×");
        assert_eq!(se(f64::NAN, Unit::Multiple, "EUR"), "–");
        assert_eq!(Ticks::Plain.label(-3.0), "\u{2212}3.00");
        assert_eq!(plain_se(0.8623), "0.86");
        assert_eq!(plain_se(0.012345), "0.012");
        assert_eq!(plain_se(5.31), "5.3");
        assert_eq!(plain_se(0.0), "0");
        assert_eq!(plain_se(12.7), "12.7");
        assert_eq!(axis(2_500_000.0), "2.5M");
        assert_eq!(axis(45_000.0), "45k");
        assert_eq!(axis(0.0), "0");
        assert_eq!(axis(0.25), "0.25");
        assert_eq!(money_compact(-12_345.0), "\u{2212}12k");
        assert_eq!(money_compact(1_234_567.0), "1.23M");
        assert_eq!(percent(-0.0512), "\u{2212}5.1 %");
        assert_eq!(percent(f64::INFINITY), "–");
        assert_eq!(percent_se(0.0031), "0.3 %");
        assert_eq!(percent_se(0.001), "0.1 %");
        assert_eq!(percent_se(0.00045), "0.045 %");
        assert_eq!(percent_se(0.000_012_34), "0.0012 %");
        assert_eq!(percent_se(0.0), "0.0 %");
        assert_eq!(percent_se(f64::NAN), "–");
        assert_eq!(count(10_000), "10\u{2009}000");
        assert_eq!(
            mean_and_se(-0.09021, 0.00081, Unit::Rate, "EUR"),
            ("\u{2212}9.021 %".to_string(), "0.081 %".to_string())
        );
        assert_eq!(mean_and_se(2.5, 0.5, Unit::Count, "EUR").0, table(2.5));
        assert_eq!(count(999), "999");
        assert_eq!(
            percent_and_se(0.0023, 0.00046),
            ("0.230 %".to_string(), "0.046 %".to_string())
        );
        assert_eq!(percent_and_se(0.25, 0.004), ("25.0 %".to_string(), "0.4 %".to_string()));
        assert_eq!(value(0.05, Unit::Rate, "EUR"), "5.0 %");
        assert_eq!(money(1234567.4, "EUR"), "€1\u{2009}234\u{2009}567");
        assert_eq!(money(-45.2, "USD"), "\u{2212}$45.20");
        assert_eq!(money(0.0001, "EUR"), "€0");
        assert_eq!(money(-0.0, "SEK"), "SEK 0");
        assert_eq!(value(1.3249, Unit::Multiple, "EUR"), "1.32×");
        assert_eq!(value(-0.1226, Unit::Rate, "EUR"), "\u{2212}12.3 %");
        assert_eq!(value(f64::NAN, Unit::Money, "EUR"), "–");
    }
}
