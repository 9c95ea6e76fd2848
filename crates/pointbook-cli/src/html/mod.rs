//! `pointbook report`: one self-contained HTML file (no scripts, no network) for a loyalty
//! manager: money first, every number formatted (separators, currency, percentages, local
//! dates), a sentence under each table saying what it means, and the definitions inside the
//! page. Charts are drawn in [`chart`].

mod chart;
mod glossary;

use crate::report::{thousands, thousands_money};
use chart::{chart, Kind, Series};
use pointbook::analytics::{Analysis, Comparison, MetricRow, PeriodRow, Unit};
use pointbook::Program;
use rust_decimal::Decimal;
use std::fmt::Write as _;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How the report writes numbers: money in the program's currency, with separators.
struct Format {
    currency: String,
    minor: u32,
}

impl Format {
    /// `USD 1,234.50`.
    fn money(&self, d: Decimal) -> String {
        let mut d = d.round_dp(self.minor);
        d.rescale(self.minor);
        let sign = if d.is_sign_negative() && !d.is_zero() {
            "−"
        } else {
            ""
        };
        format!("{sign}{} {}", self.currency, thousands_money(d.abs()))
    }

    /// A metric's value as its unit reads: `1,234`, `USD 12.34`, `24.0%`; `–` when absent.
    fn value(&self, unit: Unit, d: Option<Decimal>) -> String {
        let Some(d) = d else {
            return "–".to_owned();
        };
        match unit {
            Unit::Money => self.money(d),
            Unit::Rate => percent(d),
            Unit::Points | Unit::Events => whole(d),
        }
    }

    /// A difference, signed: `+1,234`, `−USD 5.00`, `+2.1 pts` for rates.
    fn delta(&self, unit: Unit, d: Option<Decimal>) -> String {
        let Some(d) = d else {
            return "–".to_owned();
        };
        let plus = if d.is_sign_positive() && !d.is_zero() {
            "+"
        } else {
            ""
        };
        match unit {
            Unit::Rate => {
                let points = (d * Decimal::ONE_HUNDRED).round_dp(1);
                format!("{plus}{} pts", points.to_string().replace('-', "−"))
            }
            _ => format!("{plus}{}", self.value(unit, Some(d)).replace('-', "−")),
        }
    }
}

/// `0.2399` as `24.0%`.
fn percent(d: Decimal) -> String {
    format!("{:.1}%", (d * Decimal::ONE_HUNDRED).round_dp(1))
}

/// A whole number with separators (fractions, which counts do not have, are kept).
fn whole(d: Decimal) -> String {
    if d.fract().is_zero() {
        i64::try_from(d).map_or_else(|_| d.to_string(), thousands)
    } else {
        d.to_string()
    }
}

fn opt_percent(d: Option<Decimal>) -> String {
    d.map_or_else(|| "–".to_owned(), percent)
}

fn labels(rows: &[PeriodRow]) -> Vec<String> {
    rows.iter().map(|r| r.label.clone()).collect()
}

fn col(rows: &[PeriodRow], f: impl Fn(&PeriodRow) -> f64) -> Vec<f64> {
    rows.iter().map(f).collect()
}

/// Money as a chart value (drawing needs no more precision than a pixel).
fn float(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// What each headline metric is called in the report.
fn metric_name(metric: &str) -> &str {
    match metric {
        "points_issued" => "Points issued (net of reversals)",
        "cost" => "Cost of the points issued",
        "points_redeemed" => "Points redeemed",
        "points_expired" => "Points expired",
        "points_outstanding" => "Points outstanding",
        "liability" => "Liability",
        "redemption_rate" => "Redemption rate",
        "breakage_rate" => "Breakage rate (realised)",
        "expected_breakage_value" => "Expected breakage",
        "deferred_revenue" => "Deferred revenue",
        "discounts" => "Discounts given by rewards",
        "rejected_events" => "Events rejected",
        other => other,
    }
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:820px;color:#222}\
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:30px}h3{font-size:15px}\
table{border-collapse:collapse;margin:8px 0}\
td,th{border-bottom:1px solid #e4e4e4;padding:3px 10px;text-align:right}td:first-child,th:first-child{text-align:left}\
.lead{color:#555;margin-top:0}.note{color:#444;max-width:760px}.headline{font-size:16px}\
figure{margin:8px 0}.tick{font-size:11px;fill:#555}.legend span{margin-right:14px}\
.legend i{display:inline-block;width:11px;height:11px;margin-right:5px;vertical-align:-1px}\
dt{font-weight:600;margin-top:8px}dd{margin-left:18px}";

/// A two-column table of (label, value) rows.
fn table(h: &mut String, rows: &[(&str, String)]) {
    h.push_str("<table>");
    for (k, v) in rows {
        let _ = write!(h, "<tr><td>{}</td><td>{v}</td></tr>", escape(k));
    }
    h.push_str("</table>");
}

fn note(h: &mut String, text: &str) {
    let _ = write!(h, "<p class=\"note\">{text}</p>");
}

/// The report as one HTML document. `program` is A's (its calendar dates the report).
pub fn report(
    program: &Program,
    a: &Analysis,
    comparison: Option<(&Analysis, &Comparison)>,
) -> String {
    let f = Format {
        currency: a.currency.clone(),
        minor: pointbook::money::minor_units(&a.currency),
    };
    let s = &a.summary;
    let rows = &a.periods;
    let l = labels(rows);
    let point_value = float(a.point_value);
    let mut h = String::new();
    let title = format!("{} — loyalty report", a.program);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>",
        escape(&title),
        escape(&title)
    );
    let as_of = a.as_of.map_or_else(String::new, |t| {
        let date = program.calendar().date(t);
        format!(
            "As of {} ({}) · ",
            date.format("%-d %B %Y"),
            escape(&program.spec().time_zone)
        )
    });
    let _ = write!(
        h,
        "<p class=\"lead\">{as_of}{} members · one point is worth {} · {} events, {} rejected</p>",
        thousands(s.members as i64),
        f.money(a.point_value),
        thousands(a.events.applied as i64),
        thousands(a.events.rejected as i64),
    );

    // What the program owes, first.
    let _ = write!(
        h,
        "<h2>What the program owes</h2><p class=\"headline\">Members hold <b>{}</b> points, worth <b>{}</b> if all were redeemed.</p>",
        thousands(s.outstanding.total()),
        f.money(s.liability)
    );
    table(
        &mut h,
        &[
            (
                "Liability (points outstanding × point value)",
                f.money(s.liability),
            ),
            (
                "Expected breakage (points expected never to be redeemed)",
                f.money(s.expected_breakage_value),
            ),
            (
                "Deferred revenue (liability less expected breakage)",
                f.money(s.deferred_revenue),
            ),
            ("Cost of all points issued (net)", f.money(s.cost)),
            ("Points issued (net)", thousands(s.net_issued)),
            ("Points redeemed", thousands(s.flows.redeemed)),
            ("Points expired", thousands(s.flows.expired)),
            (
                "Points forfeited (accounts closed)",
                thousands(s.flows.forfeited),
            ),
            (
                "Redemption rate (redeemed ÷ issued)",
                opt_percent(s.redemption_rate),
            ),
            (
                "Breakage rate, realised (expired ÷ issued)",
                opt_percent(s.breakage_rate),
            ),
            (
                "Breakage rate, expected (expired ÷ (redeemed + expired))",
                opt_percent(s.expected_breakage_rate),
            ),
        ],
    );
    note(
        &mut h,
        "The two breakage rates answer different questions. <b>Realised</b> breakage divides the \
         points that have expired by every point issued, including the points still open, so it \
         is low while a program is young. <b>Expected</b> breakage looks only at points whose \
         fate is settled (redeemed or expired) and applies that share to the points open today: \
         it is the estimate of the liability that will never be claimed, and what deferred \
         revenue subtracts.",
    );
    h.push_str("<h2>Liability over time</h2>");
    let money_of = |points: i64| points as f64 * point_value;
    h.push_str(&chart(
        "liability",
        &l,
        &[
            Series::labelled(
                "available",
                "available to spend",
                col(rows, |r| money_of(r.outstanding.available)),
            ),
            Series::labelled(
                "pending",
                "pending (in the return window)",
                col(rows, |r| money_of(r.outstanding.pending)),
            ),
            Series::labelled(
                "held",
                "held for a reward",
                col(rows, |r| money_of(r.outstanding.held)),
            ),
        ],
        Kind::Stacked,
        &a.currency,
    ));
    note(
        &mut h,
        "What the points outstanding at the end of each period would cost if redeemed, by the \
         state of the points. The same in points:",
    );
    h.push_str(&chart(
        "points",
        &l,
        &[
            Series::new("available", col(rows, |r| r.outstanding.available as f64)),
            Series::new("pending", col(rows, |r| r.outstanding.pending as f64)),
            Series::new("held", col(rows, |r| r.outstanding.held as f64)),
        ],
        Kind::Stacked,
        "points",
    ));
    h.push_str("<h2>Points issued, redeemed and expired per period</h2>");
    h.push_str(&chart(
        "flows",
        &l,
        &[
            Series::new("issued", col(rows, |r| r.flows.issued as f64)),
            Series::new("redeemed", col(rows, |r| r.flows.redeemed as f64)),
            Series::new("expired", col(rows, |r| r.flows.expired as f64)),
        ],
        Kind::Bars,
        "points",
    ));
    h.push_str("<h2>Members per tier</h2>");
    let tiers: Vec<Series> = a
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| {
            Series::new(
                t,
                col(rows, |r| r.tier_mix.get(i).copied().unwrap_or(0) as f64),
            )
        })
        .collect();
    h.push_str(&chart("tiers", &l, &tiers, Kind::Stacked, "members"));
    note(&mut h, "Members in each tier at the end of each period.");

    h.push_str("<h2>Members and sales</h2>");
    let money_opt = |d: Option<Decimal>| d.map_or_else(|| "–".to_owned(), |d| f.money(d));
    table(
        &mut h,
        &[
            ("Members", thousands(s.members as i64)),
            ("Members who bought", thousands(s.purchasers as i64)),
            ("Purchases", thousands(s.purchases as i64)),
            ("Sales", f.money(s.sales)),
            ("Refunds", f.money(s.refunds)),
            ("Discounts given by rewards", f.money(s.discounts)),
            ("Average order value", money_opt(s.average_order_value)),
            (
                "Purchases per member who bought",
                s.purchase_frequency
                    .map_or_else(|| "–".to_owned(), |d| d.round_dp(1).to_string()),
            ),
            ("Members who bought again", opt_percent(s.repurchase_rate)),
            (
                "Average lifetime value (sales less refunds)",
                money_opt(s.average_lifetime_value),
            ),
            ("Members at risk of churning", thousands(s.at_risk as i64)),
            (
                "Retention in the last period",
                opt_percent(rows.last().and_then(|r| r.retention_rate)),
            ),
        ],
    );
    note(
        &mut h,
        "A member is at risk of churning when the days since their last purchase exceed what 90% \
         of their own gaps between purchases were (by default; members with at least three \
         purchases).",
    );
    h.push_str("<h3>Segments (recency and frequency of purchases)</h3><table><tr><th>segment</th><th>members</th></tr>");
    for (segment, count) in &s.segments {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&segment.replace('_', " ")),
            thousands(*count as i64)
        );
    }
    h.push_str("</table>");
    if let Some((b, c)) = comparison {
        what_if(&mut h, &f, a, b, c);
    }
    h.push_str(&glossary::html());
    h.push_str("</body></html>\n");
    h
}

/// The what-if section: B against A, the difference first.
fn what_if(h: &mut String, f: &Format, a: &Analysis, b: &Analysis, c: &Comparison) {
    let (na, nb) = (escape(&c.a), escape(&c.b));
    let _ = write!(
        h,
        "<h2>What if: {nb} instead of {na}</h2><p class=\"lead\">The same history replayed under both programs.</p>"
    );
    let liability = c.metrics.iter().find(|m| m.metric == "liability");
    if let Some(MetricRow { delta: Some(d), .. }) = liability {
        let _ = write!(
            h,
            "<p class=\"headline\">Under {nb} the liability would be <b>{} {}</b> than under {na}, and <b>{}</b> members would end in another tier.</p>",
            f.money(d.abs()),
            if d.is_sign_negative() { "lower" } else { "higher" },
            thousands(c.members_changing_tier as i64)
        );
    }
    let _ = write!(
        h,
        "<table><tr><th>metric</th><th>{na}</th><th>{nb}</th><th>difference</th></tr>"
    );
    for m in &c.metrics {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(metric_name(m.metric)),
            f.value(m.unit, m.a),
            f.value(m.unit, m.b),
            f.delta(m.unit, m.delta)
        );
    }
    h.push_str("</table>");
    note(
        h,
        "Difference is the second program less the first; for rates it is in percentage points.",
    );
    // The difference over time: two near-equal lines hide it, bars show it.
    if labels(&b.periods) == labels(&a.periods) {
        let diff: Vec<f64> = a
            .periods
            .iter()
            .zip(&b.periods)
            .map(|(x, y)| float(y.liability - x.liability))
            .collect();
        let _ = write!(
            h,
            "<h3>Liability: {nb} less {na}, at the end of each period</h3>"
        );
        h.push_str(&chart(
            "compare",
            &labels(&a.periods),
            &[Series::labelled(
                "difference",
                &format!("{} − {}", c.b, c.a),
                diff,
            )],
            Kind::Bars,
            &a.currency,
        ));
    }
    let _ = write!(
        h,
        "<h3>Members per tier at the end</h3><table><tr><th>tier</th><th>{na}</th><th>{nb}</th><th>difference</th></tr>"
    );
    for t in &c.tier_mix {
        let d = t.b as i64 - t.a as i64;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            escape(&t.tier),
            thousands(t.a as i64),
            thousands(t.b as i64),
            if d > 0 { "+" } else { "" },
            thousands(d).replace('-', "−")
        );
    }
    h.push_str("</table>");
    if !c.tier_moves.is_empty() {
        h.push_str("<table><tr><th>tier moves</th><th>members</th></tr>");
        for m in &c.tier_moves {
            let _ = write!(
                h,
                "<tr><td>{} → {}</td><td>{}</td></tr>",
                escape(&m.from),
                escape(&m.to),
                thousands(m.members as i64)
            );
        }
        h.push_str("</table>");
    }
    if !c.most_affected.is_empty() {
        let _ = write!(
            h,
            "<h3>Members most affected</h3><table><tr><th>member</th><th>tier under {na}</th><th>tier under {nb}</th><th>points under {na}</th><th>points under {nb}</th><th>difference</th></tr>"
        );
        for m in &c.most_affected {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
                escape(m.member.as_str()),
                escape(&m.tier_a),
                escape(&m.tier_b),
                thousands(m.points_a),
                thousands(m.points_b),
                if m.delta > 0 { "+" } else { "" },
                thousands(m.delta).replace('-', "−")
            );
        }
        h.push_str("</table>");
        note(
            h,
            "Members who would end in another tier come first, then those whose points issued \
             differ most. Points are the points issued to the member, net of reversals.",
        );
    }
}
