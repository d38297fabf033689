//! The outcome contract's terms, as checked by the scenario stage: how impact
//! is measured and what each component pays. What the terms pay in one
//! replication is the contract stage's job (`crate::contract`).

/// How the contract sees impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measurement {
    /// Against a stated baseline value: impact = baseline − observed.
    FixedBaseline,
    /// Against a simulated comparison group of `size` children:
    /// impact = (control rate − treated rate) × treated children.
    ControlGroup {
        /// Children in the comparison group.
        size: u64,
    },
}

/// The baseline value a fixed-baseline component compares against.
#[derive(Debug, Clone, PartialEq)]
pub enum Baseline {
    /// One cumulative value per payment date.
    Stated(Vec<f64>),
    /// The exact expectation of the baseline arm from the central
    /// parameters, over each date's cumulative window.
    Expected,
    /// Measured by the comparison group (control-group contracts).
    FromControl,
}

/// What a component pays for its measurement.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `price` per unit of measured impact.
    RateCard {
        /// Per unit of impact.
        price: f64,
    },
    /// `share` of the measured avoided cost (impact in the metric's units).
    SavingsShare {
        /// In [0, 1].
        share: f64,
    },
    /// Cumulative payment by relative effect.
    Tiers {
        /// (relative effect, cumulative payment), effects strictly increasing.
        points: Vec<(f64, f64)>,
        /// Interpolate linearly between points (else step).
        linear: bool,
    },
}

/// One payment component.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Component {
    /// Index of the metric in the scenario.
    pub metric: usize,
    /// What measured impact is compared with.
    pub baseline: Baseline,
    /// The payment rule.
    pub rule: Rule,
    /// Pay only once the relative effect reaches this.
    pub threshold: Option<f64>,
    /// Payment dates: ends of these cycles, strictly increasing, < horizon.
    pub at: Vec<usize>,
    /// Cap on this component's cumulative payments.
    pub cap: Option<f64>,
    /// Cap on this component's payment at any one date.
    pub cap_per_date: Option<f64>,
}

/// The contract.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Contract {
    /// How impact is measured.
    pub measurement: Measurement,
    /// Cap on all payments together.
    pub max_total: Option<f64>,
    /// Cap on all components' payments at one date.
    pub cap_per_date: Option<f64>,
    /// Whether overpayments are paid back at a later date.
    pub clawback: bool,
    /// Components in file order.
    pub components: Vec<Component>,
}
