//! Pages that say what went wrong: not found, refused, unavailable.

use maud::{html, Markup};

use super::layout::{page, Nav, View};

/// A page with a title and an explanation, and a way back.
pub(crate) fn problem(view: &View<'_>, title: &str, explanation: &str) -> Markup {
    let body = html! {
        h1 { (title) }
        p.explanation { (explanation) }
        p { a href=(view.href("/")) { "Back to the overview" } }
    };
    page(view, title, Nav::None, body)
}
