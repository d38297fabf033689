//! A run's state: everything its summary and pictures need, of a size that
//! depends on the statistics and the horizon, not on the replications.
//! States of disjoint replication ranges merge into the state of their
//! union, to the bit ([`crate::stats::accumulate`]).

use super::accumulate::{Accumulator, Comoments};
use crate::model::names;
use crate::sim::parallel::Stripe;
use crate::sim::record::RunResults;

/// The mergeable state of a run (or of a range of its replications).
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Replications added.
    pub replications: u64,
    /// Statistic names.
    pub names: Vec<String>,
    /// One accumulator per statistic.
    pub statistics: Vec<Accumulator>,
    /// Event names.
    pub event_names: Vec<String>,
    /// Replications in which each event happened.
    pub events: Vec<u64>,
    /// Per cycle: cumulative investor cash flow at its end.
    pub investor_paths: Vec<Accumulator>,
    /// Per cycle: cumulative payer cash position at its end.
    pub payer_paths: Vec<Accumulator>,
    /// A portfolio's contracts with their payment statistic's index.
    pub payment_contracts: Vec<(String, usize)>,
    /// Co-moments of contract payments, pairs (i ≤ j) row by row.
    pub payment_pairs: Vec<Comoments>,
    /// Calendar label of cycle 0.
    pub start_year: f64,
    /// Years per cycle.
    pub cycle_years: f64,
}

/// The contracts whose payments a portfolio's correlation covers.
fn payment_contracts(names: &[String]) -> Vec<(String, usize)> {
    let contracts: Vec<(String, usize)> = names
        .iter()
        .enumerate()
        .filter_map(|(k, n)| {
            names::split_contract(n)
                .filter(|(_, inner)| *inner == names::PAYMENTS)
                .map(|(name, _)| (name.to_string(), k))
        })
        .collect();
    if contracts.len() < 2 {
        Vec::new()
    } else {
        contracts
    }
}

/// Replications a [`PendingRows`] holds before they join the accumulators:
/// 64 rows of `lapset-sib`'s 214 values are 110 KB.
const PENDING_ROWS: usize = 64;

/// Replications' accumulator values (statistics, then the investor's and
/// the payer's cash-flow cycles), row by row, waiting to join a
/// [`RunState`]'s accumulators ([`RunState::add_deferred`]); rows wait for
/// one state at a time (added to it before they are used for another).
/// Empty, it holds no memory.
#[derive(Debug, Clone, Default)]
pub struct PendingRows {
    /// Values a row: set by the first row.
    width: usize,
    /// The rows, one after another.
    values: Vec<f64>,
}

impl PendingRows {
    /// No rows.
    pub fn new() -> PendingRows {
        PendingRows::default()
    }

    /// Whether it holds no row.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Appends a row made of `parts`, each cut or padded with NaN (a value
    /// no accumulator counts) to its length in `lengths` (those of the one
    /// state these rows wait for); returns whether the rows are full.
    fn push(&mut self, parts: [&[f64]; 3], lengths: [usize; 3]) -> bool {
        let width = lengths.iter().sum::<usize>();
        if self.values.capacity() == 0 {
            self.values.reserve_exact(width * PENDING_ROWS);
        }
        self.width = width;
        for (part, length) in parts.into_iter().zip(lengths) {
            let kept = part.len().min(length);
            self.values.extend_from_slice(&part[..kept]);
            self.values.extend(std::iter::repeat_n(f64::NAN, length - kept));
        }
        self.values.len() >= width * PENDING_ROWS
    }
}

impl RunState {
    /// An empty state for these statistics, events and cycles.
    pub fn new(
        scenario: &str,
        seed: u64,
        names: Vec<String>,
        event_names: Vec<String>,
        horizon: usize,
        start_year: f64,
        cycle_years: f64,
    ) -> RunState {
        let payment_contracts = payment_contracts(&names);
        let k = payment_contracts.len();
        RunState {
            scenario: scenario.to_string(),
            seed,
            replications: 0,
            statistics: vec![Accumulator::new(); names.len()],
            names,
            events: vec![0; event_names.len()],
            event_names,
            // The fans read only quantiles: no squares.
            investor_paths: vec![Accumulator::quantiles_only(); horizon],
            payer_paths: vec![Accumulator::quantiles_only(); horizon],
            payment_pairs: vec![Comoments::default(); k * (k + 1) / 2],
            payment_contracts,
            start_year,
            cycle_years,
        }
    }

    /// Adds one replication: its statistics, events and cash-flow paths,
    /// in the orders of the names this state was made with.
    pub fn add(&mut self, values: &[f64], events: &[bool], investor_path: &[f64], payer_path: &[f64]) {
        self.add_counts(values, events);
        for (a, &v) in self.statistics.iter_mut().zip(values) {
            a.add(v);
        }
        for (a, &v) in self.investor_paths.iter_mut().zip(investor_path) {
            a.add(v);
        }
        for (a, &v) in self.payer_paths.iter_mut().zip(payer_path) {
            a.add(v);
        }
    }

    /// [`RunState::add`], with the accumulators' values held in `rows`
    /// until it is full and then added column by column
    /// ([`RunState::add_rows`]): the same state, to the bit, once the rows
    /// are added, since each accumulator takes its values in the same order.
    /// Adding one replication's value to each of a few dozen accumulators
    /// in turn touched each one's lines (its count, extremes and batch)
    /// once a replication, about a tenth of a run's cache misses; a row is
    /// a few consecutive lines.
    pub fn add_deferred(
        &mut self,
        rows: &mut PendingRows,
        values: &[f64],
        events: &[bool],
        investor_path: &[f64],
        payer_path: &[f64],
    ) {
        self.add_counts(values, events);
        if rows.push(
            [values, investor_path, payer_path],
            [self.statistics.len(), self.investor_paths.len(), self.payer_paths.len()],
        ) {
            self.add_rows(rows);
        }
    }

    /// Adds the values `rows` holds to the accumulators, each column in
    /// the order of its rows, and empties `rows`.
    pub fn add_rows(&mut self, rows: &mut PendingRows) {
        let width = rows.width;
        if width == 0 {
            rows.values.clear();
            return;
        }
        let mut column = 0;
        for part in [&mut self.statistics, &mut self.investor_paths, &mut self.payer_paths] {
            // Eight accumulators at a time: a row's values for them share a
            // cache line or two, read once for the eight.
            for group in part.chunks_mut(8) {
                for row in rows.values.chunks_exact(width) {
                    for (accumulator, &v) in group.iter_mut().zip(&row[column..]) {
                        accumulator.add(v);
                    }
                }
                column += group.len();
            }
        }
        rows.values.clear();
    }

    /// Counts one replication and its events, and adds its payments to the
    /// co-moments of every pair of contracts: what [`RunState::add`] and
    /// [`RunState::add_deferred`] add at once.
    fn add_counts(&mut self, values: &[f64], events: &[bool]) {
        self.replications += 1;
        for (count, &e) in self.events.iter_mut().zip(events) {
            *count += u64::from(e);
        }
        let mut pair = 0;
        for (i, (_, x)) in self.payment_contracts.iter().enumerate() {
            for (_, y) in &self.payment_contracts[i..] {
                let value = |k: usize| values.get(k).copied().unwrap_or(f64::NAN);
                self.payment_pairs[pair].add(value(*x), value(*y));
                pair += 1;
            }
        }
    }

    /// Bins every accumulator's pending values (see [`Accumulator::flush`])
    /// and sums the co-moments' pending pairs: the state reads the same
    /// either way, but a flushed one is read without flushing a copy, and
    /// merges into another by its bins and sums alone.
    pub fn flush(&mut self) {
        self.accumulators_mut().for_each(Accumulator::flush);
        self.payment_pairs.iter_mut().for_each(Comoments::flush);
    }

    /// Every accumulator: the statistics', then both cash-flow paths'.
    fn accumulators(&self) -> impl Iterator<Item = &Accumulator> {
        self.statistics
            .iter()
            .chain(&self.investor_paths)
            .chain(&self.payer_paths)
    }

    /// [`RunState::accumulators`], to change.
    fn accumulators_mut(&mut self) -> impl Iterator<Item = &mut Accumulator> {
        self.statistics
            .iter_mut()
            .chain(&mut self.investor_paths)
            .chain(&mut self.payer_paths)
    }

    /// Empties the state, keeping what its accumulators allocated.
    pub fn clear(&mut self) {
        self.replications = 0;
        self.accumulators_mut().for_each(Accumulator::clear);
        self.events.iter_mut().for_each(|e| *e = 0);
        self.payment_pairs.iter_mut().for_each(Comoments::clear);
    }

    /// Adds every replication of `other` (a state of the same run's shape).
    pub fn merge(&mut self, other: &RunState) {
        self.merge_stripe(other, Stripe::WHOLE);
    }

    /// Adds `stripe`'s part of `other`: the statistics and cash-flow cycles
    /// it holds (numbered statistics first, then the investor's cycles,
    /// then the payer's), and, in the first stripe, the replication and
    /// event counts and the payment co-moments. Merging every stripe of
    /// `other`, in any order, is [`RunState::merge`].
    pub fn merge_stripe(&mut self, other: &RunState, stripe: Stripe) {
        for (part, (a, b)) in self.accumulators_mut().zip(other.accumulators()).enumerate() {
            if stripe.holds(part) {
                a.merge(b);
            }
        }
        if stripe.is_first() {
            self.merge_counts(other);
        }
    }

    /// Adds `other`'s replication and event counts and payment co-moments
    /// (what the first stripe carries besides its statistics).
    fn merge_counts(&mut self, other: &RunState) {
        self.replications += other.replications;
        for (a, b) in self.events.iter_mut().zip(&other.events) {
            *a += b;
        }
        for (a, b) in self.payment_pairs.iter_mut().zip(&other.payment_pairs) {
            a.merge(b);
        }
    }

    /// [`RunState::merge_stripe`] of a state this one may rearrange (a
    /// chunk's, merged and then cleared): its accumulators merge by
    /// [`Accumulator::merge_from`], without a copy. The same result.
    pub fn merge_stripe_from(&mut self, other: &mut RunState, stripe: Stripe) {
        for (part, (a, b)) in self.accumulators_mut().zip(other.accumulators_mut()).enumerate() {
            if stripe.holds(part) {
                a.merge_from(b);
            }
        }
        if stripe.is_first() {
            self.merge_counts(other);
        }
    }

    /// An empty state of `results`' shape.
    fn empty_for(results: &RunResults) -> RunState {
        RunState::new(
            &results.scenario,
            results.seed,
            results.names.clone(),
            results.event_names.clone(),
            results.investor_paths.len(),
            results.start_year,
            results.cycle_years,
        )
    }

    /// The state of every replication of `results`: the same, to the bit,
    /// as adding them one by one, built column by column in parallel.
    pub fn of(results: &RunResults) -> RunState {
        use rayon::prelude::*;
        let mut state = RunState::empty_for(results);
        state.replications = results.replications();
        state.statistics = results.columns.par_iter().map(|c| Accumulator::of(c)).collect();
        state.events = results
            .events
            .iter()
            .map(|e| e.iter().filter(|&&x| x).count() as u64)
            .collect();
        state.investor_paths = results
            .investor_paths
            .par_iter()
            .map(|c| Accumulator::quantiles_of(c))
            .collect();
        state.payer_paths = results
            .payer_paths
            .par_iter()
            .map(|c| Accumulator::quantiles_of(c))
            .collect();
        let contracts = &state.payment_contracts;
        let pairs: Vec<(usize, usize)> = (0..contracts.len())
            .flat_map(|i| (i..contracts.len()).map(move |j| (i, j)))
            .collect();
        state.payment_pairs = pairs
            .par_iter()
            .map(|&(i, j)| {
                let mut c = Comoments::default();
                let (x, y) = (&results.columns[contracts[i].1], &results.columns[contracts[j].1]);
                x.iter().zip(y).for_each(|(&a, &b)| c.add(a, b));
                c
            })
            .collect();
        state
    }

    /// The state of `results` added one replication at a time (what a
    /// streaming run does; [`RunState::of`] gives the same bits faster).
    pub fn one_by_one(results: &RunResults) -> RunState {
        let mut state = RunState::empty_for(results);
        let mut values = vec![0.0; results.names.len()];
        let mut events = vec![false; results.event_names.len()];
        let mut investor = vec![0.0; results.investor_paths.len()];
        let mut payer = vec![0.0; results.payer_paths.len()];
        for r in 0..results.replications() as usize {
            for (v, column) in values.iter_mut().zip(&results.columns) {
                *v = column[r];
            }
            for (e, column) in events.iter_mut().zip(&results.events) {
                *e = column[r];
            }
            for (v, path) in investor.iter_mut().zip(&results.investor_paths) {
                *v = path[r];
            }
            for (v, path) in payer.iter_mut().zip(&results.payer_paths) {
                *v = path[r];
            }
            state.add(&values, &events, &investor, &payer);
        }
        state
    }

    /// A statistic's accumulator by name.
    pub fn statistic(&self, name: &str) -> Option<&Accumulator> {
        self.names.iter().position(|n| n == name).map(|k| &self.statistics[k])
    }

    /// Calendar year at the end of cycle `t`.
    pub fn year_end(&self, t: usize) -> f64 {
        self.start_year + (t + 1) as f64 * self.cycle_years
    }

    /// The correlation matrix of the contracts' payments, if a portfolio's.
    pub fn payment_correlation(&self) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
        let k = self.payment_contracts.len();
        if k < 2 {
            return None;
        }
        // Pair (i, j), i ≤ j, sits after the rows above it.
        let index = |i: usize, j: usize| i * k - i * (i + 1) / 2 + j;
        let matrix = (0..k)
            .map(|i| {
                (0..k)
                    .map(|j| self.payment_pairs[index(i.min(j), i.max(j))].correlation())
                    .collect()
            })
            .collect();
        Some((self.payment_contracts.iter().map(|(n, _)| n.clone()).collect(), matrix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_once_and_one_by_one_give_the_same_bits() {
        let n = 300;
        let column = |f: &dyn Fn(f64) -> f64| (0..n).map(|r| f(f64::from(r))).collect::<Vec<f64>>();
        let results = RunResults {
            scenario: "s".to_string(),
            seed: 3,
            first: 0,
            names: vec![
                "investor.irr".to_string(),
                "contracts.a.payer.payments".to_string(),
                "contracts.b.payer.payments".to_string(),
            ],
            columns: vec![
                column(&|r| {
                    if r % 7.0 == 0.0 {
                        f64::NAN
                    } else {
                        (r * 0.37).sin() * 0.2
                    }
                }),
                column(&|r| (r * 13.0) % 50.0 * 1000.0),
                column(&|r| 1e6 + (r * 0.1).cos()),
            ],
            event_names: vec!["e".to_string()],
            events: vec![(0..n).map(|r| r % 3 == 0).collect()],
            investor_paths: vec![column(&|r| -r), column(&|r| r * r)],
            payer_paths: vec![column(&|r| r / 3.0), column(&|_| 0.0)],
            start_year: 2020.0,
            cycle_years: 1.0,
        };
        let at_once = RunState::of(&results);
        assert_eq!(at_once, RunState::one_by_one(&results));
        // Two halves merged stripe by stripe, stripes in any order, give
        // the same state as merged whole (and nothing before the last stripe).
        let half = |range: std::ops::Range<usize>| {
            let mut state = RunState::empty_for(&results);
            for r in range {
                let pick = |columns: &[Vec<f64>]| columns.iter().map(|c| c[r]).collect::<Vec<f64>>();
                let events: Vec<bool> = results.events.iter().map(|e| e[r]).collect();
                let [values, investor, payer] =
                    [&results.columns, &results.investor_paths, &results.payer_paths].map(|c| pick(c));
                state.add(&values, &events, &investor, &payer);
            }
            state
        };
        // What a state reports (its co-moments' partials may differ in form).
        let reads = |state: &RunState| {
            let accumulators: Vec<&Accumulator> = state
                .statistics
                .iter()
                .chain(&state.investor_paths)
                .chain(&state.payer_paths)
                .collect();
            let correlation = state.payment_correlation().map(|(_, m)| m.concat());
            let correlation: Vec<u64> = correlation.unwrap_or_default().iter().map(|x| x.to_bits()).collect();
            (
                accumulators.into_iter().cloned().collect::<Vec<_>>(),
                state.replications,
                state.events.clone(),
                correlation,
            )
        };
        // Rows held back and added column by column, in batches of any
        // fill, give the state of adding them one by one.
        let mut rows = PendingRows::new();
        let mut deferred = RunState::empty_for(&results);
        for r in 0..300 {
            let pick = |columns: &[Vec<f64>]| columns.iter().map(|c| c[r]).collect::<Vec<f64>>();
            let events: Vec<bool> = results.events.iter().map(|e| e[r]).collect();
            let [values, investor, payer] =
                [&results.columns, &results.investor_paths, &results.payer_paths].map(|c| pick(c));
            deferred.add_deferred(&mut rows, &values, &events, &investor, &payer);
            if r == 100 {
                // A sealed chunk's rows join early; the next fill starts anew.
                deferred.add_rows(&mut rows);
                assert!(rows.is_empty());
            }
        }
        assert!(!rows.is_empty(), "300 rows leave some waiting");
        assert_ne!(deferred, at_once, "rows still waiting are not in the state");
        deferred.add_rows(&mut rows);
        assert_eq!(deferred, at_once);
        let (first, second) = (half(0..120), half(120..300));
        for count in [1, 2, 3, 7] {
            let mut striped = first.clone();
            for index in (0..count).rev() {
                assert_ne!(
                    reads(&striped),
                    reads(&at_once),
                    "{count} stripes, before stripe {index}"
                );
                striped.merge_stripe(&second, Stripe { index, count });
            }
            assert_eq!(reads(&striped), reads(&at_once), "{count} stripes");
        }
        assert_eq!(at_once.replications, 300);
        assert_eq!(at_once.events, vec![100]);
        let (contracts, matrix) = at_once.payment_correlation().expect("two contracts");
        assert_eq!(contracts, vec!["a", "b"]);
        assert_eq!(matrix[0][1], matrix[1][0]);
        assert!((matrix[0][0] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn short_rows_count_as_missing_values_and_empty_rows_are_dropped() {
        let names = vec!["a".to_string(), "b".to_string()];
        let mut deferred = RunState::new("s", 1, names.clone(), Vec::new(), 1, 2020.0, 1.0);
        let mut direct = deferred.clone();
        let mut rows = PendingRows::new();
        for r in 0..200 {
            let v = f64::from(r);
            // One value where two are named, and two cycles where one is.
            deferred.add_deferred(&mut rows, &[v], &[], &[v, 1.0], &[-v]);
            direct.add(&[v], &[], &[v, 1.0], &[-v]);
        }
        deferred.add_rows(&mut rows);
        assert_eq!(deferred, direct);
        assert_eq!(deferred.statistics[1].count(), 0);
        assert_eq!(deferred.investor_paths[0].count(), 200);
        // A state of nothing: rows of no width add nothing.
        let mut empty = RunState::new("s", 1, Vec::new(), Vec::new(), 0, 2020.0, 1.0);
        for _ in 0..100 {
            empty.add_deferred(&mut rows, &[], &[], &[], &[]);
        }
        empty.add_rows(&mut rows);
        assert_eq!(empty.replications, 100);
    }
}
