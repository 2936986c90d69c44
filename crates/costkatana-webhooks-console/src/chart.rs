//! Line charts as inline SVG, drawn on the server: no script, no image
//! request, nothing a CSP has to allow. Colours come from the console's
//! stylesheet through each series' class.

use std::fmt::Write;

use maud::{html, Markup};

use crate::text::utc;

/// The drawing's size in SVG units; it scales to the page's width.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
/// The plot area inside it: room for the axis labels on the left and below.
const LEFT: f64 = 52.0;
const RIGHT: f64 = 712.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 172.0;

/// One line: a value per step, `None` where there is nothing to draw (a
/// minute with no attempt has no duration).
pub(crate) struct Series {
    pub(crate) name: &'static str,
    /// The stylesheet class that colours it (`s-handled`, `s-p99`, …).
    pub(crate) class: &'static str,
    pub(crate) values: Vec<Option<f64>>,
}

/// A chart of `series` over steps of `step_ms` from `start_ms`, its values
/// in `unit` (shown on the axis), with an accessible `title`.
pub(crate) fn line_chart(
    title: &str,
    unit: &str,
    start_ms: i64,
    step_ms: i64,
    series: &[Series],
) -> Markup {
    let steps = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let top = nice_ceiling(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0_f64, |a, b| a.max(*b)),
    );
    let x = |i: usize| LEFT + (RIGHT - LEFT) * i as f64 / (steps.max(2) - 1) as f64;
    let y = |v: f64| BOTTOM - (BOTTOM - TOP) * v / top;
    let span_ms = step_ms * steps as i64;
    html! {
        figure.chart {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(title)
                preserveAspectRatio="none" {
                title { (title) }
                @for i in 0..=4 {
                    @let value = top * f64::from(i) / 4.0;
                    line.grid x1=(LEFT) x2=(RIGHT) y1=(y(value)) y2=(y(value)) {}
                    text.axis x=(LEFT - 6.0) y=(y(value) + 4.0) text-anchor="end" {
                        (label(value, unit))
                    }
                }
                @for i in 0..=4_i64 {
                    @let at = start_ms + span_ms * i / 4;
                    @let px = LEFT + (RIGHT - LEFT) * i as f64 / 4.0;
                    line.tick x1=(px) x2=(px) y1=(BOTTOM) y2=(BOTTOM + 4.0) {}
                    text.axis x=(px) y=(HEIGHT - 8.0)
                        text-anchor=(match i { 0 => "start", 4 => "end", _ => "middle" }) {
                        (utc(at)[11..16].to_owned())
                    }
                }
                @for s in series {
                    @for points in runs(&s.values, x, y) {
                        polyline class=(format!("line {}", s.class)) points=(points) {}
                    }
                }
            }
            figcaption {
                ul.legend {
                    @for s in series {
                        li { span class=(format!("swatch {}", s.class)) {} (s.name) }
                    }
                }
            }
        }
    }
}

/// The `points` of each unbroken run of values (a gap ends a run; a run
/// of one point is drawn as a short dash so it shows).
fn runs(values: &[Option<f64>], x: impl Fn(usize) -> f64, y: impl Fn(f64) -> f64) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    let mut length = 0;
    let mut close = |current: &mut String, length: &mut usize, last: Option<(f64, f64)>| {
        if *length == 1 {
            if let Some((px, py)) = last {
                let _ = write!(current, " {:.1},{py:.1}", px + 1.5);
            }
        }
        if *length > 0 {
            runs.push(std::mem::take(current));
        }
        *length = 0;
    };
    let mut last = None;
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => {
                let point = (x(i), y(*v));
                if length > 0 {
                    current.push(' ');
                }
                let _ = write!(current, "{:.1},{:.1}", point.0, point.1);
                length += 1;
                last = Some(point);
            }
            None => close(&mut current, &mut length, last),
        }
    }
    close(&mut current, &mut length, last);
    runs
}

/// The smallest of 1, 2, 2.5 or 5 times a power of ten at or above `max`
/// (at least 1), so the axis reads in round numbers.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 1.0 || !max.is_finite() {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|candidate| *candidate >= max)
        .unwrap_or(10.0 * power)
}

/// An axis label: whole numbers as such, with the unit.
fn label(value: f64, unit: &str) -> String {
    let number = if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_read_in_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(11.0), 20.0);
        assert_eq!(nice_ceiling(230.0), 250.0);
        assert_eq!(label(2.5, "ms"), "2.5 ms");
        assert_eq!(label(20.0, ""), "20");
    }

    #[test]
    fn gaps_break_the_line() {
        let values = [Some(1.0), Some(2.0), None, Some(3.0), None];
        let runs = runs(&values, |i| i as f64 * 10.0, |v| v);
        assert_eq!(runs, ["0.0,1.0 10.0,2.0", "30.0,3.0 31.5,3.0"]);
    }

    #[test]
    fn draws_an_svg_with_its_title_and_legend() {
        let chart = line_chart(
            "deliveries per minute",
            "",
            0,
            60_000,
            &[Series {
                name: "handled",
                class: "s-handled",
                values: vec![Some(1.0), Some(4.0)],
            }],
        )
        .into_string();
        assert!(chart.contains("<svg viewBox=\"0 0 720 200\""), "{chart}");
        assert!(chart.contains("<title>deliveries per minute</title>"));
        assert!(chart.contains("class=\"line s-handled\""));
        assert!(chart.contains("00:00"));
    }
}
