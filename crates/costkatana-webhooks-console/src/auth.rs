//! Signing in and out, and the bearer token of API scripts.

use http::StatusCode;

use crate::api;
use crate::dispatch::Ctx;
use crate::pages::layout::View;
use crate::pages::sign_in;
use crate::request;
use crate::response::{self, Reply};
use crate::security::origin;
use crate::security::session::{
    sign_in_matches, sign_in_pair, SESSION_COOKIE, SIGN_IN_COOKIE, SIGN_IN_TTL_MS,
};

/// The cookies' path: the console's, or `/` when it is mounted at the root.
fn cookie_path(ctx: &Ctx<'_>) -> String {
    let mount = &ctx.shared.settings.mount;
    if mount.is_empty() {
        "/".to_owned()
    } else {
        mount.clone()
    }
}

fn secure(ctx: &Ctx<'_>) -> bool {
    ctx.shared.settings.secure_cookies || origin::is_https(ctx.parts, &ctx.shared.settings)
}

/// The sign-in form, with a fresh cookie that the form's CSRF token
/// belongs to.
pub(crate) fn form(ctx: &Ctx<'_>, error: Option<&str>, status: StatusCode) -> Reply {
    let (cookie, csrf) = sign_in_pair(&ctx.shared.token, ctx.now_ms);
    let view = View {
        settings: &ctx.shared.settings,
        csrf: None,
        now_ms: ctx.now_ms,
    };
    let mut reply = response::html(status, sign_in::form(&view, &csrf, error));
    let cookie = response::cookie(
        SIGN_IN_COOKIE,
        &cookie,
        &cookie_path(ctx),
        SIGN_IN_TTL_MS / 1000,
        secure(ctx),
    );
    response::set_cookie(&mut reply, &cookie);
    reply
}

/// The form's answer: a session for the right token from the console's
/// own sign-in form; the form again, saying why, otherwise.
pub(crate) fn sign_in(ctx: &Ctx<'_>) -> Reply {
    let shared = ctx.shared;
    if let Err(cross) = origin::check(ctx.parts, &shared.settings) {
        return form(ctx, Some(cross.explain()), StatusCode::FORBIDDEN);
    }
    let bound = match (
        request::cookie(ctx.parts, SIGN_IN_COOKIE),
        request::field(&ctx.form, "csrf"),
    ) {
        (Some(cookie), Some(csrf)) => sign_in_matches(&shared.token, cookie, &csrf, ctx.now_ms),
        _ => false,
    };
    if !bound {
        return form(
            ctx,
            Some("The sign-in form had expired (or cookies are off for this site): try again."),
            StatusCode::FORBIDDEN,
        );
    }
    if let Some(secs) = shared.throttle.wait_secs(ctx.now_ms) {
        return form(
            ctx,
            Some(&format!(
                "Too many wrong tokens: wait {secs} s and try again."
            )),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let given = request::field(&ctx.form, "token").unwrap_or_default();
    if !shared.token.matches(&given) {
        shared.throttle.failed(ctx.now_ms);
        tracing::warn!("console: a wrong token was given at sign-in");
        return form(
            ctx,
            Some("That is not the console's token."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let (value, _) = shared.sessions.issue(&shared.token, ctx.now_ms);
    let mut reply = response::redirect(&shared.settings.href("/"));
    let path = cookie_path(ctx);
    let ttl_secs = shared.sessions.ttl_ms() / 1000;
    response::set_cookie(
        &mut reply,
        &response::cookie(SESSION_COOKIE, &value, &path, ttl_secs, secure(ctx)),
    );
    response::set_cookie(
        &mut reply,
        &response::cookie(SIGN_IN_COOKIE, "", &path, 0, secure(ctx)),
    );
    tracing::info!("console: signed in");
    reply
}

/// Ends the session: refused from now on, and its cookie deleted.
pub(crate) fn sign_out(ctx: &Ctx<'_>) -> Reply {
    if let Some(session) = &ctx.session {
        ctx.shared.sessions.revoke(session, ctx.now_ms);
    }
    let mut reply = response::redirect(&ctx.shared.settings.href("/sign-in"));
    response::set_cookie(
        &mut reply,
        &response::cookie(SESSION_COOKIE, "", &cookie_path(ctx), 0, secure(ctx)),
    );
    reply
}

/// The refusal of an API call whose `Authorization: Bearer` token is not
/// the console's (`None`: it is); wrong tokens count against the same
/// limit as the form's.
pub(crate) fn refuse_bearer(ctx: &Ctx<'_>) -> Option<Reply> {
    let shared = ctx.shared;
    if let Some(secs) = shared.throttle.wait_secs(ctx.now_ms) {
        return Some(api::error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_wrong_tokens",
            &format!("too many wrong tokens: wait {secs} s"),
        ));
    }
    let given = request::bearer(ctx.parts).unwrap_or_default();
    if shared.token.matches(given) {
        None
    } else {
        shared.throttle.failed(ctx.now_ms);
        Some(api::error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the bearer token is not the console's",
        ))
    }
}
