//! The Overview page, from [`crate::admin::Admin::overview`]: jobs by state
//! (in all, and per instance and channel), throughput and failures per
//! minute over the last hour (an inline SVG chart drawn here, no chart
//! library), jobs running now with live progress bars, snoozed instances,
//! failing jobs at the top.

use super::jobs::{JobRowView, STATES};
use super::page::{Nav, Problem, render, time};
use super::session::Session;
use crate::admin::Overview;
use crate::serve::app::App;
use crate::store::MinuteCount;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

/// The jobs of one instance and channel, by state (in [`STATES`] order).
struct GroupView {
    instance: String,
    channel: String,
    counts: Vec<i64>,
}

/// A bar of the chart: where it is drawn and what it says.
struct Bar {
    x: u32,
    done_y: u32,
    done_h: u32,
    failed_y: u32,
    failed_h: u32,
    label: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: Nav,
    taken: String,
    /// (state, count) in the order of the jobs filter.
    counts: Vec<(&'static str, i64)>,
    states: [&'static str; 7],
    groups: Vec<GroupView>,
    bars: Vec<Bar>,
    peak: i64,
    done_hour: i64,
    failed_hour: i64,
    failing: Vec<JobRowView>,
    running: Vec<JobRowView>,
    snoozed: Vec<(String, String, String)>,
}

/// Chart size: 60 bars of 14 px in 840 px, 120 px high.
const CHART_H: u32 = 120;
const BAR_W: u32 = 14;

/// `GET /`.
pub(super) async fn page(State(app): State<App>, session: Session) -> Response {
    let nav = session.nav("overview");
    let o = match app.admin.overview().await {
        Ok(o) => o,
        Err(e) => return Problem::from(e).with_nav(nav).into_response(),
    };
    render(&view(nav, &o))
}

fn view(nav: Nav, o: &Overview) -> OverviewPage {
    let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
    let mut groups: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for c in &o.states {
        *totals.entry(c.state.as_str()).or_default() += c.count;
        let row = groups
            .entry((c.instance.clone(), c.channel.clone()))
            .or_insert_with(|| vec![0; STATES.len()]);
        if let Some(i) = STATES.iter().position(|s| *s == c.state.as_str()) {
            row[i] += c.count;
        }
    }
    let (bars, peak) = chart(&o.per_minute, o.at);
    OverviewPage {
        nav,
        taken: time(o.at),
        counts: STATES
            .iter()
            .map(|s| (*s, totals.get(s).copied().unwrap_or(0)))
            .collect(),
        states: STATES,
        groups: groups
            .into_iter()
            .map(|((instance, channel), counts)| GroupView {
                instance,
                channel,
                counts,
            })
            .collect(),
        done_hour: o.per_minute.iter().map(|m| m.done).sum(),
        failed_hour: o.per_minute.iter().map(|m| m.failed).sum(),
        bars,
        peak,
        failing: o.failing.iter().map(JobRowView::of).collect(),
        running: o.running.iter().map(|r| JobRowView::of(&r.job)).collect(),
        snoozed: o
            .snoozed
            .iter()
            .map(|s| (s.instance.clone(), time(s.until), s.reason.clone()))
            .collect(),
    }
}

/// The chart's bars: one per minute of the hour before `now` (minutes with
/// nothing finished are empty bars), done stacked on failed, scaled to the
/// busiest minute; and that busiest minute's count.
fn chart(minutes: &[MinuteCount], now: i64) -> (Vec<Bar>, i64) {
    let by_minute: BTreeMap<i64, &MinuteCount> = minutes.iter().map(|m| (m.minute, m)).collect();
    let last = now.div_euclid(60_000) * 60_000;
    let peak = minutes
        .iter()
        .map(|m| m.done + m.failed)
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: i64| ((n.max(0) * i64::from(CHART_H)) / peak) as u32;
    let bars = (0..60)
        .map(|i| {
            let minute = last - (59 - i) * 60_000;
            let (done, failed) = by_minute
                .get(&minute)
                .map(|m| (m.done, m.failed))
                .unwrap_or((0, 0));
            let failed_h = scale(failed);
            let done_h = scale(done);
            Bar {
                x: i as u32 * BAR_W,
                failed_y: CHART_H - failed_h,
                failed_h,
                done_y: CHART_H - failed_h - done_h,
                done_h,
                label: format!("{}: {done} done, {failed} failed", &time(minute)[11..16]),
            }
        })
        .collect();
    (bars, peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_bar_per_minute_scaled_to_the_busiest() {
        let now = 1_800_000_000_000;
        let last = now / 60_000 * 60_000;
        let minutes = vec![
            MinuteCount {
                minute: last,
                done: 10,
                failed: 2,
            },
            MinuteCount {
                minute: last - 60_000,
                done: 3,
                failed: 0,
            },
        ];
        let (bars, peak) = chart(&minutes, now);
        assert_eq!((bars.len(), peak), (60, 12));
        let newest = &bars[59];
        assert_eq!((newest.done_h + newest.failed_h), CHART_H);
        assert_eq!(newest.failed_h, 20);
        assert_eq!(bars[58].done_h, 30);
        assert_eq!(bars[0].done_h + bars[0].failed_h, 0);
    }
}
