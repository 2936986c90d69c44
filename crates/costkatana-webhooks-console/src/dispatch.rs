//! One request, start to end: limits, route, sign-in, the CSRF and
//! `Origin` checks for anything that changes state, then the page, action
//! or API call; the security headers on whatever the answer is.

use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, StatusCode};
use http_body::Body;
use subtle::ConstantTimeEq;

use crate::console::Shared;
use crate::pages::layout::View;
use crate::pages::problem::problem;
use crate::request::{self, FormError};
use crate::response::{self, Reply};
use crate::router::{self, NoRoute, Route};
use crate::security::session::{Session, SESSION_COOKIE};
use crate::security::{headers, origin};
use crate::settings::{MAX_FORM, MAX_URI};
use crate::{actions, api, assets, auth, views};

/// What a handler knows of its request.
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) parts: &'a Parts,
    pub(crate) now_ms: i64,
    /// The signed-in session (`None` for a bearer-token API call).
    pub(crate) session: Option<Session>,
    /// The form body of a POST (empty otherwise).
    pub(crate) form: Bytes,
}

impl Ctx<'_> {
    pub(crate) fn view(&self) -> View<'_> {
        View {
            settings: &self.shared.settings,
            csrf: self.session.as_ref().map(|s| s.csrf.as_str()),
            now_ms: self.now_ms,
        }
    }

    pub(crate) fn query(&self) -> &str {
        self.parts.uri.query().unwrap_or_default()
    }

    /// An HTML page saying what went wrong.
    pub(crate) fn problem(&self, status: StatusCode, title: &str, explanation: &str) -> Reply {
        response::html(status, problem(&self.view(), title, explanation))
    }
}

pub(crate) async fn handle<B>(shared: Arc<Shared>, request: Request<B>) -> Reply
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = request.into_parts();
    let (mut reply, cacheable) = respond(&shared, &parts, body).await;
    headers::apply(reply.headers_mut(), cacheable);
    reply
}

async fn respond<B>(shared: &Shared, parts: &Parts, body: B) -> (Reply, bool)
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let now_ms = shared.clock.now_ms();
    let mut ctx = Ctx {
        shared,
        parts,
        now_ms,
        session: None,
        form: Bytes::new(),
    };
    if parts.uri.path().len() + parts.uri.query().map_or(0, str::len) > MAX_URI {
        return (
            response::plain(StatusCode::URI_TOO_LONG, "the URL is too long"),
            false,
        );
    }
    let path = router::relative(parts.uri.path(), &shared.settings.mount);
    let route = match router::route(&parts.method, path) {
        Ok(route) => route,
        Err(NoRoute::NotFound) => {
            return (
                ctx.problem(
                    StatusCode::NOT_FOUND,
                    "Not found",
                    "There is no such page in the console.",
                ),
                false,
            )
        }
        Err(NoRoute::MethodNotAllowed) => {
            return (
                response::plain(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed: pages are GET, actions are POST",
                ),
                false,
            )
        }
    };
    if let Route::Asset(name) = route {
        return (assets::serve(name), true);
    }
    if parts.method == Method::POST {
        match request::read_body(parts, body, MAX_FORM).await {
            Ok(form) => ctx.form = form,
            Err(FormError::TooLarge) => {
                return (
                    response::plain(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"),
                    false,
                )
            }
            Err(FormError::Unreadable) => {
                return (
                    response::plain(StatusCode::BAD_REQUEST, "the form could not be read"),
                    false,
                )
            }
        }
    }
    (routed(ctx, route).await, false)
}

async fn routed(mut ctx: Ctx<'_>, route: Route) -> Reply {
    match route {
        Route::SignInForm => return auth::form(&ctx, None, StatusCode::OK),
        Route::SignIn => return auth::sign_in(&ctx),
        _ => {}
    }
    let is_api = matches!(route, Route::Api(_));
    let bearer = is_api && request::bearer(ctx.parts).is_some();
    if bearer {
        if let Some(refusal) = auth::refuse_bearer(&ctx) {
            return refusal;
        }
    } else {
        ctx.session = request::cookie(ctx.parts, SESSION_COOKIE).and_then(|value| {
            ctx.shared
                .sessions
                .check(&ctx.shared.token, value, ctx.now_ms)
        });
        if ctx.session.is_none() {
            return if is_api {
                api::error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "sign in first, or send Authorization: Bearer <token>",
                )
            } else {
                response::redirect(&ctx.shared.settings.href("/sign-in"))
            };
        }
    }
    if route.changes_state() && !bearer {
        if let Some(refusal) = refuse_cross_site(&ctx, is_api) {
            return refusal;
        }
    }
    match route {
        Route::Overview => views::overview(&ctx).await,
        Route::Deliveries => views::deliveries(&ctx).await,
        Route::Delivery(id) => views::delivery(&ctx, id, None).await,
        Route::Rejections => views::rejections(&ctx),
        Route::BulkConfirm(action) => views::bulk_confirm(&ctx, action).await,
        Route::Retry(id) => actions::retry_page(&ctx, id).await,
        Route::Purge(id) => actions::purge_page(&ctx, id).await,
        Route::Bulk(action) => actions::bulk_page(&ctx, action).await,
        Route::SignOut => auth::sign_out(&ctx),
        Route::Api(api_route) => api::handle(&ctx, api_route).await,
        Route::Asset(_) | Route::SignInForm | Route::SignIn => unreachable!("answered above"),
    }
}

/// The refusal of a state-changing request not made by the console's own
/// pages (`None` when it was): it must come from the console's origin and
/// carry the session's CSRF token (a form field, or the `X-CSRF-Token`
/// header for script calls).
fn refuse_cross_site(ctx: &Ctx<'_>, is_api: bool) -> Option<Reply> {
    let refuse = |explanation: &str| {
        if is_api {
            api::error(StatusCode::FORBIDDEN, "forbidden", explanation)
        } else {
            ctx.problem(StatusCode::FORBIDDEN, "Refused", explanation)
        }
    };
    if let Err(cross) = origin::check(ctx.parts, &ctx.shared.settings) {
        return Some(refuse(cross.explain()));
    }
    let expected = ctx.session.as_ref().map(|s| s.csrf.as_str()).unwrap_or("");
    let given = request::field(&ctx.form, "csrf").or_else(|| {
        ctx.parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let matches = given.is_some_and(|given| {
        !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
    });
    if matches {
        None
    } else {
        Some(refuse(
            "this form's security token is missing or out of date (the page may be from before \
             you signed in again): reload the page and try again; nothing was changed",
        ))
    }
}
