//! `pointbook report`: one self-contained HTML file (no scripts, no network) with SVG charts
//! drawn here from an [`Analysis`] and, optionally, a [`Comparison`].
//!
//! Every chart is an `<svg data-chart="…">` and every series a shape with
//! `data-series="…"` filled or stroked in its own colour from [`PALETTE`], so a test can find
//! each series in the DOM and in a screenshot.

use crate::report::thousands;
use pointbook::analytics::{Analysis, Comparison, PeriodRow};
use std::fmt::Write as _;

/// Series colours, in order; distinct enough to tell apart in a screenshot.
pub const PALETTE: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

const W: f64 = 760.0;
const H: f64 = 300.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

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

/// A "nice" axis maximum (1, 2 or 5 × 10^k) at or above `max`.
fn nice(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * p)
}

/// One named series of values, one per period.
struct Series<'a> {
    name: &'a str,
    values: Vec<f64>,
}

/// How the series are drawn.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Areas stacked on each other.
    Stacked,
    /// Bars side by side in each period.
    Bars,
    /// Lines.
    Lines,
}

/// An SVG chart with axes, ticks, period labels and a legend.
fn chart(id: &str, labels: &[String], series: &[Series<'_>], kind: Kind, unit: &str) -> String {
    let n = labels.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let top = match kind {
        Kind::Stacked => (0..n)
            .map(|i| {
                series
                    .iter()
                    .map(|s| s.values.get(i).copied().unwrap_or(0.0).max(0.0))
                    .sum()
            })
            .fold(0.0, f64::max),
        _ => series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max),
    };
    let top = nice(top);
    let low = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::min);
    let low = if low < 0.0 && kind != Kind::Stacked {
        -nice(-low)
    } else {
        0.0
    };
    let y = |v: f64| TOP + plot_h * (1.0 - (v - low) / (top - low));
    let step = plot_w / n as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg data-chart="{id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">"#
    );
    // Grid and y ticks.
    for k in 0..=4 {
        let v = low + (top - low) * f64::from(k) / 4.0;
        let yy = y(v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            thousands(v.round() as i64)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="12" y="{:.1}" transform="rotate(-90 12 {:.1})" text-anchor="middle" class="tick">{}</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(unit)
    );
    // X labels: about ten.
    let every = n.div_ceil(10).max(1);
    for (i, l) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"#,
            x(i),
            H - BOTTOM + 16.0,
            escape(l)
        );
    }
    match kind {
        Kind::Stacked => {
            let mut base = vec![0.0f64; n];
            for (s, colour) in series.iter().zip(PALETTE.iter().cycle()) {
                let tops: Vec<f64> = (0..n)
                    .map(|i| base[i] + s.values.get(i).copied().unwrap_or(0.0).max(0.0))
                    .collect();
                let mut d = String::new();
                for (i, top) in tops.iter().enumerate() {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if i == 0 { "M" } else { "L" },
                        x(i),
                        y(*top)
                    );
                }
                for i in (0..n).rev() {
                    let _ = write!(d, "L{:.1},{:.1} ", x(i), y(base[i]));
                }
                d.push('Z');
                let _ = write!(
                    svg,
                    r#"<path data-series="{}" d="{}" fill="{colour}" stroke="{colour}" stroke-width="1"/>"#,
                    escape(s.name),
                    d.trim_end()
                );
                base = tops;
            }
        }
        Kind::Bars => {
            let count = series.len().max(1) as f64;
            let bar = (step * 0.8 / count).max(1.0);
            for (k, (s, colour)) in series.iter().zip(PALETTE.iter().cycle()).enumerate() {
                let _ = write!(
                    svg,
                    r#"<g data-series="{}" fill="{colour}">"#,
                    escape(s.name)
                );
                for (i, v) in s.values.iter().enumerate() {
                    let x0 = LEFT + step * i as f64 + step * 0.1 + bar * k as f64;
                    let (y0, y1) = (y(v.max(0.0)), y(v.min(0.0)));
                    let _ = write!(
                        svg,
                        r#"<rect x="{x0:.1}" y="{y0:.1}" width="{bar:.1}" height="{:.1}" shape-rendering="crispEdges"/>"#,
                        (y1 - y0).max(0.0)
                    );
                }
                svg.push_str("</g>");
            }
        }
        Kind::Lines => {
            for (s, colour) in series.iter().zip(PALETTE.iter().cycle()) {
                let mut d = String::new();
                for (i, v) in s.values.iter().enumerate() {
                    let _ = write!(
                        d,
                        "{}{:.1},{:.1} ",
                        if i == 0 { "M" } else { "L" },
                        x(i),
                        y(*v)
                    );
                }
                let _ = write!(
                    svg,
                    r#"<path data-series="{}" d="{}" fill="none" stroke="{colour}" stroke-width="4"/>"#,
                    escape(s.name),
                    d.trim_end()
                );
            }
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}" stroke="#333"/><line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/></svg>"##,
        H - BOTTOM,
        W - RIGHT,
        y(0.0),
        y(0.0)
    );
    let mut legend = String::from(r#"<div class="legend">"#);
    for (s, colour) in series.iter().zip(PALETTE.iter().cycle()) {
        let _ = write!(
            legend,
            r#"<span><i style="background:{colour}"></i>{}</span>"#,
            escape(s.name)
        );
    }
    legend.push_str("</div>");
    format!("<figure>{svg}{legend}</figure>")
}

fn labels(rows: &[PeriodRow]) -> Vec<String> {
    rows.iter().map(|r| r.start.to_string()).collect()
}

fn col(rows: &[PeriodRow], f: impl Fn(&PeriodRow) -> i64) -> Vec<f64> {
    rows.iter().map(|r| f(r) as f64).collect()
}

fn opt(d: Option<rust_decimal::Decimal>) -> String {
    d.map_or_else(|| "–".to_owned(), |d| d.to_string())
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:820px;color:#222}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}\
td,th{border-bottom:1px solid #e4e4e4;padding:3px 10px;text-align:right}td:first-child,th:first-child{text-align:left}\
figure{margin:8px 0}.tick{font-size:11px;fill:#555}.legend span{margin-right:14px}\
.legend i{display:inline-block;width:11px;height:11px;margin-right:5px;vertical-align:-1px}";

/// The report as one HTML document.
pub fn report(a: &Analysis, comparison: Option<(&Analysis, &Comparison)>) -> String {
    let s = &a.summary;
    let rows = &a.periods;
    let l = labels(rows);
    let mut h = String::new();
    let title = format!("{} — loyalty report", a.program);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1>",
        escape(&title),
        escape(&title)
    );
    let as_of = a.as_of.map(|t| t.to_rfc3339()).unwrap_or_default();
    let _ = write!(
        h,
        "<p>As of {} · {} events applied, {} duplicates, {} rejected · currency {} · one point = {}</p>",
        escape(&as_of),
        thousands(a.events.applied as i64),
        thousands(a.events.duplicates as i64),
        thousands(a.events.rejected as i64),
        escape(&a.currency),
        a.point_value
    );
    h.push_str("<h2>Liability</h2><table><tr><th>metric</th><th>value</th></tr>");
    let money = |d: rust_decimal::Decimal| format!("{} {}", escape(&a.currency), d);
    for (k, v) in [
        ("points outstanding", thousands(s.outstanding.total())),
        ("liability", money(s.liability)),
        ("points issued (net)", thousands(s.net_issued)),
        ("cost of points issued", money(s.cost)),
        ("redeemed", thousands(s.flows.redeemed)),
        ("expired", thousands(s.flows.expired)),
        ("forfeited", thousands(s.flows.forfeited)),
        ("redemption rate", opt(s.redemption_rate)),
        ("breakage rate (realised)", opt(s.breakage_rate)),
        ("expected breakage rate", opt(s.expected_breakage_rate)),
        ("expected breakage", money(s.expected_breakage_value)),
        ("deferred revenue", money(s.deferred_revenue)),
    ] {
        let _ = write!(h, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    h.push_str("</table>");
    h.push_str("<h2>Liability over time (points outstanding)</h2>");
    h.push_str(&chart(
        "liability",
        &l,
        &[
            Series {
                name: "available",
                values: col(rows, |r| r.outstanding.available),
            },
            Series {
                name: "pending",
                values: col(rows, |r| r.outstanding.pending),
            },
            Series {
                name: "held",
                values: col(rows, |r| r.outstanding.held),
            },
        ],
        Kind::Stacked,
        "points",
    ));
    h.push_str("<h2>Issued, redeemed and expired per period</h2>");
    h.push_str(&chart(
        "flows",
        &l,
        &[
            Series {
                name: "issued",
                values: col(rows, |r| r.flows.issued),
            },
            Series {
                name: "redeemed",
                values: col(rows, |r| r.flows.redeemed),
            },
            Series {
                name: "expired",
                values: col(rows, |r| r.flows.expired),
            },
        ],
        Kind::Bars,
        "points",
    ));
    h.push_str("<h2>Tier mix</h2>");
    let tiers: Vec<Series<'_>> = a
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| Series {
            name: t,
            values: rows
                .iter()
                .map(|r| r.tier_mix.get(i).copied().unwrap_or(0) as f64)
                .collect(),
        })
        .collect();
    h.push_str(&chart("tiers", &l, &tiers, Kind::Stacked, "members"));
    h.push_str("<h2>Members</h2><table><tr><th>metric</th><th>value</th></tr>");
    for (k, v) in [
        ("members", thousands(s.members as i64)),
        ("purchasers", thousands(s.purchasers as i64)),
        ("purchases", thousands(s.purchases as i64)),
        ("sales", money(s.sales)),
        ("refunds", money(s.refunds)),
        (
            "average order value",
            s.average_order_value.map_or("–".into(), money),
        ),
        ("purchase frequency", opt(s.purchase_frequency)),
        ("repurchase rate", opt(s.repurchase_rate)),
        (
            "average lifetime value",
            s.average_lifetime_value.map_or("–".into(), money),
        ),
        ("at churn risk", thousands(s.at_risk as i64)),
        (
            "retention rate (last period)",
            opt(rows.last().and_then(|r| r.retention_rate)),
        ),
    ] {
        let _ = write!(h, "<tr><td>{k}</td><td>{v}</td></tr>");
    }
    h.push_str("</table><h2>RFM segments</h2><table><tr><th>segment</th><th>members</th></tr>");
    for (seg, count) in &s.segments {
        let _ = write!(
            h,
            "<tr><td>{seg}</td><td>{}</td></tr>",
            thousands(*count as i64)
        );
    }
    h.push_str("</table>");
    if let Some((b, c)) = comparison {
        let _ = write!(
            h,
            "<h2>What if: {} → {}</h2><table><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr>",
            escape(&c.a),
            escape(&c.b)
        );
        for m in &c.metrics {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                m.metric,
                opt(m.a),
                opt(m.b),
                opt(m.delta)
            );
        }
        h.push_str("</table><table><tr><th>tier</th><th>A</th><th>B</th></tr>");
        for t in &c.tier_mix {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&t.tier),
                thousands(t.a as i64),
                thousands(t.b as i64)
            );
        }
        let _ = write!(
            h,
            "</table><p>{} members would end in another tier.</p>",
            thousands(c.members_changing_tier as i64)
        );
        h.push_str("<h3>Points outstanding under A and B</h3>");
        let lb = labels(&b.periods);
        let same = lb == l;
        let series_b = if same {
            col(&b.periods, |r| r.outstanding.total())
        } else {
            Vec::new()
        };
        h.push_str(&chart(
            "compare",
            &l,
            &[
                Series {
                    name: "A",
                    values: col(rows, |r| r.outstanding.total()),
                },
                Series {
                    name: "B",
                    values: series_b,
                },
            ],
            Kind::Lines,
            "points",
        ));
        if !c.most_affected.is_empty() {
            h.push_str("<h3>Members most affected</h3><table><tr><th>member</th><th>points A</th><th>points B</th><th>B − A</th><th>tier A</th><th>tier B</th></tr>");
            for m in &c.most_affected {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(m.member.as_str()),
                    thousands(m.points_a),
                    thousands(m.points_b),
                    thousands(m.delta),
                    escape(&m.tier_a),
                    escape(&m.tier_b)
                );
            }
            h.push_str("</table>");
        }
    }
    h.push_str("<p class=\"tick\">Definitions: docs/analytics.md in the Pointbook repository.</p></body></html>\n");
    h
}
