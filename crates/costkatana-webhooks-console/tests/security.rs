//! The console's security rules over plain HTTP, against a real receiver
//! and SQLite inbox: nothing without signing in, the token checked and
//! never in a URL, cookies that scripts and other sites cannot use, CSRF
//! and Origin on every POST, the security headers on every answer, no
//! secret on any page, stored values escaped, bounded requests.

mod support;

use std::sync::Arc;

use costkatana_webhooks::inbox::EntryState;
use costkatana_webhooks::signing::sign;
use costkatana_webhooks::{EventType, ManualClock, Scheme};
use support::http::{cookie_pair, set_cookie, Http};
use support::{now_ms, Options, Stack, AUTHORIZATION, SECRET, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_shown_without_signing_in() {
    let stack = Stack::sqlite("no-session").await;
    stack
        .dead_letter("evt_secret_dead", EventType::BudgetExceeded)
        .await;
    let http = Http::new(&stack);
    for path in [
        "/console",
        "/console/",
        "/console/deliveries",
        "/console/deliveries?state=dead",
        "/console/deliveries/1",
        "/console/rejections",
        "/console/bulk/retry?state=dead",
    ] {
        let answer = http.get(path, None).await;
        assert_eq!(answer.status(), 303, "{path}");
        assert_eq!(
            answer.headers()["location"],
            "/console/sign-in",
            "{path} sends to the sign-in form"
        );
        assert!(!answer.text().await.unwrap().contains("evt_secret_dead"));
    }
    for path in [
        "/console/api/deliveries",
        "/console/api/overview",
        "/console/api/deliveries/1",
    ] {
        let answer = http.get(path, None).await;
        assert_eq!(answer.status(), 401, "{path}");
        let body = answer.text().await.unwrap();
        assert!(body.contains("\"unauthorized\""), "{body}");
        assert!(!body.contains("evt_secret_dead"));
    }
    // A forged or expired-looking cookie is no session either.
    let forged = http
        .get(
            "/console/deliveries",
            Some("ckconsole_session=99999999999999.00.00"),
        )
        .await;
    assert_eq!(forged.status(), 303);
    // POSTs without a session change nothing and send to the sign-in form.
    let post = http
        .post(
            "/console/bulk/retry",
            None,
            Some(&stack.base),
            &[("state", "dead")],
        )
        .await;
    assert_eq!(post.status(), 303);
    let row = stack.wait_state("evt_secret_dead", EntryState::Dead).await;
    assert!(row > 0, "still dead");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_takes_the_token_in_a_form_and_sets_a_strict_session_cookie() {
    let stack = Stack::sqlite("sign-in").await;
    let http = Http::new(&stack);

    let form = http.get("/console/sign-in", None).await;
    let sign_in_cookie = set_cookie(form.headers(), "ckconsole_sign_in").unwrap();
    assert!(sign_in_cookie.contains("HttpOnly") && sign_in_cookie.contains("SameSite=Strict"));
    let html = form.text().await.unwrap();
    assert!(html.contains("type=\"password\" name=\"token\""), "{html}");
    assert!(html.contains("method=\"post\""));

    let wrong = http
        .try_sign_in("/console", "not-the-token-at-all-000")
        .await;
    assert_eq!(wrong.status(), 401);
    assert!(set_cookie(wrong.headers(), "ckconsole_session").is_none());
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("not the console's token"),
        "the form says why"
    );

    let right = http.try_sign_in("/console", TOKEN).await;
    assert_eq!(right.status(), 303);
    let location = right.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/console/");
    let session = set_cookie(right.headers(), "ckconsole_session").unwrap();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=28800",
    ] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Secure"), "served over http: {session}");
    assert!(!session.contains(TOKEN), "the cookie is not the token");
    assert!(!location.contains(TOKEN));

    // Over https as a trusted proxy says, the cookie is Secure.
    let form = http
        .client
        .get(format!("{}/proxied/sign-in", stack.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(set_cookie(form.headers(), "ckconsole_sign_in")
        .unwrap()
        .contains("; Secure"));

    // A sign-in form posted from another site, or without its cookie, is refused.
    let cookie = cookie_pair(
        http.get("/console/sign-in", None).await.headers(),
        "ckconsole_sign_in",
    );
    let html = http
        .get("/console/sign-in", None)
        .await
        .text()
        .await
        .unwrap();
    let csrf = support::http::csrf_in(&html);
    let cross = http
        .post(
            "/console/sign-in",
            cookie.as_deref(),
            Some("http://evil.example"),
            &[("csrf", &csrf), ("token", TOKEN)],
        )
        .await;
    assert_eq!(cross.status(), 403);
    let unbound = http
        .post(
            "/console/sign-in",
            None,
            Some(&stack.base),
            &[("csrf", &csrf), ("token", TOKEN)],
        )
        .await;
    assert_eq!(unbound.status(), 403);
    assert!(set_cookie(unbound.headers(), "ckconsole_session").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_limited() {
    let stack = Stack::sqlite("throttle").await;
    let http = Http::new(&stack);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            http.try_sign_in("/console", "wrong-token-wrong-token")
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&statuses[..10], [401; 10]);
    assert_eq!(&statuses[10..], [429, 429]);
    // Even the right token waits its turn then.
    assert_eq!(http.try_sign_in("/console", TOKEN).await.status(), 429);
    let bearer = http
        .client
        .get(format!("{}/console/api/overview", stack.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_needs_the_csrf_token_and_the_consoles_origin() {
    let stack = Stack::sqlite("csrf").await;
    let id = stack.dead_letter("evt_csrf", EventType::CostAlert).await;
    stack.handlers.heal("evt_csrf");
    let http = Http::new(&stack);
    let session = http.sign_in().await;
    let retry = format!("/console/deliveries/{id}/retry");
    let cookie = Some(session.cookie.as_str());
    let origin = Some(stack.base.as_str());

    let missing = http.post(&retry, cookie, origin, &[]).await;
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.unwrap().contains("security token"));
    let wrong = http
        .post(&retry, cookie, origin, &[("csrf", "0badc0de")])
        .await;
    assert_eq!(wrong.status(), 403);
    let other_origin = http
        .post(
            &retry,
            cookie,
            Some("http://evil.example"),
            &[("csrf", &session.csrf)],
        )
        .await;
    assert_eq!(other_origin.status(), 403);
    assert!(other_origin.text().await.unwrap().contains("another site"));
    let no_origin = http
        .post(&retry, cookie, None, &[("csrf", &session.csrf)])
        .await;
    assert_eq!(no_origin.status(), 403);
    // Another session's token is not this one's.
    let other = http.sign_in().await;
    let crossed = http
        .post(&retry, cookie, origin, &[("csrf", &other.csrf)])
        .await;
    assert_eq!(crossed.status(), 403);
    assert_eq!(stack.handlers.handled("evt_csrf"), 0, "nothing ran");
    assert_eq!(stack.inbox.get(id).await.unwrap().state, EntryState::Dead);

    let ok = http
        .post(&retry, cookie, origin, &[("csrf", &session.csrf)])
        .await;
    assert_eq!(ok.status(), 303);
    stack.wait_state("evt_csrf", EntryState::Done).await;
    assert_eq!(stack.handlers.handled("evt_csrf"), 1);

    // The API takes the same token in a header for session calls, and a
    // bearer token instead of both.
    let api = format!(
        "{}/console/api/deliveries/{id}/retry?force=true",
        stack.base
    );
    let no_csrf = http
        .client
        .post(&api)
        .header("cookie", &session.cookie)
        .header("origin", &stack.base)
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    let with_header = http
        .client
        .post(&api)
        .header("cookie", &session.cookie)
        .header("origin", &stack.base)
        .header("x-csrf-token", &session.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), 200, "{:?}", with_header.text().await);
    stack.wait_state("evt_csrf", EntryState::Done).await;
    let bearer = http
        .client
        .post(&api)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 200);
    let wrong_bearer = http
        .client
        .post(&api)
        .bearer_auth("wrong-token-wrong-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_bearer.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_ends_the_session_and_sessions_expire() {
    let clock = Arc::new(ManualClock::new(now_ms()));
    let stack = Stack::sqlite_with(
        "expiry",
        Options {
            clock: Some(clock.clone()),
        },
    )
    .await;
    let http = Http::new(&stack);
    let first = http.sign_in().await;
    assert_eq!(
        http.get("/console/", Some(&first.cookie)).await.status(),
        200
    );
    clock.advance_ms(8 * 3_600_000);
    assert_eq!(
        http.get("/console/", Some(&first.cookie)).await.status(),
        303,
        "expired"
    );

    let second = http.sign_in().await;
    let out = http
        .post(
            "/console/sign-out",
            Some(&second.cookie),
            Some(&stack.base),
            &[("csrf", &second.csrf)],
        )
        .await;
    assert_eq!(out.status(), 303);
    assert!(set_cookie(out.headers(), "ckconsole_session")
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(
        http.get("/console/", Some(&second.cookie)).await.status(),
        303,
        "signed out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let stack = Stack::sqlite("headers").await;
    let http = Http::new(&stack);
    let session = http.sign_in().await;
    for (path, signed_in) in [
        ("/console/sign-in", false),
        ("/console/", false),
        ("/console/", true),
        ("/console/deliveries", true),
        ("/console/rejections", true),
        ("/console/api/overview", true),
        ("/console/no-such-page", true),
        ("/console/assets/console.css", false),
        ("/console/assets/console.js", false),
    ] {
        let answer = http
            .get(path, signed_in.then_some(session.cookie.as_str()))
            .await;
        let headers = answer.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("http"), "no other origin allowed: {csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        if !path.contains("/assets/") {
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
    }
    // Every asset the pages use is the console's own.
    let (_, overview) = http.page("/console/", &session).await;
    for attribute in ["src=\"", "href=\""] {
        for link in overview.split(attribute).skip(1) {
            let link = link.split('"').next().unwrap();
            assert!(
                link.starts_with("/console/") || link == "data:,",
                "an asset or link elsewhere: {link}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_signature_or_credential_on_any_page() {
    let stack = Stack::sqlite("no-secret").await;
    let id = stack
        .dead_letter("evt_with_credentials", EventType::SecurityAlert)
        .await;
    // A body without an event id: its dedupe key is its signature.
    let body = br#"{"hello":"no id here"}"#;
    let signature = sign(Scheme::Current, SECRET, now_ms(), body)
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-webhook-signature"))
        .unwrap()
        .1;
    assert_eq!(stack.deliver_body(body).await, 200);
    assert_eq!(stack.send_reserialised().await, 401);
    let http = Http::new(&stack);
    let session = http.sign_in().await;
    let rows = stack.inbox.list(&Default::default()).await.unwrap();
    let keyless = rows.iter().find(|r| r.event_id.is_none()).unwrap().id;

    let mut pages = vec![
        "/console/".to_owned(),
        "/console/deliveries".to_owned(),
        "/console/rejections".to_owned(),
        "/console/api/overview".to_owned(),
        "/console/api/deliveries".to_owned(),
        "/console/api/rejections".to_owned(),
        "/console/bulk/retry".to_owned(),
        "/console/bulk/purge".to_owned(),
    ];
    for row in [id, keyless] {
        pages.push(format!("/console/deliveries/{row}"));
        pages.push(format!("/console/api/deliveries/{row}"));
    }
    let stored = stack.inbox.get(id).await.unwrap();
    let stored_signature = stored
        .headers
        .iter()
        .find(|(n, _)| n == "x-webhook-signature")
        .unwrap()
        .1
        .clone();
    let keyless_entry = stack.inbox.get(keyless).await.unwrap();
    let key_signature = keyless_entry
        .dedupe_key
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    assert!(key_signature.len() >= 32, "{}", keyless_entry.dedupe_key);
    for page in &pages {
        let (status, text) = http.page(page, &session).await;
        assert_eq!(status, 200, "{page}: {text}");
        for secret in [
            SECRET,
            TOKEN,
            AUTHORIZATION,
            "downstream-credential-abc123",
            stored_signature.as_str(),
            signature.as_str(),
            key_signature.as_str(),
        ] {
            assert!(!text.contains(secret), "{page} shows {secret}");
        }
    }
    let (_, delivery) = http
        .page(&format!("/console/deliveries/{id}"), &session)
        .await;
    assert!(delivery.contains("authorization"), "the header is listed");
    assert!(delivery.contains("[redacted]"));
    let (_, keyless_page) = http
        .page(&format!("/console/deliveries/{keyless}"), &session)
        .await;
    assert!(
        keyless_page.contains("signature:[redacted]"),
        "{keyless_page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_values_are_escaped_and_bidi_characters_shown() {
    let stack = Stack::sqlite("escape").await;
    let hostile_id = "evt_<script>alert(1)</script>\u{202E}gnp.exe";
    let body = serde_json::json!({
        "eventId": hostile_id,
        "eventType": "cost.alert",
        "title": "<img src=x onerror=alert(2)>",
        "severity": "high",
    })
    .to_string();
    assert_eq!(stack.deliver_body(body.as_bytes()).await, 200);
    let id = stack.wait_state(hostile_id, EntryState::Done).await;
    let http = Http::new(&stack);
    let session = http.sign_in().await;
    for page in [
        format!("/console/deliveries/{id}"),
        "/console/deliveries".to_owned(),
    ] {
        let (_, html) = http.page(&page, &session).await;
        assert!(!html.contains("<script>alert"), "{page}");
        assert!(!html.contains("<img src=x"), "{page}");
        assert!(
            !html.contains('\u{202E}'),
            "{page}: the override is shown escaped"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;\\u{202e}gnp.exe"),
            "{page}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_bounded() {
    let stack = Stack::sqlite("bounds").await;
    let http = Http::new(&stack);
    let session = http.sign_in().await;
    let long = format!("/console/deliveries?q={}", "a".repeat(5000));
    assert_eq!(http.get(&long, Some(&session.cookie)).await.status(), 414);
    let big = "x".repeat(20_000);
    let answer = http
        .post(
            "/console/bulk/purge",
            Some(&session.cookie),
            Some(&stack.base),
            &[("csrf", &session.csrf), ("type", &big)],
        )
        .await;
    assert_eq!(answer.status(), 413);
    let bad = http
        .get("/console/deliveries?state=gone", Some(&session.cookie))
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("state must be one of"));
}
