//! Transition tables: a matrix or counts (with a prior), optional age or
//! cycle bands, and the `[baseline]` arm built from them.

use super::{sane, Ctx, R, SUM_TOLERANCE};
use crate::model::*;
use crate::scenario::raw::*;
use std::ops::Range;
use toml::Spanned;

impl Ctx<'_> {
    pub(super) fn matrix(
        &self,
        matrix: &Option<RawMatrix>,
        counts: &Option<RawMatrix>,
        prior: &Option<Spanned<f64>>,
        absorbing: &[bool],
        table_span: Range<usize>,
        path: &str,
    ) -> R<StochasticMatrix> {
        let n = self.state_names.len();
        let sep = if path.is_empty() { "" } else { "." };
        let (rows, key, is_counts) = match (matrix, counts) {
            (Some(_), Some(c)) => {
                return Err(self.err(
                    c.span(),
                    format!("{path}{sep}counts"),
                    "give either `matrix` or `counts`, not both",
                ))
            }
            (Some(m), None) => (m, "matrix", false),
            (None, Some(c)) => (c, "counts", true),
            (None, None) => return Err(self.err(
                table_span,
                path,
                "missing transitions: give `matrix` (rows of probabilities) or `counts` (observed transition counts)",
            )),
        };
        let key = format!("{path}{sep}{key}");
        if let (Some(p), false) = (prior, is_counts) {
            return Err(self.err(
                p.span(),
                format!("{path}{sep}prior"),
                "`prior` goes with `counts`, not with `matrix`",
            ));
        }
        let prior = match prior {
            Some(p) => self.non_negative(p, &format!("{path}{sep}prior"))?,
            None => 1.0,
        };
        if rows.get_ref().len() != n {
            return Err(self.err(
                rows.span(),
                &key,
                format!(
                    "has {} rows; expected {n}, one per state in [[states]] order ({})",
                    rows.get_ref().len(),
                    self.state_names.join(", ")
                ),
            ));
        }
        let mut probabilities = vec![0.0; n * n];
        let mut raw_counts = vec![0.0; n * n];
        for (i, row) in rows.get_ref().iter().enumerate() {
            let row_path = format!("{key}[{i}]");
            if row.get_ref().len() != n {
                return Err(self.err(
                    row.span(),
                    &row_path,
                    format!("has {} entries; expected {n}, one per state", row.get_ref().len()),
                ));
            }
            for (j, cell) in row.get_ref().iter().enumerate() {
                let v = self.non_negative(cell, &format!("{row_path}[{j}]"))?;
                if !is_counts && v > 1.0 + SUM_TOLERANCE {
                    return Err(self.err(
                        cell.span(),
                        format!("{row_path}[{j}]"),
                        format!("{v} is not a probability; expected a number in [0, 1]"),
                    ));
                }
                raw_counts[i * n + j] = v;
            }
            let values = &raw_counts[i * n..(i + 1) * n];
            let out = &mut probabilities[i * n..(i + 1) * n];
            if absorbing[i] {
                // An absorbing state never leaves: a matrix must say so; counts are ignored.
                if !is_counts && (values[i] - 1.0).abs() > SUM_TOLERANCE {
                    return Err(self.err(
                        row.span(),
                        &row_path,
                        format!(
                            "state `{}` is absorbing, so its row must be 1 on the diagonal and 0 elsewhere",
                            self.state_names[i]
                        ),
                    ));
                }
                out[i] = 1.0;
                continue;
            }
            if is_counts {
                let total: f64 = values.iter().sum::<f64>() + prior * n as f64;
                if total <= 0.0 {
                    return Err(self.err(
                        row.span(),
                        &row_path,
                        format!("state `{}` has no observed transitions and prior 0; give counts, a prior > 0, or mark it absorbing", self.state_names[i]),
                    ));
                }
                for j in 0..n {
                    out[j] = (values[j] + prior) / total;
                }
            } else {
                let sum: f64 = values.iter().sum();
                if (sum - 1.0).abs() > SUM_TOLERANCE {
                    return Err(self.err(
                        row.span(),
                        &row_path,
                        format!("sums to {sum}; each row must sum to 1 (within {SUM_TOLERANCE})"),
                    ));
                }
                out.copy_from_slice(values);
            }
        }
        // Every row was checked above; `new` checks the invariants again.
        StochasticMatrix::new(n, probabilities, is_counts.then_some((raw_counts, prior)))
            .map_err(|e| self.err(table_span, path, e.to_string()))
    }

    pub(super) fn bands(&self, bands: &Option<Vec<Spanned<RawBand>>>, absorbing: &[bool], path: &str) -> R<Vec<Band>> {
        let mut out = Vec::new();
        for (k, band) in bands.iter().flatten().enumerate() {
            let band_path = format!("{path}[{k}]");
            let raw = band.get_ref();
            let cycles = match &raw.cycles {
                None => None,
                Some(c) => {
                    let v = c.get_ref();
                    if v.len() != 2 || v[0] < 0 || v[0] >= v[1] {
                        return Err(self.err(
                            c.span(),
                            format!("{band_path}.cycles"),
                            format!("{v:?} is not a cycle range; expected [from, to) with 0 ≤ from < to"),
                        ));
                    }
                    Some((v[0] as usize, v[1] as usize))
                }
            };
            let ages = match &raw.ages {
                None => None,
                Some(a) => {
                    let v = a.get_ref();
                    if v.len() != 2 || !v.iter().all(|x| sane(*x)) || v[0] < 0.0 || v[0] >= v[1] {
                        return Err(self.err(
                            a.span(),
                            format!("{band_path}.ages"),
                            format!("{v:?} is not an age range; expected [from, to) in years with 0 ≤ from < to"),
                        ));
                    }
                    Some((v[0], v[1]))
                }
            };
            let matrix = self.matrix(&raw.matrix, &raw.counts, &raw.prior, absorbing, band.span(), &band_path)?;
            out.push(Band { cycles, ages, matrix });
        }
        Ok(out)
    }
}

/// `[baseline]`: the transitions without the programme and, with
/// `[[baseline.risk]]`, the population's transitions they derive from.
pub(super) fn baseline(
    ctx: &Ctx,
    raw: &Spanned<RawTransitions>,
    states: &[State],
) -> R<(Transitions, Option<BaselineRisk>)> {
    let rb = raw.get_ref();
    let absorbing: Vec<bool> = states.iter().map(|s| s.absorbing).collect();
    let population = Transitions {
        default: ctx.matrix(&rb.matrix, &rb.counts, &rb.prior, &absorbing, raw.span(), "baseline")?,
        bands: ctx.bands(&rb.bands, &absorbing, "baseline.bands")?,
    };
    let Some(raw_risks) = &rb.risk else {
        return Ok((population, None));
    };
    let mut multipliers = Vec::new();
    for (k, r) in raw_risks.iter().enumerate() {
        let path = format!("baseline.risk[{k}]");
        let rr = r.get_ref();
        let multiplier = ctx.positive(
            &rr.multiplier,
            &format!("{path}.multiplier"),
            "a risk multiplier",
            "a number > 0 (1 = the population's risk)",
        )?;
        let targets = match &rr.targets {
            Some(t) => ctx.state_mask(t, &format!("{path}.targets"))?,
            // The states a group is chosen for its risk of: the costly ones.
            None => states.iter().map(|s| s.cost > 0.0 && !s.absorbing).collect(),
        };
        let from = match &rr.from {
            Some(t) => ctx.state_mask(t, &format!("{path}.from"))?,
            None => vec![true; states.len()],
        };
        ctx.names_a_move(&from, &targets, &absorbing, r.span(), &path)?;
        multipliers.push(Effect {
            relative_risk: multiplier,
            targets,
            from,
            waning_cycles: 0,
            index: k,
        });
    }
    let risk = BaselineRisk::new(population, multipliers);
    if let Some((k, row)) = risk.first_overflow() {
        let r = &raw_risks[k];
        return Err(ctx.err(
            r.get_ref().multiplier.span(),
            format!("baseline.risk[{k}].multiplier"),
            format!(
                "multiplier {} would make the probability of staying in `{}` negative; the moves it scales out of that row sum to more than 1",
                r.get_ref().multiplier.get_ref(),
                ctx.state_names[row]
            ),
        ));
    }
    Ok((risk.transitions(), Some(risk)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{ctx, raw};
    use super::*;

    /// `home` (free) and `care` (costly), neither absorbing.
    fn states() -> Vec<State> {
        [("home", 0.0), ("care", 100.0)]
            .into_iter()
            .map(|(name, cost)| State {
                name: name.to_string(),
                cost,
                absorbing: false,
            })
            .collect()
    }

    #[derive(serde::Deserialize)]
    struct Doc {
        t: Spanned<RawTransitions>,
    }

    fn check(text: &str) -> R<(Transitions, Option<BaselineRisk>)> {
        let doc: Doc = raw(text);
        baseline(&ctx(text, &["home", "care"]), &doc.t, &states())
    }

    #[test]
    fn a_risk_multiplier_scales_the_moves_into_costly_states_and_keeps_the_population() {
        let (group, risk) = check("[t]\nmatrix = [[0.9, 0.1], [0.5, 0.5]]\n[[t.risk]]\nmultiplier = 3.0\n").unwrap();
        let risk = risk.unwrap();
        assert_eq!(risk.population.default.row(0), &[0.9, 0.1]);
        // home → care tripled, the stay absorbs it; care → home untouched.
        assert!((group.default.row(0)[1] - 0.3).abs() < 1e-15);
        assert!((group.default.row(0)[0] - 0.7).abs() < 1e-15);
        assert_eq!(group.default.row(1), &[0.5, 0.5]);
        assert!(group.default.counts().is_none());
    }

    #[test]
    fn a_risk_multiplier_that_overflows_a_row_is_refused_at_its_key() {
        let e = check("[t]\nmatrix = [[0.6, 0.4], [0.5, 0.5]]\n[[t.risk]]\nmultiplier = 3.0\n").unwrap_err();
        assert_eq!(e.key_path, "baseline.risk[0].multiplier");
        assert!(e.message.contains("staying in `home` negative"), "{}", e.message);
        let e = check("[t]\nmatrix = [[0.9, 0.1], [0.5, 0.5]]\n[[t.risk]]\nmultiplier = 0.0\n").unwrap_err();
        assert_eq!(e.key_path, "baseline.risk[0].multiplier");
        let e = check("[t]\nmatrix = [[0.9, 0.1], [0.5, 0.5]]\n[[t.risk]]\nmultiplier = 2.0\ntargets = [\"x\"]\n")
            .unwrap_err();
        assert_eq!(e.key_path, "baseline.risk[0].targets[0]");
    }

    #[test]
    fn counts_with_a_prior_become_probabilities_and_keep_their_counts() {
        // A spanned section is parsed as a table under a key.
        let m = check("[t]\ncounts = [[3.0, 1.0], [0.0, 4.0]]\nprior = 1.0\n")
            .unwrap()
            .0
            .default;
        assert_eq!(m.row(0), &[4.0 / 6.0, 2.0 / 6.0]);
        assert_eq!(m.row(1), &[1.0 / 6.0, 5.0 / 6.0]);
        assert_eq!(m.counts().map(|(_, prior)| prior), Some(1.0));
    }

    #[test]
    fn a_row_that_is_not_a_distribution_is_named() {
        let e = check("[t]\nmatrix = [[0.9, 0.1], [0.5, 0.6]]\n").unwrap_err();
        assert_eq!(e.key_path, "baseline.matrix[1]");
        assert!(e.message.contains("sums to"), "{}", e.message);
    }
}
