//! The fund's terms, as checked by the scenario stage. Its cash flows in one
//! replication are the fund stage's job (`crate::fund`).

/// When receipts go to investors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribute {
    /// Receipts pay later costs; the balance goes back at the end of the horizon.
    AtEnd,
    /// Every payment is distributed when it arrives.
    OnReceipt,
}

/// A slice of the investors: earlier tranches are senior to later ones.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Tranche {
    /// Name (`[a-z0-9_-]+`).
    pub name: String,
    /// Share of every capital call.
    pub share: f64,
    /// Annual coupon a senior tranche accrues on what it is owed.
    pub coupon: f64,
}

/// The fund's terms.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Fund {
    /// Committed capital (> 0); calls beyond it are made and reported.
    pub capital: f64,
    /// Share of committed capital per year, charged at every cycle start.
    pub management_fee: f64,
    /// Distribution policy.
    pub distribute: Distribute,
    /// Investors get back at most this multiple of what they put in; the
    /// excess is refunded to the outcome payer.
    pub return_cap_multiple: Option<f64>,
    /// Share of the (most junior) investors' capital loss a guarantor covers at the end.
    pub first_loss: Option<f64>,
    /// Tranches, senior first; one implicit tranche when none are given.
    pub tranches: Vec<Tranche>,
}

impl Fund {
    /// The fund used when a scenario has no `[fund]`: investors fund
    /// whatever the fund spends, no fee, receipts kept to the end.
    pub fn unlimited() -> Fund {
        Fund {
            capital: f64::INFINITY,
            management_fee: 0.0,
            distribute: Distribute::AtEnd,
            return_cap_multiple: None,
            first_loss: None,
            tranches: vec![Tranche {
                name: "investors".to_string(),
                share: 1.0,
                coupon: 0.0,
            }],
        }
    }
}
