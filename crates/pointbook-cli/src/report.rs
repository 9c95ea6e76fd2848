//! Human-readable output: the demo report and explanation tables.

use pointbook::{Book, Outcome, Program};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::time::Instant as Clock;

/// A readable table of an outcome's explanation: "base 8.25 / pastry-double 3.50 / rounding
/// -0.75 / = 11 points".
pub fn explain_table(o: &Outcome) -> String {
    let mut s = format!("{} {} at {}\n", o.kind, o.event, o.at.to_rfc3339());
    let row = |label: String, value: String| format!("  {label:<32} {value:>12}\n");
    let is_earn = |kind: &str| matches!(kind, "base" | "rule" | "tier" | "rounding");
    let label = |l: &pointbook::ExplanationLine| match &l.name {
        Some(name) if l.kind != "base" && l.kind != "rounding" => format!("{} {name}", l.kind),
        _ => l.kind.to_string(),
    };
    let (earn, other): (Vec<_>, Vec<_>) = o.explanation.iter().partition(|l| is_earn(&l.kind));
    for l in &earn {
        s.push_str(&row(label(l), l.points.to_string()));
    }
    if !earn.is_empty() {
        s.push_str(&row("=".into(), format!("{} points", o.points)));
    }
    for l in &other {
        s.push_str(&row(
            format!("{} ({})", label(l), l.member),
            l.points.to_string(),
        ));
    }
    if let Some(d) = &o.discount {
        s.push_str(&row("discount (money off the order)".into(), d.to_string()));
    }
    for e in &o.effects {
        s.push_str(&format!(
            "  effect: {}\n",
            serde_json::to_string(e).unwrap_or_default()
        ));
    }
    s
}

/// A whole number with thousands separators (`1,234,567`).
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Runs the demo: generate, replay, report.
pub fn demo(
    program: Program,
    members: usize,
    events: usize,
    seed: u64,
    json: bool,
) -> Result<(), String> {
    let config = pointbook_synth::Config {
        members,
        events,
        seed,
        ..Default::default()
    };
    let history = pointbook_synth::generate(&program, &config);
    let mut book = Book::new(program);
    let started = Clock::now();
    let mut rejected: BTreeMap<&'static str, usize> = BTreeMap::new();
    for e in &history {
        if let Err(err) = book.apply(e) {
            *rejected.entry(err.code()).or_default() += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let balances = book.balances();
    let totals = book.totals();
    let p = book.program();
    let spec = p.spec();
    let (mut avail, mut pending, mut held) = (0i64, 0i64, 0i64);
    let mut tiers: BTreeMap<String, usize> = p.levels().iter().map(|l| (l.id.clone(), 0)).collect();
    for b in &balances {
        avail += b.available;
        pending += b.pending;
        held += b.held;
        *tiers.entry(b.tier.clone()).or_default() += 1;
    }
    let outstanding = avail + pending + held;
    let digest = book.digest().map_err(|e| e.to_string())?;
    let liability = Decimal::from(outstanding) * spec.point_value;
    let issued = -totals.issued;
    let first = history
        .first()
        .map(|e| e.at().date_naive().to_string())
        .unwrap_or_default();
    let last = history
        .last()
        .map(|e| e.at().date_naive().to_string())
        .unwrap_or_default();
    let rejected_total: usize = rejected.values().sum();
    if json {
        let report = serde_json::json!({
            "program": spec.name, "currency": spec.currency, "members": balances.len(),
            "events": history.len(), "rejected": rejected, "seconds": secs,
            "issued": issued, "redeemed": totals.redeemed, "expired": totals.expired,
            "forfeited": totals.forfeited, "forgiven": -totals.forgiven,
            "outstanding": {"available": avail, "pending": pending, "held": held, "total": outstanding},
            "liability": liability.round_dp(p.minor_units()).to_string(),
            "tiers": tiers, "digest": digest,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    // What a manager reads first: what the program owes, who the members are, where the
    // points went; how the engine did comes last.
    let pct = |n: i64| {
        if issued > 0 {
            format!("{:.1}%", n as f64 * 100.0 / issued as f64)
        } else {
            "–".to_owned()
        }
    };
    println!(
        "Pointbook demo: {} ({}, {}), a generated history",
        spec.name, spec.currency, spec.time_zone
    );
    println!();
    println!(
        "the program owes  {} {} for {} points outstanding, at {} {} a point",
        spec.currency,
        thousands_money(liability.round_dp(p.minor_units())),
        thousands(outstanding),
        spec.currency,
        spec.point_value
    );
    let mix: Vec<String> = tiers
        .iter()
        .map(|(t, n)| {
            format!(
                "{t} {} ({:.1}%)",
                thousands(*n as i64),
                *n as f64 * 100.0 / balances.len().max(1) as f64
            )
        })
        .collect();
    println!(
        "members           {}: {}",
        thousands(balances.len() as i64),
        mix.join(", ")
    );
    println!(
        "points issued     {}, of which redeemed {} ({}), expired {} ({}: breakage), forfeited {}",
        thousands(issued),
        thousands(totals.redeemed),
        pct(totals.redeemed),
        thousands(totals.expired),
        pct(totals.expired),
        thousands(totals.forfeited)
    );
    println!(
        "points held now   available {} · pending {} (in the return window) · held {} (for rewards being redeemed)"
        ,
        thousands(avail),
        thousands(pending),
        thousands(held)
    );
    println!(
        "                  expired: unspent when their life ended; forfeited: lost when a member \
         closed their account"
    );
    println!();
    println!(
        "history           {first} to {last}: {} events, {} rejected",
        thousands(history.len() as i64),
        thousands(rejected_total as i64)
    );
    if !rejected.is_empty() {
        let r: Vec<String> = rejected.iter().map(|(c, n)| format!("{c} {n}")).collect();
        println!("rejections        {}", r.join(", "));
    }
    println!(
        "replayed in       {:.2} s ({} events/s)",
        secs,
        thousands((history.len() as f64 / secs.max(1e-9)) as i64)
    );
    println!("state digest      {digest}");
    Ok(())
}

/// A decimal with thousands separators: `1,234.50`.
pub(crate) fn thousands_money(d: Decimal) -> String {
    let text = d.abs().to_string();
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole = whole
        .parse::<i64>()
        .map_or_else(|_| whole.to_owned(), thousands);
    let sign = if d.is_sign_negative() && !d.is_zero() {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// A comparison as a readable table.
pub fn comparison_table(c: &pointbook::analytics::Comparison) -> String {
    let opt = |d: Option<Decimal>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    let mut out = format!("what if: {} -> {}\n", c.a, c.b);
    out.push_str(&format!(
        "{:<24} {:>16} {:>16} {:>16}\n",
        "metric", "A", "B", "B - A"
    ));
    for m in &c.metrics {
        out.push_str(&format!(
            "{:<24} {:>16} {:>16} {:>16}\n",
            m.metric,
            opt(m.a),
            opt(m.b),
            opt(m.delta)
        ));
    }
    out.push_str(&format!("\n{:<24} {:>16} {:>16}\n", "tier", "A", "B"));
    for t in &c.tier_mix {
        out.push_str(&format!("{:<24} {:>16} {:>16}\n", t.tier, t.a, t.b));
    }
    out.push_str(&format!(
        "\n{} members would end in another tier\n",
        c.members_changing_tier
    ));
    for m in &c.tier_moves {
        out.push_str(&format!("  {} -> {}: {}\n", m.from, m.to, m.members));
    }
    if !c.most_affected.is_empty() {
        out.push_str("\nmost affected members (points issued, net)\n");
        for m in &c.most_affected {
            out.push_str(&format!(
                "  {:<20} {:>10} -> {:>10} ({:+}) {} -> {}\n",
                m.member.as_str(),
                m.points_a,
                m.points_b,
                m.delta,
                m.tier_a,
                m.tier_b
            ));
        }
    }
    out
}
