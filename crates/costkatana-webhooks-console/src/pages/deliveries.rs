//! The deliveries list: newest first, a page at a time by key, with the
//! filter form and the bulk actions on the current filter.

use costkatana_webhooks::inbox::{EntryState, EntrySummary};
use maud::{html, Markup};

use super::layout::{page, state_badge, Nav, View};
use crate::filter::Filter;
use crate::source::Bulk;
use crate::text::{age, clipped, iso, or_dash, utc};

/// The last error's length in the list; the delivery page shows it whole.
const ERROR_CHARS: usize = 120;

pub(crate) fn render(
    view: &View<'_>,
    filter: &Filter,
    rows: &[EntrySummary],
    page_size: usize,
) -> Markup {
    let nav =
        if filter.state == Some(EntryState::Dead) && filter.without_cursor().pairs().len() == 1 {
            Nav::Dead
        } else {
            Nav::Deliveries
        };
    let bulk_query = filter.without_cursor().query_string();
    let with_query = |path: &str| {
        if bulk_query.is_empty() {
            view.href(path)
        } else {
            view.href(&format!("{path}?{bulk_query}"))
        }
    };
    let older = rows.last().filter(|_| rows.len() >= page_size).map(|last| {
        let next = Filter {
            before: Some(last.id),
            ..filter.clone()
        };
        view.href(&format!("/deliveries?{}", next.query_string()))
    });
    let body = html! {
        h1 { "Deliveries" }
        (filter_form(view, filter))
        div.bulk {
            @if Bulk::Retry.scope(filter).is_ok() {
                a.button href=(with_query("/bulk/retry")) { "Retry all matching…" }
            }
            @if Bulk::Purge.scope(filter).is_ok() {
                a.button.danger href=(with_query("/bulk/purge")) { "Purge all matching…" }
            }
        }
        @if rows.is_empty() {
            p.empty { "No deliveries match." }
        } @else {
            table.deliveries {
                thead {
                    tr {
                        th { "ID" } th { "Event id" } th { "Type" } th { "State" }
                        th.num { "Attempts" } th { "Age" } th { "Last error" }
                    }
                }
                tbody {
                    @for row in rows {
                        tr {
                            td { a href=(view.href(&format!("/deliveries/{}", row.id))) { (row.id) } }
                            td.mono { (or_dash(row.event_id.as_deref())) }
                            td { (or_dash(row.event_type.as_deref())) }
                            td { (state_badge(row.state)) }
                            td.num { (row.attempts) }
                            td { time datetime=(iso(row.received_at_ms)) data-ms=(row.received_at_ms) title=(utc(row.received_at_ms)) {
                                (age(view.now_ms - row.received_at_ms))
                            } }
                            td.error { (row.last_error.as_deref().map(|e| clipped(e, ERROR_CHARS)).unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if filter.before.is_some() {
                a href=(with_query("/deliveries")) { "← Newest" }
            }
            @if let Some(older) = older {
                a rel="next" href=(older) { "Older →" }
            }
        }
    };
    page(view, "Deliveries", nav, body)
}

fn filter_form(view: &View<'_>, filter: &Filter) -> Markup {
    let selected = |state: Option<EntryState>| filter.state == state;
    html! {
        form.filter method="get" action=(view.href("/deliveries")) {
            label {
                "State "
                select name="state" {
                    option value="" selected[selected(None)] { "any" }
                    @for state in EntryState::ALL {
                        option value=(state.as_str()) selected[selected(Some(state))] { (state.as_str()) }
                    }
                }
            }
            label {
                "Type "
                input type="text" name="type" value=(filter.event_type.as_deref().unwrap_or_default())
                    placeholder="budget.exceeded" spellcheck="false";
            }
            label {
                "Since "
                input type="text" name="since" value=(filter.since.as_deref().unwrap_or_default())
                    placeholder="24h or 2026-12-01" spellcheck="false";
            }
            label {
                "Event id "
                input type="search" name="q" value=(filter.q.as_deref().unwrap_or_default())
                    placeholder="starts with…" spellcheck="false";
            }
            label title="Looks through ids, types, errors and bodies: slower on a large inbox" {
                "Contains "
                input type="search" name="text" value=(filter.text.as_deref().unwrap_or_default())
                    placeholder="anywhere…" spellcheck="false";
            }
            button type="submit" { "Filter" }
            @if !filter.is_empty() {
                a href=(view.href("/deliveries")) { "Clear" }
            }
        }
    }
}
