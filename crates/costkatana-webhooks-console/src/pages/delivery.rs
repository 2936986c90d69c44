//! One delivery: its envelope, every attempt, its headers (credentials
//! redacted), its body, and the Retry and Purge buttons.

use costkatana_webhooks::inbox::{Entry, EntryState};
use maud::{html, Markup};

use super::layout::{page, state_badge, Nav, View};
use crate::redact::shown_key;
use crate::source::AttemptView;
use crate::text::{self, age, bytes, iso, or_dash, utc, visible};

/// A notice after an action, from the redirect's query (`?done=retried`).
pub(crate) fn notice(query: &str) -> Option<&'static str> {
    let done = form_urlencoded::parse(query.as_bytes())
        .find(|(n, _)| n == "done")?
        .1;
    match done.as_ref() {
        "retried" => Some("Queued again: a worker will run its handler shortly."),
        _ => None,
    }
}

pub(crate) fn render(
    view: &View<'_>,
    entry: &Entry,
    attempts: &[AttemptView],
    notice: Option<&str>,
    refusal: Option<&str>,
) -> Markup {
    let shown = text::body(&entry.body, view.settings.body_limit);
    let title = format!("Delivery {}", entry.id);
    let body = html! {
        h1 { (title) " " (state_badge(entry.state)) }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @if let Some(refusal) = refusal { p.error role="alert" { (refusal) } }
        (actions(view, entry))
        section {
            h2 { "Envelope" }
            dl.envelope {
                dt { "Event id" } dd.mono { (or_dash(entry.event_id.as_deref())) }
                dt { "Type" } dd { (or_dash(entry.event_type.as_deref())) }
                dt { "State" } dd { (entry.state.as_str()) }
                dt { "Attempts" } dd { (entry.attempts) }
                dt { "Received" } dd {
                    time datetime=(iso(entry.received_at_ms)) data-ms=(entry.received_at_ms) { (utc(entry.received_at_ms)) }
                    " (" (age(view.now_ms - entry.received_at_ms)) " ago)"
                }
                @if entry.state == EntryState::Pending {
                    dt { "Next attempt" } dd { time datetime=(iso(entry.run_after_ms)) data-ms=(entry.run_after_ms) { (utc(entry.run_after_ms)) } }
                }
                @if let Some(settled) = entry.settled_at_ms {
                    dt { (if entry.state == EntryState::Dead { "Dead-lettered" } else { "Settled" }) }
                    dd { time datetime=(iso(settled)) data-ms=(settled) { (utc(settled)) } }
                }
                dt { "Dedupe key" } dd.mono { (visible(&shown_key(&entry.dedupe_key), false)) }
            }
        }
        @if let Some(error) = &entry.last_error {
            section {
                h2 { "Last error" }
                pre.error-text { (visible(error, true)) }
            }
        }
        (attempt_table(attempts))
        section {
            h2 { "Headers" }
            @if entry.headers.is_empty() {
                p.empty { "None stored." }
            } @else {
                table.headers {
                    tbody {
                        @for (name, value) in entry.redacted_headers() {
                            tr { th.mono { (visible(&name, false)) } td.mono { (visible(&value, false)) } }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Body" }
            p.note {
                (bytes(entry.body.len()))
                @if shown.json { ", JSON, pretty-printed (keys and numbers as sent)" }
                @if shown.truncated { ", longer than " (bytes(view.settings.body_limit)) ": its start is shown, as sent" }
                @if shown.lossy { ", not UTF-8: invalid bytes shown as \u{FFFD}" }
            }
            @if entry.body.is_empty() && entry.state == EntryState::Done {
                p.empty { "Not kept: a done delivery keeps only its key." }
            } @else {
                pre.body { code { (shown.text) } }
            }
        }
    };
    page(view, &title, Nav::Deliveries, body)
}

fn actions(view: &View<'_>, entry: &Entry) -> Markup {
    let base = format!("/deliveries/{}", entry.id);
    html! {
        div.actions {
            @match entry.state {
                EntryState::Running => {
                    p.note { "A worker is running its handler; retry it once it is done or dead." }
                }
                state => {
                    form method="post" action=(view.href(&format!("{base}/retry"))) {
                        (view.csrf_field())
                        @if state == EntryState::Done {
                            label.confirm {
                                input type="checkbox" name="force" value="true" required;
                                " Its handler succeeded already: run it again"
                            }
                        }
                        button #retry type="submit" { "Retry" }
                    }
                }
            }
            @if matches!(entry.state, EntryState::Done | EntryState::Dead) {
                form method="post" action=(view.href(&format!("{base}/purge")))
                    data-confirm="Delete this delivery for good?" {
                    (view.csrf_field())
                    button.danger #purge type="submit" { "Purge" }
                }
            }
        }
    }
}

fn attempt_table(attempts: &[AttemptView]) -> Markup {
    html! {
        section {
            h2 { "Attempts" }
            @if attempts.is_empty() {
                p.empty { "No attempt yet." }
            } @else {
                table.attempts {
                    thead { tr { th.num { "#" } th { "Started" } th.num { "Took" } th { "Outcome" } th { "Worker" } th { "Error" } } }
                    tbody {
                        @for attempt in attempts {
                            tr {
                                td.num { (attempt.number) }
                                td { time datetime=(iso(attempt.started_at_ms)) data-ms=(attempt.started_at_ms) { (utc(attempt.started_at_ms)) } }
                                td.num { (attempt.duration_ms) " ms" }
                                td { span class=(format!("badge outcome-{}", attempt.outcome)) { (visible(&attempt.outcome, false)) } }
                                td.mono { (or_dash(attempt.worker.as_deref())) }
                                td { pre.error-text { (attempt.error.as_deref().map(|e| visible(e, true)).unwrap_or_default()) } }
                            }
                        }
                    }
                }
            }
        }
    }
}
