//! Bonuses (docs/semantics.md §3): signup, first purchase, referral and birthday points.

use crate::calendar::same_day_in_year;
use crate::error::Result;
use crate::ids::EventId;
use crate::instant::Instant;
use crate::ledger::{Credit, Journal};
use crate::member::Member;
use crate::outcome::{BonusKind, Effect, Reason};
use crate::points::Points;
use crate::program::{Program, TierMetric};
use chrono::Datelike;
use rust_decimal::Decimal;

impl Member {
    /// Credits a bonus lot (available at once) with its effect and explanation.
    pub(crate) fn bonus(
        &mut self,
        p: &Program,
        j: &mut Journal,
        at: Instant,
        points: i64,
        kind: BonusKind,
        source: &EventId,
    ) -> Result<()> {
        if points <= 0 {
            return Ok(());
        }
        let credit = Credit {
            points,
            origin: Reason::Bonus,
            source,
            earned_at: at,
            pending: false,
        };
        self.credit(p, j, at.max(self.clock), credit)?;
        j.effects.push(Effect::BonusAwarded {
            member: self.id.clone(),
            bonus: kind,
            points: Points::new(points),
            at,
        });
        // The explanation covers what the event itself credits; a birthday is credited by the
        // clock passing it (catch-up), and its effect is its explanation.
        if kind != BonusKind::Birthday {
            j.explain(
                self,
                "bonus",
                Some(kind.name().to_owned()),
                Decimal::from(points),
            );
        }
        if p.spec().bonuses.qualifying && p.tier_metric() == TierMetric::PointsEarned {
            self.add_metric(p, j, at, Decimal::from(points))?;
            self.upgrade_tier(p, j, at.max(self.clock));
        }
        Ok(())
    }

    pub(crate) fn next_birthday_after(&self, p: &Program, after: Instant) -> Option<Instant> {
        if p.spec().bonuses.birthday <= 0 {
            return None;
        }
        let b = self.birthday?;
        let cal = p.calendar();
        let year = cal.date(after).year();
        (year..=year + 1)
            .map(|y| cal.midnight(same_day_in_year(b, y)))
            .find(|t| *t >= after)
    }
}
