//! The report's definitions, in the manager's words, so the page explains itself without the
//! repository (the formulas are in docs/analytics.md, and these say the same).

use super::escape;
use std::fmt::Write as _;

/// Each term the report uses and what it means.
const TERMS: &[(&str, &str)] = &[
    ("Points outstanding", "Points members hold at a moment: available, pending and held, net of any debt a refund left."),
    ("Available", "Points a member can spend now."),
    ("Pending", "Points from recent purchases, waiting out the return window before they can be spent."),
    ("Held", "Points set aside for a reward the member has started to redeem and not yet confirmed."),
    ("Liability", "Points outstanding × the value of one point: what the program would cost if every point were redeemed."),
    ("Points issued (net)", "Points credited for purchases, bonuses and adjustments, less the points taken back by refunds and negative adjustments."),
    ("Redeemed", "Points members spent on rewards."),
    ("Expired", "Points that reached the end of their life unspent (breakage)."),
    ("Forfeited", "Points lost when an account was closed at the member's request (erasure): not spent and not expired, so counted apart."),
    ("Redemption rate", "Points redeemed ÷ points issued (net)."),
    ("Breakage rate (realised)", "Points expired ÷ points issued (net), so far."),
    ("Breakage rate (expected)", "Of the points whose fate is settled, the share that expired: expired ÷ (redeemed + expired). Applied to the points outstanding, it estimates what will never be redeemed."),
    ("Expected breakage", "The points available or pending today × the expected breakage rate, in money (held points are assumed to be redeemed)."),
    ("Deferred revenue", "Liability less expected breakage: the part of the liability the program expects to honour."),
    ("Average order value", "Sales ÷ purchases."),
    ("Lifetime value", "What a member has spent, less refunds, so far; the average is over members who bought."),
    ("Retention", "Members active at the end of a period, less those who enrolled during it, ÷ members active at its start (active: a purchase in the last 90 days, by default)."),
    ("Segments", "Members who bought, scored 1–5 on how recently and how often they bought: champions, loyal, new or promising, at risk, hibernating, needs attention."),
    ("Periods", "Calendar weeks, months, quarters or years in the program's time zone; each chart shows the state at the end of each period."),
];

/// The definitions as an HTML section.
pub fn html() -> String {
    let mut h = String::from("<h2>Definitions</h2><dl>");
    for (term, meaning) in TERMS {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", escape(term), escape(meaning));
    }
    h.push_str("</dl>");
    h
}
