//! Transition probabilities: row-stochastic matrices, an arm's default
//! matrix and age or cycle bands, and a target group's baseline derived
//! from a population's by risk multipliers.

use super::{Effect, Scenario};

/// A row-stochastic matrix, possibly derived from observed counts. Its
/// fields are private: [`StochasticMatrix::new`] checks every invariant, so
/// a matrix that exists is square, finite, non-negative and row-stochastic.
#[derive(Debug, Clone, PartialEq)]
pub struct StochasticMatrix {
    n: usize,
    probabilities: Vec<f64>,
    counts: Option<(Vec<f64>, f64)>,
}

/// Why a matrix was refused by [`StochasticMatrix::new`] or
/// [`StochasticMatrix::set_row`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a stochastic matrix: {0}")]
pub struct InvalidMatrix(pub String);

/// Tolerance on a row of probabilities summing to 1.
pub const ROW_SUM_TOLERANCE: f64 = 1e-9;

fn check_row(i: usize, row: &[f64]) -> Result<(), InvalidMatrix> {
    // One pass for the common case (every draw of a posterior row comes
    // through here); the first bad entry is looked for only to name it.
    // Not finite or below 0 (NaN fails both), in two float comparisons.
    let refused = |p: f64| !(0.0..=f64::MAX).contains(&p);
    let (mut sum, mut bad) = (0.0, false);
    for &p in row {
        bad |= refused(p);
        sum += p;
    }
    if bad {
        let p = row.iter().copied().find(|&p| refused(p)).unwrap_or(f64::NAN);
        return Err(InvalidMatrix(format!(
            "row {i} holds {p}; probabilities are finite and ≥ 0"
        )));
    }
    if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
        return Err(InvalidMatrix(format!("row {i} sums to {sum}, not 1")));
    }
    Ok(())
}

impl StochasticMatrix {
    /// An `n` × `n` matrix from row-major `probabilities` (each row sums to 1
    /// within [`ROW_SUM_TOLERANCE`]), with the observed counts and prior it
    /// was estimated from, if any.
    ///
    /// # Errors
    /// Wrong sizes, negative or non-finite entries, rows that do not sum to 1.
    pub fn new(n: usize, probabilities: Vec<f64>, counts: Option<(Vec<f64>, f64)>) -> Result<Self, InvalidMatrix> {
        if n == 0 || probabilities.len() != n * n {
            return Err(InvalidMatrix(format!(
                "{} entries for {n} states; expected {}",
                probabilities.len(),
                n * n
            )));
        }
        for i in 0..n {
            check_row(i, &probabilities[i * n..(i + 1) * n])?;
        }
        if let Some((values, prior)) = &counts {
            if values.len() != n * n || values.iter().chain([prior]).any(|c| !c.is_finite() || *c < 0.0) {
                return Err(InvalidMatrix(
                    "counts and prior must be n × n finite values ≥ 0".to_string(),
                ));
            }
        }
        Ok(StochasticMatrix {
            n,
            probabilities,
            counts,
        })
    }

    /// Number of states.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Row-major probabilities.
    pub fn probabilities(&self) -> &[f64] {
        &self.probabilities
    }

    /// Observed counts (row-major) and prior, when given as counts.
    pub fn counts(&self) -> Option<(&[f64], f64)> {
        self.counts.as_ref().map(|(values, prior)| (values.as_slice(), *prior))
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.probabilities[i * self.n..(i + 1) * self.n]
    }

    /// Replaces row `i` (a parameter draw).
    ///
    /// # Errors
    /// A row of the wrong length or that is not a distribution.
    pub fn set_row(&mut self, i: usize, row: &[f64]) -> Result<(), InvalidMatrix> {
        if i >= self.n || row.len() != self.n {
            return Err(InvalidMatrix(format!(
                "row {i} of {} entries for {} states",
                row.len(),
                self.n
            )));
        }
        check_row(i, row)?;
        self.probabilities[i * self.n..(i + 1) * self.n].copy_from_slice(row);
        Ok(())
    }

    /// Takes `other`'s probabilities (a replication's draws restored to the
    /// central values): no allocation when both are the same size.
    pub fn copy_probabilities_from(&mut self, other: &StochasticMatrix) {
        self.n = other.n;
        self.probabilities.clone_from(&other.probabilities);
    }
}

/// Transitions of one arm: a default matrix and optional bands.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Transitions {
    /// Used where no band matches.
    pub default: StochasticMatrix,
    /// Overrides; the first that matches wins.
    pub bands: Vec<Band>,
}

impl Transitions {
    /// The band index (None = default) for a transition at the end of cycle
    /// `cycle` made by a child aged `age` at the start of that cycle.
    pub fn band_for(&self, cycle: usize, age: f64) -> Option<usize> {
        self.bands.iter().position(|b| b.matches(cycle, age))
    }

    /// Every matrix, the default first, then the bands in order.
    pub fn matrices(&self) -> impl Iterator<Item = &StochasticMatrix> {
        std::iter::once(&self.default).chain(self.bands.iter().map(|b| &b.matrix))
    }

    /// Takes every probability of `other` (of the same bands), keeping this
    /// one's buffers: see [`StochasticMatrix::copy_probabilities_from`].
    pub fn copy_probabilities_from(&mut self, other: &Transitions) {
        if self.bands.len() != other.bands.len() {
            self.clone_from(other);
            return;
        }
        self.default.copy_probabilities_from(&other.default);
        for (band, central) in self.bands.iter_mut().zip(&other.bands) {
            band.matrix.copy_probabilities_from(&central.matrix);
        }
    }

    /// The matrix for a band index from [`Transitions::band_for`].
    pub fn matrix(&self, band: Option<usize>) -> &StochasticMatrix {
        match band {
            Some(i) => &self.bands[i].matrix,
            None => &self.default,
        }
    }
}

/// A target group's baseline derived from a population's: the population's
/// transitions (the file's `[baseline]` matrices, e.g. a national fit) with
/// ASSUMED risk multipliers on the moves into some states.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BaselineRisk {
    /// The population's transitions, before the multipliers.
    pub population: Transitions,
    /// The multipliers in file order, each an [`Effect`] whose
    /// `relative_risk` is the multiplier (never waning).
    pub multipliers: Vec<Effect>,
}

impl BaselineRisk {
    /// Multipliers on `population`.
    pub fn new(population: Transitions, multipliers: Vec<Effect>) -> BaselineRisk {
        BaselineRisk {
            population,
            multipliers,
        }
    }

    /// The group's transitions: every population matrix with the
    /// multipliers applied in order (a row whose stay would turn negative is
    /// scaled back to a distribution, as [`Effect::apply`] does). Counts
    /// stay with the population: the group's rows are derived, not observed.
    pub fn transitions(&self) -> Transitions {
        let mut group = self.population.clone();
        self.transitions_into(&mut group);
        group
    }

    /// [`BaselineRisk::transitions`] written into `group`, which keeps its
    /// buffers when it has the population's bands (a replication's redraw).
    pub fn transitions_into(&self, group: &mut Transitions) {
        if group.bands.len() != self.population.bands.len() {
            group.clone_from(&self.population);
        }
        let derive = |out: &mut StochasticMatrix, m: &StochasticMatrix| {
            out.copy_probabilities_from(m);
            for e in &self.multipliers {
                let _ = e.apply(&mut out.probabilities, m.n, e.relative_risk);
            }
            out.counts = None;
        };
        derive(&mut group.default, &self.population.default);
        for (band, population) in group.bands.iter_mut().zip(&self.population.bands) {
            band.cycles = population.cycles;
            band.ages = population.ages;
            derive(&mut band.matrix, &population.matrix);
        }
    }

    /// The first multiplier (index, from-row) that would make a stay
    /// negative in some population matrix, if any.
    pub fn first_overflow(&self) -> Option<(usize, usize)> {
        for m in self.population.matrices() {
            let mut probabilities = m.probabilities.clone();
            for (k, e) in self.multipliers.iter().enumerate() {
                if let Some(row) = e.apply(&mut probabilities, m.n, e.relative_risk) {
                    return Some((k, row));
                }
            }
        }
        None
    }
}

impl Scenario {
    /// The transitions parameter uncertainty acts on: the population's when
    /// the baseline is derived by risk multipliers, the baseline otherwise.
    pub fn population(&self) -> &Transitions {
        self.baseline_risk.as_ref().map_or(&self.baseline, |r| &r.population)
    }

    /// [`Scenario::population`], to draw into.
    pub fn population_mut(&mut self) -> &mut Transitions {
        match &mut self.baseline_risk {
            Some(risk) => &mut risk.population,
            None => &mut self.baseline,
        }
    }
}

/// A matrix that applies to a range of cycles and/or ages.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Band {
    /// Half-open cycle range; None = all cycles.
    pub cycles: Option<(usize, usize)>,
    /// Half-open age range in years; None = all ages.
    pub ages: Option<(f64, f64)>,
    /// The matrix.
    pub matrix: StochasticMatrix,
}

impl Band {
    /// Whether the band covers this cycle and age.
    pub fn matches(&self, cycle: usize, age: f64) -> bool {
        let cycle_ok = self.cycles.is_none_or(|(a, b)| a <= cycle && cycle < b);
        // A small tolerance so that ages built from fractional cycles
        // (0.25 + 0.25 + ...) land in the band a person would expect.
        let age_ok = self
            .ages
            .is_none_or(|(a, b)| age >= a - AGE_EPSILON && age < b - AGE_EPSILON);
        cycle_ok && age_ok
    }
}

/// Tolerance on age comparisons (years).
pub const AGE_EPSILON: f64 = 1e-9;
