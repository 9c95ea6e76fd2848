//! SVG charts for the report: axes at round numbers, period labels, a legend.
//!
//! Every chart is an `<svg data-chart="…">` and every series a shape with
//! `data-series="…"` filled or stroked in its own colour from [`PALETTE`], so a test can find
//! each series in the DOM and in a screenshot.

use super::escape;
use std::fmt::Write as _;

/// Series colours, in order; distinct enough to tell apart in a screenshot.
pub const PALETTE: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

const W: f64 = 760.0;
const H: f64 = 300.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// One series of values, one per period.
pub struct Series {
    /// Stable key (`data-series`), for tests.
    pub id: String,
    /// What the legend says.
    pub label: String,
    /// One value per period.
    pub values: Vec<f64>,
}

impl Series {
    /// A series whose legend says its key.
    pub fn new(id: &str, values: Vec<f64>) -> Series {
        Series::labelled(id, id, values)
    }

    /// A series with its own legend text.
    pub fn labelled(id: &str, label: &str, values: Vec<f64>) -> Series {
        Series {
            id: id.to_owned(),
            label: label.to_owned(),
            values,
        }
    }
}

/// How the series are drawn.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    /// Areas stacked on each other, each outlined in its colour (a series too small to see as
    /// an area still shows as a line on top of the ones below it).
    Stacked,
    /// Bars side by side in each period (negative values below the zero line).
    Bars,
}

/// The value axis: from `low` to `high` in `step`s.
struct Axis {
    low: f64,
    high: f64,
    step: f64,
}

impl Axis {
    /// The smallest axis at multiples of a round step (1, 2, 2.5 or 5 × 10^k) that holds
    /// `low..=high` in at most seven steps: 626,000 gets 0 to 700,000, not 0 to 1,000,000.
    fn around(low: f64, high: f64) -> Axis {
        let (low, high) = (low.min(0.0), high.max(0.0));
        let span = high - low;
        if span <= 0.0 || !span.is_finite() {
            return Axis {
                low: 0.0,
                high: 1.0,
                step: 0.25,
            };
        }
        let raw = span / 7.0;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw * (1.0 - 1e-9))
            .unwrap_or(10.0 * magnitude);
        // Nudged towards zero, so a bound already on a step stays there.
        let low = (low / step + 1e-9).floor() * step;
        let high = (high / step - 1e-9).ceil() * step;
        Axis { low, high, step }
    }

    fn ticks(&self) -> Vec<f64> {
        let n = ((self.high - self.low) / self.step).round() as i64;
        (0..=n).map(|k| self.low + self.step * k as f64).collect()
    }

    /// A tick's text: separators, and decimals only when the step has them.
    fn text(&self, v: f64) -> String {
        if self.step.fract().abs() < 1e-9 {
            super::thousands(v.round() as i64)
        } else {
            format!("{v:.2}")
        }
    }
}

/// An SVG chart with axes, ticks, period labels and a legend; `unit` names the value axis.
pub fn chart(id: &str, labels: &[String], series: &[Series], kind: Kind, unit: &str) -> String {
    let n = labels.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let value = |s: &Series, i: usize| s.values.get(i).copied().unwrap_or(0.0);
    let (low, high) = match kind {
        Kind::Stacked => (
            0.0,
            (0..n)
                .map(|i| series.iter().map(|s| value(s, i).max(0.0)).sum())
                .fold(0.0, f64::max),
        ),
        Kind::Bars => series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold((0.0, 0.0), |(lo, hi), v| (f64::min(lo, v), f64::max(hi, v))),
    };
    let axis = Axis::around(low, high);
    let y = |v: f64| TOP + plot_h * (1.0 - (v - axis.low) / (axis.high - axis.low));
    let step = plot_w / n as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg data-chart="{id}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">"#
    );
    for v in axis.ticks() {
        let yy = y(v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            axis.text(v)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="12" y="{:.1}" transform="rotate(-90 12 {:.1})" text-anchor="middle" class="tick">{}</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0,
        escape(unit)
    );
    // About ten period labels.
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
                let tops: Vec<f64> = (0..n).map(|i| base[i] + value(s, i).max(0.0)).collect();
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
                    r#"<path data-series="{}" d="{}" fill="{colour}" stroke="{colour}" stroke-width="3" stroke-linejoin="round"/>"#,
                    escape(&s.id),
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
                    escape(&s.id)
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
            escape(&s.label)
        );
    }
    legend.push_str("</div>");
    format!("<figure>{svg}{legend}</figure>")
}

#[cfg(test)]
mod tests {
    use super::Axis;

    #[test]
    fn axes_end_at_the_next_round_step_past_the_data() {
        let a = Axis::around(0.0, 626_000.0);
        assert_eq!((a.low, a.high, a.step), (0.0, 700_000.0, 100_000.0));
        let a = Axis::around(0.0, 6_262.26);
        assert_eq!((a.low, a.high, a.step), (0.0, 7_000.0, 1_000.0));
        let a = Axis::around(-1_230.0, 4_100.0);
        assert_eq!((a.low, a.high, a.step), (-2_000.0, 5_000.0, 1_000.0));
        let a = Axis::around(0.0, 0.0);
        assert_eq!((a.low, a.high), (0.0, 1.0));
        let a = Axis::around(0.0, 3.0);
        assert_eq!((a.low, a.high, a.step), (0.0, 3.0, 0.5));
    }
}
