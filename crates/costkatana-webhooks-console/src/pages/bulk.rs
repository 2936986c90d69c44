//! Bulk retry and bulk purge: a confirmation page that shows how many
//! deliveries the current filter matches, then the result.

use costkatana_webhooks::inbox::EntryState;
use maud::{html, Markup};

use super::layout::{page, Nav, View};
use crate::filter::Filter;
use crate::router::Action;
use crate::text::visible;

/// The filter in words: `dead deliveries of type budget.exceeded received
/// since 24h whose event id starts with "evt_"`.
pub(crate) fn describe(filter: &Filter) -> String {
    let mut text = match filter.state {
        Some(state) => format!("{state} deliveries"),
        None => "done and dead deliveries".to_owned(),
    };
    if let Some(event_type) = &filter.event_type {
        text.push_str(&format!(" of type {}", visible(event_type, false)));
    }
    if let Some(since) = &filter.since {
        text.push_str(&format!(" received since {}", visible(since, false)));
    }
    if let Some(q) = &filter.q {
        text.push_str(&format!(
            " whose event id starts with \"{}\"",
            visible(q, false)
        ));
    }
    text
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Retry => "Retry",
        Action::Purge => "Purge",
    }
}

/// The confirmation: the count, what it acts on, and the form that does it.
pub(crate) fn confirm(view: &View<'_>, action: Action, scope: &Filter, count: u64) -> Markup {
    let verb = verb(action);
    let back = view.href(&format!("/deliveries?{}", scope.query_string()));
    let title = format!("{verb} {count} deliveries?");
    let body = html! {
        h1 { (title) }
        p { "This acts on the " strong { (describe(scope)) } ": " strong.count { (count) } " of them now." }
        @match action {
            Action::Retry => p { "Each becomes pending with its attempts from zero, and the workers run its handler again (at most " (view.settings.bulk_retry_per_second) " a second are queued)." },
            Action::Purge => p { "Each is deleted for good. A purged done delivery's key is forgotten, so a copy the sender resends is handled again." },
        }
        @if count == 0 {
            p.empty { "Nothing to do." }
            p { a href=(back) { "Back to the list" } }
        } @else {
            form.confirm method="post" action=(view.href(&format!("/bulk/{}", verb.to_ascii_lowercase()))) {
                (view.csrf_field())
                @for (name, value) in scope.pairs() {
                    input type="hidden" name=(name) value=(value);
                }
                @if action == Action::Retry && scope.state == Some(EntryState::Done) {
                    label.confirm {
                        input type="checkbox" name="force" value="true" required;
                        " Their handlers succeeded already: run them again"
                    }
                }
                button #confirm type="submit" class=[(action == Action::Purge).then_some("danger")] {
                    (verb) " " (count)
                }
                " "
                a href=(back) { "Cancel" }
            }
        }
    };
    page(view, &title, Nav::Deliveries, body)
}

/// After the action.
pub(crate) fn done(view: &View<'_>, action: Action, scope: &Filter, count: u64) -> Markup {
    let back = view.href(&format!("/deliveries?{}", scope.query_string()));
    let (title, text) = match action {
        Action::Retry => (
            "Retry started".to_owned(),
            format!(
                "{count} {} being queued again, at most {} a second; the overview shows the progress.",
                describe(scope),
                view.settings.bulk_retry_per_second
            ),
        ),
        Action::Purge => ("Purged".to_owned(), format!("{count} {} deleted.", describe(scope))),
    };
    let body = html! {
        h1 { (title) }
        p.notice role="status" { (text) }
        p { a href=(back) { "Back to the list" } " · " a href=(view.href("/")) { "Overview" } }
    };
    page(view, &title, Nav::Deliveries, body)
}
