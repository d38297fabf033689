//! Portfolios: several contracts, each from its own file with its own cohort
//! and contract, one shared shock path per replication, and a pooled fund
//! whose cash flows are the sum of the contracts'.

use crate::error::Result;
use crate::fund::FundFlows;
use crate::model::portfolio::Portfolio;
use crate::model::{discount_factor, names};
use crate::sim::engine::{Engine, Workspaces};
use crate::sim::parallel::{replicate_all, replicate_fold, Fold, RunOptions};
use crate::sim::parameters::ShockPath;
use crate::sim::record::{Money, PayerTotals, Record, RunResults};

/// A portfolio compiled for simulation.
#[derive(Debug, Clone)]
pub struct PortfolioEngine {
    /// The portfolio.
    pub portfolio: Portfolio,
    /// One engine per contract.
    pub engines: Vec<Engine>,
    /// Pooled horizon in cycles.
    pub horizon: usize,
    /// Statistic names: pooled, then `contracts.<name>.<statistic>`.
    pub statistic_names: Vec<String>,
    /// Event names likewise.
    pub event_names: Vec<String>,
    /// Hold the shared shock at this level every cycle instead of drawing
    /// its path (one-way sensitivity; None in every ordinary run).
    pub fixed_shock: Option<f64>,
}

impl PortfolioEngine {
    /// Compiles every contract.
    pub fn new(portfolio: Portfolio) -> PortfolioEngine {
        let engines: Vec<Engine> = portfolio.contracts.iter().cloned().map(Engine::new).collect();
        let horizon = engines
            .iter()
            .zip(&portfolio.offsets)
            .map(|(e, o)| o + e.scenario.time.horizon)
            .max()
            .unwrap_or(0);
        let mut statistic_names: Vec<String> = names::MONEY_STATISTICS.map(String::from).to_vec();
        let mut event_names: Vec<String> = names::MONEY_EVENTS.map(String::from).to_vec();
        for e in &engines {
            statistic_names.extend(e.statistic_names.iter().map(|n| names::contract(&e.scenario.name, n)));
            event_names.extend(e.event_names.iter().map(|n| names::contract(&e.scenario.name, n)));
        }
        PortfolioEngine {
            portfolio,
            engines,
            horizon,
            statistic_names,
            event_names,
            fixed_shock: None,
        }
    }

    /// Exact expectations of every contract, prefixed `contracts.<name>.`.
    pub fn expected(&self) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for e in &self.engines {
            out.extend(
                e.expected()
                    .named()
                    .into_iter()
                    .map(|(n, v)| (names::contract(&e.scenario.name, &n), v)),
            );
        }
        out
    }

    /// Child-cycle pairs per replication (all contracts).
    pub fn pairs(&self) -> u64 {
        self.engines
            .iter()
            .map(|e| {
                let h = e.scenario.time.horizon as u64;
                e.scenario
                    .cohort
                    .waves
                    .iter()
                    .map(|w| w.children * (h - w.cycle as u64))
                    .sum::<u64>()
            })
            .sum()
    }

    /// One replication of every contract and the pooled fund, written to
    /// `out`; `workspace` is the thread's (see
    /// [`PortfolioEngine::workspace`]). Allocates nothing once the
    /// workspace's buffers have their sizes.
    pub fn replicate(
        &self,
        seed: u64,
        replication: u64,
        workspace: &mut PortfolioWorkspace,
        out: &mut Record,
        cancel: Option<&std::sync::atomic::AtomicBool>,
    ) {
        let PortfolioWorkspace {
            contracts,
            records,
            path,
            spending,
            receipts,
            flows,
        } = workspace;
        let shock = match (self.fixed_shock, &self.portfolio.shock) {
            (Some(level), _) => ShockPath::Fixed(level),
            (None, Some(shock)) => ShockPath::Drawn(shock),
            (None, None) => ShockPath::None,
        };
        let shocked = shock.fill(self.horizon, seed, replication, path);
        let step = self.portfolio.cycle_years;
        for buffer in [&mut *spending, &mut *receipts, &mut out.payer_path] {
            buffer.clear();
            buffer.resize(self.horizon, 0.0);
        }
        let mut payer = PayerTotals::default();
        let mut paid_without_impact = false;
        for (c, engine) in self.engines.iter().enumerate() {
            let offset = self.portfolio.offsets[c];
            let h = engine.scenario.time.horizon;
            let slice = shocked.then(|| &path[offset..offset + h]);
            engine.replicate_in(
                seed,
                c as u64,
                replication,
                slice,
                &mut contracts[c],
                &mut records[c],
                cancel,
            );
            let record = &records[c];
            for t in 0..h {
                spending[offset + t] += record.fund_spending[t];
                receipts[offset + t] += record.payments[t];
            }
            // Each contract's payer figures are discounted to its own start;
            // bring them to the portfolio's first year.
            let to_start = discount_factor(engine.scenario.discounting.payer_rate, offset as f64 * step);
            payer.true_savings += record.money.true_savings * to_start;
            payer.payments += record.money.payments * to_start;
            payer.programme_costs += record.money.programme_costs * to_start;
            for (t, cell) in out.payer_path.iter_mut().enumerate() {
                if t >= offset {
                    *cell += record.payer_path[(t - offset).min(h - 1)];
                }
            }
            paid_without_impact |= record.money_events.paid_without_impact;
        }
        self.portfolio.fund.flows_into(spending, receipts, step, None, flows);
        let rate = self.engines.first().map_or(0.0, |e| e.scenario.discounting.payer_rate);
        let refunds: f64 = flows
            .refunds
            .iter()
            .enumerate()
            .map(|(k, r)| r * discount_factor(rate, k as f64 * step))
            .sum();
        // Return-cap refunds go back to the payers (discounted at the first contract's payer rate).
        payer.payments -= refunds;
        let (money, events) = Money::settle(payer, flows, self.portfolio.investor_rate, step, paid_without_impact);
        out.values.clear();
        out.events.clear();
        out.push_money(money, events);
        for record in records.iter() {
            out.values.extend_from_slice(&record.values);
            out.events.extend_from_slice(&record.events);
        }
        out.investor_path.clear();
        let mut cumulative = flows.investor[0];
        for t in 0..self.horizon {
            cumulative += flows.investor[t + 1];
            out.investor_path.push(cumulative);
        }
    }

    /// Runs replications in parallel, in replication order.
    ///
    /// # Errors
    /// As for [`Engine::run`].
    pub fn run(&self, options: &RunOptions) -> Result<RunResults> {
        let records = replicate_all(
            options,
            || self.workspace(),
            |workspace, r, out| self.replicate(options.seed, r, workspace, out, options.cancel),
        )?;
        Ok(RunResults::from_records(
            &records,
            &self.portfolio.name,
            options,
            self.statistic_names.clone(),
            self.event_names.clone(),
            self.horizon,
            self.portfolio.start_year,
            self.portfolio.cycle_years,
        ))
    }

    /// Runs like [`PortfolioEngine::run`], folding each replication's
    /// record into an accumulator instead of keeping it.
    ///
    /// # Errors
    /// As for [`Engine::run`].
    pub fn run_fold<D: Fold>(&self, options: &RunOptions, fold: &D) -> Result<D::State> {
        replicate_fold(
            options,
            || self.workspace(),
            |workspace, r, out| self.replicate(options.seed, r, workspace, out, options.cancel),
            fold,
        )
    }

    /// Fresh per-thread scratch space: each contract's workspaces and
    /// record, and the pooled fund's buffers.
    pub fn workspace(&self) -> PortfolioWorkspace {
        PortfolioWorkspace {
            contracts: self.engines.iter().map(|e| e.workspace()).collect(),
            records: vec![Record::default(); self.engines.len()],
            path: Vec::new(),
            spending: Vec::new(),
            receipts: Vec::new(),
            flows: FundFlows::default(),
        }
    }
}

/// A portfolio's per-thread scratch space, reused across replications.
#[derive(Debug, Clone)]
pub struct PortfolioWorkspace {
    contracts: Vec<Workspaces>,
    records: Vec<Record>,
    /// The shared shock path.
    path: Vec<f64>,
    /// The pooled fund's spending and receipts per cycle.
    spending: Vec<f64>,
    receipts: Vec<f64>,
    flows: FundFlows,
}
