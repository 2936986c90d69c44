//! The frame around every page: head, navigation, sign-out.

use costkatana_webhooks::inbox::EntryState;
use maud::{html, Markup, DOCTYPE};

use crate::settings::Settings;

/// What every page needs to render links and forms.
pub(crate) struct View<'a> {
    pub(crate) settings: &'a Settings,
    /// The session's CSRF token, for forms; `None` when signed out.
    pub(crate) csrf: Option<&'a str>,
    pub(crate) now_ms: i64,
}

impl View<'_> {
    /// The absolute path of a console path (`/deliveries` →
    /// `/console/deliveries`).
    pub(crate) fn href(&self, relative: &str) -> String {
        self.settings.href(relative)
    }

    /// The hidden field every form posts.
    pub(crate) fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf.unwrap_or_default()); }
    }
}

/// The navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Overview,
    Deliveries,
    Dead,
    Rejections,
    None,
}

/// A whole page.
pub(crate) fn page(view: &View<'_>, title: &str, nav: Nav, body: Markup) -> Markup {
    let entry = |target: Nav, href: String, label: &str| {
        html! {
            a href=(href) aria-current=[(nav == target).then_some("page")] { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · Inbox console" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(view.href("/assets/console.css"));
                script src=(view.href("/assets/console.js")) defer {}
            }
            body {
                header.top {
                    a.brand href=(view.href("/")) { "Inbox console" }
                    @if view.csrf.is_some() {
                        nav {
                            (entry(Nav::Overview, view.href("/"), "Overview"))
                            (entry(Nav::Deliveries, view.href("/deliveries"), "Deliveries"))
                            (entry(Nav::Dead, view.href("/deliveries?state=dead"), "Dead letters"))
                            (entry(Nav::Rejections, view.href("/rejections"), "Rejections"))
                        }
                        form.sign-out method="post" action=(view.href("/sign-out")) {
                            (view.csrf_field())
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A state as a coloured badge.
pub(crate) fn state_badge(state: EntryState) -> Markup {
    html! { span class=(format!("badge state-{state}")) { (state.as_str()) } }
}
