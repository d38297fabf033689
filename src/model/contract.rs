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
    /// Outcomes counted in the programme group, with no counterfactual.
    ExPost,
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
    /// No counterfactual (`measurement = "ex_post"`): the contract counts
    /// outcomes in the programme group, child by child.
    ExPost,
    /// Not measured: a `per_enrolment` component pays per child who starts.
    Enrolment,
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
    /// `price` per child who starts the programme, at the end of its entry cycle.
    PerEnrolment {
        /// Per child enrolled.
        price: f64,
    },
}

/// One payment component.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Component {
    /// Index of the metric in the scenario (None for `per_enrolment`).
    pub metric: Option<usize>,
    /// What measured impact is compared with.
    pub baseline: Baseline,
    /// The payment rule.
    pub rule: Rule,
    /// Pay only once the relative effect reaches this.
    pub threshold: Option<f64>,
    /// Payment dates: ends of these cycles, strictly increasing, < horizon
    /// (`per_enrolment`: the waves' entry cycles).
    pub at: Vec<usize>,
    /// Cap on this component's cumulative payments.
    pub cap: Option<f64>,
    /// Cap on this component's payment at any one date.
    pub cap_per_date: Option<f64>,
}

impl Component {
    /// Whether it is paid child by child: per counted outcome (`ex_post`)
    /// or per enrolment. Such payments can be capped per child.
    pub fn per_participant(&self) -> bool {
        matches!(self.baseline, Baseline::ExPost | Baseline::Enrolment)
    }

    /// Whether it pays for outcomes (every component but `per_enrolment`).
    pub fn pays_outcomes(&self) -> bool {
        self.baseline != Baseline::Enrolment
    }

    /// Whether it pays per outcome counted child by child (ex post): the
    /// payments deadweight is measured on.
    pub fn pays_per_outcome(&self) -> bool {
        self.baseline == Baseline::ExPost
    }
}

/// What a review does when it triggers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReviewAction {
    /// Waves entering after the review never start.
    StopEnrolment,
    /// The programme, later enrolment and later payment dates stop; the payer
    /// pays `payment_share` of the capital called to date.
    Terminate {
        /// `termination_payment`, in [0, 1].
        payment_share: f64,
    },
}

/// A decision taken at the end of a cycle (`[[contract.reviews]]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// The end of this cycle.
    pub at: usize,
    /// The payment component whose measurement the review reads (the first
    /// one on the review's metric), when it has a `below`.
    pub component: Option<usize>,
    /// Triggers when the measured relative effect is below this.
    pub below: Option<f64>,
    /// ... or anyway with this probability.
    pub probability: f64,
    /// What it does.
    pub action: ReviewAction,
}

/// The contract.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Contract {
    /// How impact is measured, for components that do not say.
    pub measurement: Measurement,
    /// Children in the comparison group, when some component is measured
    /// against one.
    pub control_size: Option<u64>,
    /// Cap on all payments together.
    pub max_total: Option<f64>,
    /// Cap on all components' payments at one date.
    pub cap_per_date: Option<f64>,
    /// Whether overpayments are paid back at a later date.
    pub clawback: bool,
    /// Components in file order.
    pub components: Vec<Component>,
    /// Cycles between an outcome date and its payment.
    pub lag_cycles: usize,
    /// Cap on all per-participant payments for one child.
    pub max_per_child: Option<f64>,
    /// Reviews, in time order.
    pub reviews: Vec<Review>,
}

impl Contract {
    /// Whether some component pays child by child (or `max_per_child` is
    /// set): the per-child sampler is then needed.
    pub fn per_participant(&self) -> bool {
        self.max_per_child.is_some() || self.components.iter().any(Component::per_participant)
    }

    /// Whether a review can terminate it.
    pub fn terminates(&self) -> bool {
        self.reviews
            .iter()
            .any(|r| matches!(r.action, ReviewAction::Terminate { .. }))
    }

    /// Whether it needs each child's history: per-participant payments, or
    /// a termination (re-simulated on the same per-child draws).
    pub fn needs_per_child(&self) -> bool {
        self.per_participant() || self.terminates()
    }
}
