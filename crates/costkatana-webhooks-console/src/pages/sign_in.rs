//! The sign-in form: one password field for the token. The form posts the
//! token in its body, never in the URL.

use maud::{html, Markup};

use super::layout::{page, Nav, View};

/// The form; `csrf` binds it to the cookie set with it, `error` says why
/// the last try failed.
pub(crate) fn form(view: &View<'_>, csrf: &str, error: Option<&str>) -> Markup {
    let body = html! {
        section.sign-in {
            h1 { "Sign in" }
            p { "Enter the console token (the one in " code { "INBOX_CONSOLE_TOKEN" } ", or printed when the console started)." }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form method="post" action=(view.href("/sign-in")) autocomplete="off" {
                input type="hidden" name="csrf" value=(csrf);
                label for="token" { "Token" }
                input #token type="password" name="token" required autofocus
                    autocomplete="current-password" spellcheck="false";
                button type="submit" { "Sign in" }
            }
        }
    };
    page(view, "Sign in", Nav::None, body)
}
