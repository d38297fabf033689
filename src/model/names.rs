//! The names of everything a run reports, in one place.
//!
//! Statistics and events are addressed by dotted names in every output
//! (`summary.json`, `summary.csv`, `replications.csv`, shards, `--sweep`
//! columns). The engines build their name lists from these constants and
//! functions, and every reader looks names up through them, so a name is
//! spelled once.

/// Payer: state costs avoided in the intervention arm (discounted).
pub const TRUE_SAVINGS: &str = "payer.true_savings";
/// Payer: outcome payments, less return-cap refunds (discounted).
pub const PAYMENTS: &str = "payer.payments";
/// Payer: programme costs the payer bears itself (discounted).
pub const PROGRAMME_COSTS: &str = "payer.programme_costs";
/// Payer: true savings − payments − programme costs (discounted).
pub const NET_SAVINGS: &str = "payer.net_savings";
/// Investors: annual internal rate of return of their net cash flows.
pub const IRR: &str = "investor.irr";
/// Investors: distributions ÷ contributions.
pub const MULTIPLE: &str = "investor.multiple";
/// Investors: net present value at the investors' rate.
pub const NPV: &str = "investor.npv";
/// Fund: capital called from investors.
pub const CONTRIBUTIONS: &str = "fund.contributions";
/// Fund: paid out to investors, guarantee included.
pub const DISTRIBUTIONS: &str = "fund.distributions";
/// Fund: management fees charged.
pub const FEES: &str = "fund.fees";
/// Fund: capital called beyond the commitment.
pub const OVERCALL: &str = "fund.overcall";
/// Fund: paid by the first-loss guarantor.
pub const GUARANTEE: &str = "fund.guarantee";

/// Event: investors got back less than they put in (multiple < 1).
pub const INVESTOR_LOSS: &str = "investor.loss";
/// Event: the payer's net savings are negative.
pub const NET_LOSS: &str = "payer.net_loss";
/// Event: some component paid although its true impact was not positive.
pub const PAID_WITHOUT_IMPACT: &str = "payer.paid_without_impact";
/// Event: capital was called beyond the commitment.
pub const OVERCOMMITTED: &str = "fund.overcommitted";
/// Event: the investors' IRR is undefined (no sign change, or not unique).
pub const IRR_UNDEFINED: &str = "investor.irr_undefined";

/// Payer: discounted per-participant outcome payments for outcomes the same
/// child also reached in the baseline arm (contracts paying per outcome).
pub const DEADWEIGHT: &str = "payer.deadweight";
/// Payer: deadweight ÷ discounted per-participant outcome payments.
pub const DEADWEIGHT_SHARE: &str = "payer.deadweight_share";
/// Children who started the programme (under volume risk or reviews).
pub const ENROLLED: &str = "cohort.enrolled";
/// Event: a review terminated the contract.
pub const TERMINATED: &str = "contract.terminated";
/// Event: a review stopped enrolment.
pub const ENROLMENT_STOPPED: &str = "contract.enrolment_stopped";

/// The money statistics of every replication, in record order after the
/// metrics; a portfolio pools the same list (see `sim::record::Money`).
pub const MONEY_STATISTICS: [&str; 12] = [
    TRUE_SAVINGS,
    PAYMENTS,
    PROGRAMME_COSTS,
    NET_SAVINGS,
    IRR,
    MULTIPLE,
    NPV,
    CONTRIBUTIONS,
    DISTRIBUTIONS,
    FEES,
    OVERCALL,
    GUARANTEE,
];

/// The events of every replication, in record order (pooled the same way).
pub const MONEY_EVENTS: [&str; 5] = [
    INVESTOR_LOSS,
    NET_LOSS,
    PAID_WITHOUT_IMPACT,
    OVERCOMMITTED,
    IRR_UNDEFINED,
];

/// The headline: the statistics a reader sees first (terminal, sweeps).
pub const HEADLINE_STATISTICS: [&str; 5] = [TRUE_SAVINGS, PAYMENTS, NET_SAVINGS, IRR, MULTIPLE];

/// Statistics a contract reports only where they apply (per-participant
/// payments, volume risk), shown under the headline when present.
pub const CONTRACT_STATISTICS: [&str; 3] = [DEADWEIGHT, DEADWEIGHT_SHARE, ENROLLED];

/// Events a contract with reviews reports, shown with the headline events.
pub const CONTRACT_EVENTS: [&str; 2] = [TERMINATED, ENROLMENT_STOPPED];

/// The headline events (terminal, sweeps).
pub const HEADLINE_EVENTS: [&str; 3] = [INVESTOR_LOSS, NET_LOSS, PAID_WITHOUT_IMPACT];

/// The statistics whose expected shortfall (mean of the worst 5 %) is reported.
pub const SHORTFALL_STATISTICS: [&str; 2] = [MULTIPLE, NET_SAVINGS];

/// The tranche statistics, in record order (`tranche.<name>.<field>`).
pub const TRANCHE_FIELDS: [&str; 4] = ["irr", "multiple", "contributions", "distributions"];

/// The two arms' names, in the order of `model::ledger::{BASELINE, INTERVENTION}`.
pub const ARMS: [&str; 2] = ["baseline", "intervention"];

/// A metric's value in one arm: `arm.<arm>.<metric>`.
pub fn arm(arm: &str, metric: &str) -> String {
    format!("arm.{arm}.{metric}")
}

/// A metric's true impact (baseline − intervention): `true.<metric>.impact`.
pub fn true_impact(metric: &str) -> String {
    format!("true.{metric}.impact")
}

/// A metric's impact as the contract measured it: `measured.<metric>.impact`.
pub fn measured_impact(metric: &str) -> String {
    format!("measured.{metric}.impact")
}

/// A tranche statistic: `tranche.<tranche>.<field>`.
pub fn tranche(tranche: &str, field: &str) -> String {
    format!("tranche.{tranche}.{field}")
}

/// A tranche's loss event: `tranche.<tranche>.loss`.
pub fn tranche_loss(tranche: &str) -> String {
    format!("tranche.{tranche}.loss")
}

/// A portfolio contract's statistic or event: `contracts.<contract>.<name>`.
pub fn contract(contract: &str, name: &str) -> String {
    format!("contracts.{contract}.{name}")
}

/// The contract and the inner name of `contracts.<contract>.<name>`.
pub fn split_contract(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix("contracts.")?.split_once('.')
}

/// How a statistic's values read: money, a rate, a multiple, or a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Money in the scenario's currency.
    Money,
    /// A rate a year, as a fraction (0.05 = 5 %).
    Rate,
    /// A ratio such as the money multiple.
    Multiple,
    /// A share of a whole, as a fraction (0.4 = 40 %).
    Share,
    /// Children, cycles or events in the metric's own units.
    Count,
}

/// The unit of a statistic, from its name.
pub fn unit(name: &str) -> Unit {
    let inner = split_contract(name).map_or(name, |(_, inner)| inner);
    if inner.ends_with(".irr") {
        Unit::Rate
    } else if inner.ends_with("_share") {
        Unit::Share
    } else if inner.ends_with(".multiple") {
        Unit::Multiple
    } else if inner.starts_with("payer.") || inner.starts_with("fund.") || inner.starts_with("tranche.") || inner == NPV
    {
        Unit::Money
    } else {
        Unit::Count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_name() {
        assert_eq!(unit(IRR), Unit::Rate);
        assert_eq!(unit("tranche.senior.irr"), Unit::Rate);
        assert_eq!(unit(&contract("lohja", MULTIPLE)), Unit::Multiple);
        assert_eq!(unit(NET_SAVINGS), Unit::Money);
        assert_eq!(unit(NPV), Unit::Money);
        assert_eq!(unit(DEADWEIGHT), Unit::Money);
        assert_eq!(unit(DEADWEIGHT_SHARE), Unit::Share);
        assert_eq!(unit(ENROLLED), Unit::Count);
        assert_eq!(unit("tranche.senior.contributions"), Unit::Money);
        assert_eq!(unit(&arm("baseline", "care_years")), Unit::Count);
        assert_eq!(
            split_contract("contracts.a-b.payer.payments"),
            Some(("a-b", "payer.payments"))
        );
        assert_eq!(split_contract(IRR), None);
    }
}
