//! The fund: capital calls, fees, distributions, tranches, guarantee (model.md §9).
//!
//! Cash flows sit on a grid of times k·Δ (k = 0..=horizon): spending at the
//! start of cycle t is at k = t, outcome payments at its end at k = t + 1.

pub mod irr;

use crate::model::fund::{Distribute, Fund};

/// One tranche's cash flows.
#[derive(Debug, Clone, PartialEq)]
pub struct TrancheFlows {
    /// Net flow to the tranche at each grid time (negative: contribution).
    pub flows: Vec<f64>,
    /// What it put in.
    pub contributions: f64,
    /// What it got back (guarantee included).
    pub distributions: f64,
    /// What it is still owed after the last distribution, the guarantee
    /// aside: its contributions with their coupon accrued, less what it got
    /// back (never below 0).
    pub owed: f64,
}

/// The fund's cash flows in one replication.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FundFlows {
    /// Net flow to all investors at each grid time.
    pub investor: Vec<f64>,
    /// Per tranche.
    pub tranches: Vec<TrancheFlows>,
    /// Total capital called.
    pub contributions: f64,
    /// Total distributed, guarantee included.
    pub distributions: f64,
    /// Paid by the guarantor.
    pub guarantee: f64,
    /// Management fees charged.
    pub fees: f64,
    /// Capital called beyond the commitment.
    pub overcall: f64,
    /// Refunds to the payer (return cap) at each grid time.
    pub refunds: Vec<f64>,
    /// What the payer paid on termination (share × capital called to date).
    pub termination_payment: f64,
}

/// A contract terminated at a review.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closing {
    /// At the end of this cycle.
    pub at: usize,
    /// The payer pays this share of the capital called to date.
    pub payment_share: f64,
}

impl FundFlows {
    /// Zero flows on a grid of `grid` times for `tranches` tranches,
    /// keeping the buffers it has.
    fn reset(&mut self, grid: usize, tranches: usize) {
        let zero = |v: &mut Vec<f64>| {
            v.clear();
            v.resize(grid, 0.0);
        };
        zero(&mut self.investor);
        zero(&mut self.refunds);
        self.tranches.truncate(tranches);
        self.tranches.resize_with(tranches, || TrancheFlows {
            flows: Vec::new(),
            contributions: 0.0,
            distributions: 0.0,
            owed: 0.0,
        });
        for tranche in &mut self.tranches {
            zero(&mut tranche.flows);
            (tranche.contributions, tranche.distributions, tranche.owed) = (0.0, 0.0, 0.0);
        }
        self.contributions = 0.0;
        self.distributions = 0.0;
        self.guarantee = 0.0;
        self.fees = 0.0;
        self.overcall = 0.0;
        self.termination_payment = 0.0;
    }
}

struct Waterfall<'a> {
    fund: &'a Fund,
    step_years: f64,
    /// The flows so far; each tranche's `owed` is accrued to `accrued_at`.
    out: &'a mut FundFlows,
    accrued_at: usize,
    distributed: f64,
}

impl Waterfall<'_> {
    fn accrue(&mut self, k: usize) {
        if k > self.accrued_at {
            let years = (k - self.accrued_at) as f64 * self.step_years;
            // No coupon (the default single tranche): the factor is 1^years
            // = 1 exactly, and multiplying by it changes nothing, so the
            // `pow` (1 % of a run, once a capital call) is skipped.
            for (flows, tranche) in self.out.tranches.iter_mut().zip(&self.fund.tranches) {
                if tranche.coupon != 0.0 {
                    flows.owed *= (1.0 + tranche.coupon).powf(years);
                }
            }
            self.accrued_at = k;
        }
    }

    fn contribute(&mut self, k: usize, amount: f64) {
        if amount <= 0.0 {
            return;
        }
        self.accrue(k);
        self.out.contributions += amount;
        self.out.investor[k] -= amount;
        for (i, tranche) in self.fund.tranches.iter().enumerate() {
            let part = tranche.share * amount;
            let flows = &mut self.out.tranches[i];
            flows.owed += part;
            flows.contributions += part;
            flows.flows[k] -= part;
        }
    }

    fn distribute(&mut self, k: usize, amount: f64) {
        if amount <= 0.0 {
            return;
        }
        let allowed = match self.fund.return_cap_multiple {
            Some(cap) => (cap * self.out.contributions - self.distributed).max(0.0),
            None => f64::INFINITY,
        };
        let paid = amount.min(allowed);
        self.out.refunds[k] += amount - paid;
        self.distributed += paid;
        self.out.distributions += paid;
        self.out.investor[k] += paid;
        self.accrue(k);
        let last = self.fund.tranches.len() - 1;
        let mut left = paid;
        for i in 0..=last {
            let flows = &mut self.out.tranches[i];
            let part = if i == last { left } else { left.min(flows.owed) };
            flows.owed -= part.min(flows.owed);
            left -= part;
            flows.distributions += part;
            flows.flows[k] += part;
        }
    }
}

impl Fund {
    /// Runs the fund over a horizon: `programme[t]` is what the fund must
    /// spend on the programme at the start of cycle t (fees are added here),
    /// `receipts[t]` the outcome payment at its end (negative: paid back).
    pub fn flows(&self, programme: &[f64], receipts: &[f64], step_years: f64) -> FundFlows {
        self.flows_closing(programme, receipts, step_years, None)
    }

    /// [`Fund::flows`] for a contract that may be terminated: at the end of
    /// cycle `closing.at` the payer adds its termination payment to that
    /// cycle's receipt, the fund distributes everything it holds, and it
    /// charges no fee afterwards; later receipts (lagged payments) are
    /// passed on as they arrive.
    pub fn flows_closing(
        &self,
        programme: &[f64],
        receipts: &[f64],
        step_years: f64,
        closing: Option<Closing>,
    ) -> FundFlows {
        let mut out = FundFlows::default();
        self.flows_into(programme, receipts, step_years, closing, &mut out);
        out
    }

    /// [`Fund::flows_closing`] written into `out`, whose buffers are kept:
    /// no allocation once it has held the flows of this fund and horizon.
    pub fn flows_into(
        &self,
        programme: &[f64],
        receipts: &[f64],
        step_years: f64,
        closing: Option<Closing>,
        out: &mut FundFlows,
    ) {
        let horizon = programme.len();
        out.reset(horizon + 1, self.tranches.len());
        let mut w = Waterfall {
            fund: self,
            step_years,
            out,
            accrued_at: 0,
            distributed: 0.0,
        };
        let fee = if self.capital.is_finite() {
            self.management_fee * self.capital * step_years
        } else {
            0.0
        };
        let mut cash: f64 = 0.0;
        for t in 0..horizon {
            let closed = closing.is_some_and(|c| t > c.at);
            let fee = if closed { 0.0 } else { fee };
            let spend = programme[t] + fee;
            w.out.fees += fee;
            let from_cash = if self.distribute == Distribute::AtEnd {
                cash.min(spend)
            } else {
                0.0
            };
            cash -= from_cash;
            w.contribute(t, spend - from_cash);
            let mut receipt = receipts[t];
            if let Some(c) = closing.filter(|c| c.at == t) {
                w.out.termination_payment = c.payment_share * w.out.contributions;
                receipt += w.out.termination_payment;
            }
            if receipt >= 0.0 {
                match self.distribute {
                    Distribute::OnReceipt => w.distribute(t + 1, receipt),
                    Distribute::AtEnd if closed => w.distribute(t + 1, receipt),
                    Distribute::AtEnd => cash += receipt,
                }
            } else {
                // A clawback: paid from cash first, then called from investors.
                let owed = -receipt;
                let from_cash = cash.min(owed);
                cash -= from_cash;
                w.contribute(t + 1, owed - from_cash);
            }
            if closing.is_some_and(|c| c.at == t) {
                w.distribute(t + 1, cash);
                cash = 0.0;
            }
        }
        w.distribute(horizon, cash);
        if let Some(first_loss) = self.first_loss {
            let last = self.tranches.len() - 1;
            let junior = &mut w.out.tranches[last];
            let loss = (junior.contributions - junior.distributions).max(0.0);
            let covered = first_loss * loss;
            junior.distributions += covered;
            junior.flows[horizon] += covered;
            w.out.investor[horizon] += covered;
            w.out.distributions += covered;
            w.out.guarantee = covered;
        }
        w.out.overcall = (w.out.contributions - self.capital).max(0.0);
    }
}

/// Money multiple: distributions / contributions (NaN when nothing was put in).
pub fn multiple(distributions: f64, contributions: f64) -> f64 {
    if contributions > 0.0 {
        distributions / contributions
    } else {
        f64::NAN
    }
}

/// Present value of grid flows at an annual rate.
pub fn npv(flows: &[f64], rate: f64, step_years: f64) -> f64 {
    let x = (1.0 + rate).powf(-step_years);
    flows.iter().rev().fold(0.0, |acc, &f| acc * x + f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fund::Tranche;

    fn fund(distribute: Distribute) -> Fund {
        Fund {
            capital: 1000.0,
            management_fee: 0.01,
            distribute,
            return_cap_multiple: None,
            first_loss: None,
            tranches: vec![Tranche {
                name: "investors".into(),
                share: 1.0,
                coupon: 0.0,
            }],
        }
    }

    #[test]
    fn at_end_receipts_pay_later_costs() {
        // Spend 100 + fee 10 a cycle; 300 arrives at the end of cycle 0.
        let f = fund(Distribute::AtEnd).flows(&[100.0, 100.0, 100.0], &[300.0, 0.0, 0.0], 1.0);
        assert_eq!(f.contributions, 110.0);
        assert_eq!(f.investor, vec![-110.0, 0.0, 0.0, 80.0]);
        assert_eq!(f.fees, 30.0);
    }

    #[test]
    fn on_receipt_distributes_at_once() {
        let f = fund(Distribute::OnReceipt).flows(&[100.0, 100.0, 100.0], &[300.0, 0.0, 0.0], 1.0);
        assert_eq!(f.investor, vec![-110.0, 300.0 - 110.0, -110.0, 0.0]);
        assert_eq!(f.contributions, 330.0);
        assert_eq!(f.distributions, 300.0);
    }

    #[test]
    fn senior_gets_capital_and_coupon_first_and_guarantee_covers_junior() {
        let mut f = fund(Distribute::AtEnd);
        f.management_fee = 0.0;
        f.tranches = vec![
            Tranche {
                name: "senior".into(),
                share: 0.5,
                coupon: 0.1,
            },
            Tranche {
                name: "junior".into(),
                share: 0.5,
                coupon: 0.0,
            },
        ];
        f.first_loss = Some(0.5);
        // 100 called at t = 0; 80 back at t = 2: senior owed 50 × 1.1² = 60.5.
        let flows = f.flows(&[100.0, 0.0], &[0.0, 80.0], 1.0);
        assert!((flows.tranches[0].distributions - 60.5).abs() < 1e-12);
        // Junior gets 19.5, lost 30.5, half covered.
        assert!((flows.tranches[1].distributions - (19.5 + 15.25)).abs() < 1e-12);
        assert!((flows.guarantee - 15.25).abs() < 1e-12);
    }

    #[test]
    fn return_cap_refunds_the_excess() {
        let mut f = fund(Distribute::AtEnd);
        f.management_fee = 0.0;
        f.return_cap_multiple = Some(1.5);
        let flows = f.flows(&[100.0], &[200.0], 1.0);
        assert_eq!(flows.distributions, 150.0);
        assert_eq!(flows.refunds, vec![0.0, 50.0]);
    }

    #[test]
    fn a_termination_pays_its_share_of_capital_called_and_closes_the_fund() {
        // 110 called at t = 0 and t = 1; terminated at the end of cycle 1:
        // the payer pays 50 % of 220, the fund distributes it at once, no
        // fee is charged after, and a lagged receipt at cycle 2 passes on.
        let f = fund(Distribute::AtEnd).flows_closing(
            &[100.0, 100.0, 0.0],
            &[0.0, 0.0, 30.0],
            1.0,
            Some(Closing {
                at: 1,
                payment_share: 0.5,
            }),
        );
        assert_eq!(f.termination_payment, 110.0);
        assert_eq!(f.investor, vec![-110.0, -110.0, 110.0, 30.0]);
        assert_eq!(f.fees, 20.0);
    }

    #[test]
    fn overcall_is_reported() {
        let flows = fund(Distribute::AtEnd).flows(&[600.0, 600.0], &[0.0, 0.0], 1.0);
        assert_eq!(flows.overcall, 1220.0 - 1000.0);
    }
}
