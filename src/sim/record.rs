//! What a replication produces: one [`Record`] per replication, with its
//! money statistics as a named [`Money`] record, and every run's
//! [`RunResults`] in replication order.

use super::parallel::RunOptions;
use crate::fund::irr::{irr, Irr};
use crate::fund::{multiple, npv, FundFlows};
use crate::model::fund::Fund;
use crate::model::{names, Scenario};

/// One replication's output.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    /// Statistics in the engine's `statistic_names` order.
    pub values: Vec<f64>,
    /// Events in the engine's `event_names` order.
    pub events: Vec<bool>,
    /// The money statistics (also in `values`), for a portfolio to pool.
    pub money: Money,
    /// The money events (also in `events`).
    pub money_events: MoneyEvents,
    /// Cumulative net cash flow to investors at the end of each cycle.
    pub investor_path: Vec<f64>,
    /// Cumulative net cash position of the payer at the end of each cycle
    /// (state costs avoided − payments − programme costs it bears), undiscounted.
    pub payer_path: Vec<f64>,
    /// Outcome payment at the end of each cycle.
    pub payments: Vec<f64>,
    /// What the fund spends on the programme at the start of each cycle.
    pub fund_spending: Vec<f64>,
}

/// Everything a run produced, in replication order.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResults {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// First replication index.
    pub first: u64,
    /// Statistic names.
    pub names: Vec<String>,
    /// `columns[k][r]`: statistic k in replication `first + r`.
    pub columns: Vec<Vec<f64>>,
    /// Event names.
    pub event_names: Vec<String>,
    /// `events[k][r]`: whether event k happened in replication `first + r`.
    pub events: Vec<Vec<bool>>,
    /// `investor_paths[t][r]`: cumulative investor cash flow at the end of cycle t.
    pub investor_paths: Vec<Vec<f64>>,
    /// `payer_paths[t][r]`: cumulative payer cash position at the end of cycle t.
    pub payer_paths: Vec<Vec<f64>>,
    /// Calendar label of cycle 0.
    pub start_year: f64,
    /// Years per cycle.
    pub cycle_years: f64,
}

impl RunResults {
    /// Transposes records (in replication order) into columns.
    #[allow(clippy::too_many_arguments)]
    pub fn from_records(
        records: &[Record],
        scenario: &str,
        options: &RunOptions,
        names: Vec<String>,
        event_names: Vec<String>,
        horizon: usize,
        start_year: f64,
        cycle_years: f64,
    ) -> RunResults {
        let transpose = |width: usize, get: &dyn Fn(&Record) -> &[f64]| -> Vec<Vec<f64>> {
            let mut columns = vec![Vec::with_capacity(records.len()); width];
            for record in records {
                for (column, &v) in columns.iter_mut().zip(get(record)) {
                    column.push(v);
                }
            }
            columns
        };
        let mut events = vec![Vec::with_capacity(records.len()); event_names.len()];
        for record in records {
            for (column, &e) in events.iter_mut().zip(&record.events) {
                column.push(e);
            }
        }
        RunResults {
            scenario: scenario.to_string(),
            seed: options.seed,
            first: options.first,
            columns: transpose(names.len(), &|r| &r.values),
            names,
            event_names,
            events,
            investor_paths: transpose(horizon, &|r| &r.investor_path),
            payer_paths: transpose(horizon, &|r| &r.payer_path),
            start_year,
            cycle_years,
        }
    }

    /// Number of replications.
    pub fn replications(&self) -> u64 {
        self.columns.first().map_or(0, |c| c.len() as u64)
    }

    /// The column of a statistic by name.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.columns[i].as_slice())
    }

    /// Calendar year at the end of cycle `t`.
    pub fn year_end(&self, t: usize) -> f64 {
        self.start_year + (t + 1) as f64 * self.cycle_years
    }

    /// The column of an event by name.
    pub fn event(&self, name: &str) -> Option<&[bool]> {
        self.event_names
            .iter()
            .position(|n| n == name)
            .map(|i| self.events[i].as_slice())
    }
}

/// What one replication means in money, for the payer, the investors and
/// the fund: the statistics named [`names::MONEY_STATISTICS`], in that order.
/// The single-contract and the portfolio engine both produce it with
/// [`Money::settle`], so their figures are computed the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Money {
    /// [`names::TRUE_SAVINGS`].
    pub true_savings: f64,
    /// [`names::PAYMENTS`].
    pub payments: f64,
    /// [`names::PROGRAMME_COSTS`].
    pub programme_costs: f64,
    /// [`names::NET_SAVINGS`].
    pub net_savings: f64,
    /// [`names::IRR`].
    pub irr: f64,
    /// [`names::MULTIPLE`].
    pub multiple: f64,
    /// [`names::NPV`].
    pub npv: f64,
    /// [`names::CONTRIBUTIONS`].
    pub contributions: f64,
    /// [`names::DISTRIBUTIONS`].
    pub distributions: f64,
    /// [`names::FEES`].
    pub fees: f64,
    /// [`names::OVERCALL`].
    pub overcall: f64,
    /// [`names::GUARANTEE`].
    pub guarantee: f64,
}

/// The events of [`names::MONEY_EVENTS`], in that order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoneyEvents {
    /// [`names::INVESTOR_LOSS`].
    pub investor_loss: bool,
    /// [`names::NET_LOSS`].
    pub net_loss: bool,
    /// [`names::PAID_WITHOUT_IMPACT`].
    pub paid_without_impact: bool,
    /// [`names::OVERCOMMITTED`].
    pub overcommitted: bool,
    /// [`names::IRR_UNDEFINED`].
    pub irr_undefined: bool,
}

/// The payer's discounted totals of one replication.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PayerTotals {
    /// State costs avoided.
    pub true_savings: f64,
    /// Outcome payments, less return-cap refunds.
    pub payments: f64,
    /// Programme costs the payer bears.
    pub programme_costs: f64,
}

impl Money {
    /// The money record of the payer's totals and the fund's cash flows,
    /// with the investors' NPV at `investor_rate`; cash flows sit on a grid
    /// of `step_years`.
    pub fn settle(
        payer: PayerTotals,
        flows: &FundFlows,
        investor_rate: f64,
        step_years: f64,
        paid_without_impact: bool,
    ) -> (Money, MoneyEvents) {
        let net_savings = payer.true_savings - payer.payments - payer.programme_costs;
        let investor_irr = irr(&flows.investor, step_years);
        let investor_multiple = multiple(flows.distributions, flows.contributions);
        let money = Money {
            true_savings: payer.true_savings,
            payments: payer.payments,
            programme_costs: payer.programme_costs,
            net_savings,
            irr: investor_irr.value(),
            multiple: investor_multiple,
            npv: npv(&flows.investor, investor_rate, step_years),
            contributions: flows.contributions,
            distributions: flows.distributions,
            fees: flows.fees,
            overcall: flows.overcall,
            guarantee: flows.guarantee,
        };
        let events = MoneyEvents {
            investor_loss: investor_multiple < 1.0,
            net_loss: net_savings < 0.0,
            paid_without_impact,
            overcommitted: flows.overcall > 0.0,
            irr_undefined: matches!(investor_irr, Irr::None | Irr::NotUnique),
        };
        (money, events)
    }

    /// The values in [`names::MONEY_STATISTICS`] order.
    pub fn values(&self) -> [f64; names::MONEY_STATISTICS.len()] {
        [
            self.true_savings,
            self.payments,
            self.programme_costs,
            self.net_savings,
            self.irr,
            self.multiple,
            self.npv,
            self.contributions,
            self.distributions,
            self.fees,
            self.overcall,
            self.guarantee,
        ]
    }
}

impl MoneyEvents {
    /// The events in [`names::MONEY_EVENTS`] order.
    pub fn values(&self) -> [bool; names::MONEY_EVENTS.len()] {
        [
            self.investor_loss,
            self.net_loss,
            self.paid_without_impact,
            self.overcommitted,
            self.irr_undefined,
        ]
    }
}

impl Record {
    /// Appends the money statistics and events to `values` and `events`
    /// (in record order) and keeps them typed for pooling.
    pub fn push_money(&mut self, money: Money, events: MoneyEvents) {
        self.values.extend(money.values());
        self.events.extend(events.values());
        self.money = money;
        self.money_events = events;
    }
}

/// The names of a replication's statistics and events, in record order:
/// metrics in each arm, true impacts, measured impacts, the money record,
/// the contract's optional figures, then each tranche's figures when the
/// fund has more than one.
pub(crate) fn output_names(
    scenario: &Scenario,
    measured: &[(usize, usize, usize)],
    fund: &Fund,
    reports: super::engine::Reports,
) -> (Vec<String>, Vec<String>) {
    let mut statistic_names = Vec::new();
    for arm in names::ARMS {
        for m in &scenario.metrics {
            statistic_names.push(names::arm(arm, &m.name));
        }
    }
    for m in &scenario.metrics {
        statistic_names.push(names::true_impact(&m.name));
    }
    for (m, _, _) in measured {
        statistic_names.push(names::measured_impact(&scenario.metrics[*m].name));
    }
    statistic_names.extend(names::MONEY_STATISTICS.map(String::from));
    let mut event_names: Vec<String> = names::MONEY_EVENTS.map(String::from).to_vec();
    if reports.deadweight {
        statistic_names.extend([names::DEADWEIGHT, names::DEADWEIGHT_SHARE].map(String::from));
    }
    if reports.enrolled {
        statistic_names.push(names::ENROLLED.to_string());
    }
    if reports.reviews {
        event_names.extend([names::TERMINATED, names::ENROLMENT_STOPPED].map(String::from));
    }
    if scenario.fund.as_ref().is_some_and(|f| f.tranches.len() > 1) {
        for t in &fund.tranches {
            statistic_names.extend(names::TRANCHE_FIELDS.map(|field| names::tranche(&t.name, field)));
            event_names.push(names::tranche_loss(&t.name));
        }
    }
    (statistic_names, event_names)
}
