//! Deterministic, realistic synthetic histories for a Pointbook program: enrollments (with
//! birthdays and referrals), purchases of 1–6 lines, refunds (~3%), redemptions (some as
//! holds, confirmed, cancelled or left to lapse), transfers, goodwill adjustments, erasures
//! and monthly clock ticks, over a multi-year span so that maturation, expiry and tier windows
//! all happen. The same [`Config`] always gives the same events.
//!
//! ```
//! let program = pointbook::Program::from_toml(pointbook::samples::BEAN_AND_LEAF).unwrap();
//! let config = pointbook_synth::Config { members: 20, events: 400, seed: 7, ..Default::default() };
//! let a = pointbook_synth::generate(&program, &config);
//! assert_eq!(a, pointbook_synth::generate(&program, &config));
//! assert!((380..=420).contains(&a.len()), "{}", a.len());
//! ```

use chrono::{DateTime, Duration, TimeZone, Utc};
use pointbook::event::{
    Adjust, Advance, Enroll, Event, Forget, Line, Purchase, Redeem, Refund, RefundLine, Reverse,
    Settle, Transfer,
};
use pointbook::program::RewardKind;
use pointbook::{EventId, MemberId, Program};
use rust_decimal::Decimal;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Members enrolled.
    pub members: usize,
    /// Approximate number of events (enrollments and ticks included).
    pub events: usize,
    /// Seed of the deterministic random source.
    pub seed: u64,
    /// First instant of the history.
    pub start: DateTime<Utc>,
    /// Days the history spans.
    pub days: u32,
    /// Emit an `advance` at the start of every month (UTC).
    pub monthly_ticks: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            members: 1_000,
            events: 20_000,
            seed: 1,
            start: Utc
                .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                .single()
                .unwrap_or_default(),
            days: 730,
            monthly_ticks: true,
        }
    }
}

/// SplitMix64: a tiny, well-known, platform-independent generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// The catalog: (sku, category, price in minor units of a 2-decimal currency, weight).
const CATALOG: &[(&str, &str, i64, u64)] = &[
    ("LATTE", "coffee", 475, 30),
    ("ESPRESSO", "coffee", 325, 12),
    ("CAPPUCCINO", "coffee", 450, 18),
    ("CHAI", "tea", 425, 8),
    ("GREEN-TEA", "tea", 375, 6),
    ("CROISSANT", "pastry", 350, 14),
    ("MUFFIN", "pastry", 325, 8),
    ("SCONE", "pastry", 300, 5),
    ("SANDWICH", "food", 895, 9),
    ("SALAD", "food", 950, 5),
    ("BEANS-1KG", "merch", 2450, 2),
    ("MUG", "merch", 1400, 1),
    ("GIFT25", "gift_card", 2500, 1),
];

/// Events per purchase, refunds and redemptions included (measured on the default config).
const PURCHASE_EVENT_RATIO: f64 = 1.08;

struct Sim {
    id: MemberId,
    enrolled: DateTime<Utc>,
    /// Purchases and their times, for refunds.
    purchases: Vec<(EventId, DateTime<Utc>, Vec<Line>)>,
    /// Rough points estimate: floored spend, after the return window; in time order.
    earned: Vec<(DateTime<Utc>, i64)>,
    /// Sums of `earned` before each entry (one more than `earned`), so that a busy member's
    /// estimate is two binary searches and not a pass over all it earned.
    earned_before: Vec<i64>,
    spent: i64,
}

impl Sim {
    /// Points earned at `t` (after the return window, before expiry), less those spent.
    fn points_at(&self, t: DateTime<Utc>) -> i64 {
        let from = self
            .earned
            .partition_point(|(at, _)| *at + Duration::days(360) <= t);
        let to = self
            .earned
            .partition_point(|(at, _)| *at + Duration::days(16) <= t);
        let sum = |i: usize| self.earned_before.get(i).copied().unwrap_or(0);
        let matured = if to > from { sum(to) - sum(from) } else { 0 };
        matured - self.spent
    }

    fn earn(&mut self, at: DateTime<Utc>, points: i64) {
        let before = self.earned_before.last().copied().unwrap_or(0);
        if self.earned_before.is_empty() {
            self.earned_before.push(0);
        }
        self.earned.push((at, points));
        self.earned_before.push(before + points);
    }

    /// The last purchase was refunded: it earns nothing.
    fn void_last(&mut self) {
        if let (Some(e), Some(sum)) = (self.earned.last_mut(), self.earned_before.last_mut()) {
            *sum -= e.1;
            e.1 = 0;
        }
    }
}

fn amount(minor_units_price: i64, qty: u32, minor: u32) -> Decimal {
    let d = Decimal::new(minor_units_price * i64::from(qty), 2);
    d.round_dp(minor)
}

/// A points payment's step, rate and largest share of the order.
type Payment = (i64, Decimal, Decimal);

/// Generates a history for `program`, sorted by instant (ties in generation order).
pub fn generate(program: &Program, config: &Config) -> Vec<Event> {
    let mut rng = Rng::new(config.seed);
    let minor = program.minor_units();
    let span = Duration::days(i64::from(config.days.max(1)));
    let end = config.start + span;
    // Rewards any member may redeem, with their cost; a points payment (docs/semantics.md §13)
    // with its step, rate and share instead.
    let rewards: Vec<(String, i64, Option<Payment>)> = program
        .spec()
        .rewards
        .iter()
        .filter(|r| r.min_tier.is_none())
        .map(|r| {
            let payment = match &r.kind {
                RewardKind::PointsPayment {
                    rate,
                    step,
                    max_share,
                } => Some((*step, *rate, *max_share)),
                _ => None,
            };
            (r.id.clone(), r.cost, payment)
        })
        .collect();
    let mut out: Vec<(DateTime<Utc>, u64, Event)> = Vec::new();
    let mut seq = 0u64;
    let mut push = |out: &mut Vec<(DateTime<Utc>, u64, Event)>, e: Event| {
        out.push((e.at(), seq, e));
        seq += 1;
    };
    let n = config.members.max(1);
    let per_member = config.events.saturating_sub(n) as f64 / n as f64;
    let secs = |rng: &mut Rng, days: i64| {
        Duration::seconds(rng.below((days.max(1) * 86_400) as u64) as i64)
    };
    let mut sims: Vec<Sim> = Vec::with_capacity(n);
    for i in 0..n {
        let id = MemberId::new(format!("m{:06}", i + 1));
        let enrolled = config.start + secs(&mut rng, span.num_days() / 2);
        let birthday = rng
            .chance(0.6)
            .then(|| {
                chrono::NaiveDate::from_ymd_opt(
                    1950 + rng.below(55) as i32,
                    1 + rng.below(12) as u32,
                    1 + rng.below(28) as u32,
                )
            })
            .flatten();
        let referred_by = (i > 10 && rng.chance(0.1))
            .then(|| sims.get(rng.below(i as u64) as usize))
            .flatten()
            .filter(|s| s.enrolled < enrolled)
            .map(|s| s.id.clone());
        push(
            &mut out,
            Event::Enroll(Enroll {
                id: EventId::new(format!("e-{id}")),
                member: id.clone(),
                at: enrolled,
                birthday,
                referred_by,
                attributes: Default::default(),
            }),
        );
        sims.push(Sim {
            id,
            enrolled,
            purchases: Vec::new(),
            earned: Vec::new(),
            earned_before: Vec::new(),
            spent: 0,
        });
    }
    // Skewed activity: a few heavy members, many light ones; normalised so the total is
    // close to what was asked (purchases bring ~12% more events: refunds, redemptions).
    let weights: Vec<f64> = (0..n).map(|_| -(1.0 - rng.unit()).ln()).collect();
    let weight_sum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let ticks = if config.monthly_ticks {
        f64::from(config.days) / 30.4
    } else {
        0.0
    };
    let purchases = ((per_member * n as f64) - ticks).max(0.0) / PURCHASE_EVENT_RATIO;
    let mut carry = 0.0;
    for (i, sim) in sims.iter_mut().enumerate() {
        let exact = purchases * weights[i] / weight_sum + carry;
        let count = exact.round().max(0.0) as usize;
        carry = exact - count as f64;
        let active_days = (end - sim.enrolled).num_days().max(1);
        let mut times: Vec<DateTime<Utc>> = (0..count)
            .map(|_| sim.enrolled + Duration::minutes(5) + secs(&mut rng, active_days))
            .collect();
        times.retain(|t| *t < end);
        times.sort();
        let mut p = 0usize;
        for t in times {
            p += 1;
            let lines_n = 1 + rng.below(6).min(rng.below(6)) as usize;
            let mut lines = Vec::with_capacity(lines_n);
            for _ in 0..lines_n {
                let total: u64 = CATALOG.iter().map(|c| c.3).sum();
                let mut pick = rng.below(total);
                let item = CATALOG
                    .iter()
                    .find(|c| {
                        if pick < c.3 {
                            true
                        } else {
                            pick -= c.3;
                            false
                        }
                    })
                    .unwrap_or(&CATALOG[0]);
                let qty = if rng.chance(0.15) { 2 } else { 1 };
                lines.push(Line {
                    sku: item.0.to_owned(),
                    category: item.1.to_owned(),
                    amount: amount(item.2, qty, minor),
                    quantity: qty,
                });
            }
            let id = EventId::new(format!("p-{}-{p}", sim.id));
            let spend: Decimal = lines
                .iter()
                .filter(|l| l.category != "gift_card")
                .map(|l| l.amount)
                .sum();
            sim.earn(
                t,
                spend.trunc().mantissa() as i64 / 10i64.pow(spend.trunc().scale()),
            );
            push(
                &mut out,
                Event::Purchase(Purchase {
                    id: id.clone(),
                    member: sim.id.clone(),
                    at: t,
                    channel: Some(if rng.chance(0.7) { "store" } else { "app" }.to_owned()),
                    lines: lines.clone(),
                }),
            );
            sim.purchases.push((id.clone(), t, lines.clone()));
            if rng.chance(0.03) {
                let line = &lines[rng.below(lines.len() as u64) as usize];
                let at = t + Duration::hours(1 + rng.below(24 * 10) as i64);
                if at < end {
                    push(
                        &mut out,
                        Event::Refund(Refund {
                            id: EventId::new(format!("r-{id}")),
                            member: sim.id.clone(),
                            at,
                            purchase: id.clone(),
                            lines: vec![RefundLine {
                                sku: line.sku.clone(),
                                amount: None,
                                quantity: None,
                            }],
                        }),
                    );
                    sim.void_last();
                }
            }
            // Redeem when the member can (by a rough estimate), sometimes as a hold.
            if !rewards.is_empty() && rng.chance(0.35) {
                let (reward, cost, payment) = &rewards[rng.below(rewards.len() as u64) as usize];
                let at = t + Duration::minutes(1);
                if let Some((step, rate, share)) = payment {
                    // Points pay for this purchase: as much of what the member has as the share
                    // allows, in steps. A refund of the purchase (above) gives a share back.
                    let total: Decimal = lines.iter().map(|l| l.amount).sum();
                    let most = (total * share / rate).floor();
                    let most =
                        i64::try_from(most.mantissa() / 10i128.pow(most.scale())).unwrap_or(0);
                    let points = (sim.points_at(at) - 30).min(most) / step * step;
                    if points > 0 && at < end {
                        push(
                            &mut out,
                            Event::Redeem(Redeem {
                                id: EventId::new(format!("x-{}-{p}", sim.id)),
                                member: sim.id.clone(),
                                at,
                                reward: reward.clone(),
                                hold: false,
                                points: Some(points),
                                order_total: Some(total),
                                lines: Vec::new(),
                                quantity: None,
                                purchase: Some(id.clone()),
                            }),
                        );
                        sim.spent += points;
                        // Now and then the till voids the payment (the customer paid otherwise).
                        if rng.chance(0.05) {
                            push(
                                &mut out,
                                Event::Reverse(Reverse {
                                    id: EventId::new(format!("v-{}-{p}", sim.id)),
                                    member: sim.id.clone(),
                                    at: at + Duration::minutes(3),
                                    redemption: EventId::new(format!("x-{}-{p}", sim.id)),
                                    points: None,
                                }),
                            );
                            sim.spent -= points;
                        }
                    }
                } else if sim.points_at(at) >= cost + 30 && at < end {
                    let rid = EventId::new(format!("x-{}-{p}", sim.id));
                    let hold = rng.chance(0.3);
                    push(
                        &mut out,
                        Event::Redeem(Redeem {
                            id: rid.clone(),
                            member: sim.id.clone(),
                            at,
                            reward: reward.clone(),
                            hold,
                            points: None,
                            order_total: None,
                            lines: Vec::new(),
                            quantity: None,
                            purchase: None,
                        }),
                    );
                    sim.spent += cost;
                    if hold {
                        let roll = rng.unit();
                        let settle = Settle {
                            id: EventId::new(format!("{rid}-s")),
                            member: sim.id.clone(),
                            at: at + Duration::minutes(2),
                            redemption: rid.clone(),
                        };
                        if roll < 0.8 {
                            push(&mut out, Event::Confirm(settle));
                        } else if roll < 0.9 {
                            push(&mut out, Event::Cancel(settle));
                            sim.spent -= cost;
                        } else {
                            sim.spent -= cost;
                        }
                    }
                }
            }
        }
        if rng.chance(0.01) {
            let at = sim.enrolled + secs(&mut rng, active_days);
            push(
                &mut out,
                Event::Adjust(Adjust {
                    id: EventId::new(format!("a-{}", sim.id)),
                    member: sim.id.clone(),
                    at,
                    points: 10 + rng.below(41) as i64,
                    reason: "goodwill".to_owned(),
                    allow_negative: false,
                }),
            );
        }
        if program.spec().transfers.allowed && i > 0 && rng.chance(0.02) {
            let at = end - Duration::days(30) + secs(&mut rng, 20);
            let give = (sim.points_at(at) / 2).min(100);
            if give > 0 {
                sim.spent += give;
                let to = MemberId::new(format!("m{:06}", rng.below(i as u64) + 1));
                push(
                    &mut out,
                    Event::Transfer(Transfer {
                        id: EventId::new(format!("t-{}", sim.id)),
                        member: sim.id.clone(),
                        to,
                        at,
                        points: give,
                    }),
                );
            }
        }
        if rng.chance(0.002) {
            push(
                &mut out,
                Event::Forget(Forget {
                    id: EventId::new(format!("f-{}", sim.id)),
                    member: sim.id.clone(),
                    at: end - Duration::days(1),
                }),
            );
        }
    }
    if config.monthly_ticks {
        let mut t = config.start;
        while t <= end {
            use chrono::Datelike;
            let next = if t.month() == 12 {
                Utc.with_ymd_and_hms(t.year() + 1, 1, 1, 0, 0, 0)
            } else {
                Utc.with_ymd_and_hms(t.year(), t.month() + 1, 1, 0, 0, 0)
            };
            let Some(next) = next.single() else { break };
            if next > end {
                break;
            }
            push(
                &mut out,
                Event::Advance(Advance {
                    id: EventId::new(format!("tick-{}", next.format("%Y-%m"))),
                    at: next,
                }),
            );
            t = next;
        }
    }
    // Forgotten members do nothing afterwards: drop their later events.
    let forgotten: std::collections::BTreeMap<MemberId, DateTime<Utc>> = out
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Forget(f) => Some((f.member.clone(), f.at)),
            _ => None,
        })
        .collect();
    out.retain(|(at, _, e)| {
        let touches = |m: &MemberId| forgotten.get(m).is_some_and(|f| at > f);
        match e {
            Event::Transfer(t) => !touches(&t.member) && !touches(&t.to),
            e => !e.member().is_some_and(touches),
        }
    });
    out.sort_by_key(|a| (a.0, a.1));
    out.into_iter().map(|(_, _, e)| e).collect()
}

/// The events as JSON Lines.
pub fn to_jsonl(events: &[Event]) -> String {
    let mut s = String::with_capacity(events.len() * 160);
    for e in events {
        s.push_str(&e.to_json());
        s.push('\n');
    }
    s
}
