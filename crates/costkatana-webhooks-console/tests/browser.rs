//! The console in a real browser (headless Chromium through chromedriver)
//! against a real receiver on a real SQLite inbox: signing in, the list
//! and its filters, a dead letter retried with its Retry button (and its
//! handler then run), a bulk retry on a filter, a rejection with its
//! diagnosis, nothing shown before signing in, and a POST from another
//! page refused. Screenshots of the overview and a delivery page are kept
//! under `target/console-screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them each test
//! says it was skipped, and fails under `CI=true`.

mod support;

use costkatana_webhooks::inbox::EntryState;
use costkatana_webhooks::EventType;
use support::browser::{available, Browser};
use support::{Stack, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_filter_retry_and_bulk_retry_in_a_browser() {
    if !available("sign_in_filter_retry_and_bulk_retry_in_a_browser") {
        return;
    }
    let stack = Stack::sqlite("browser-main").await;
    for (i, event_type) in [
        EventType::CostAlert,
        EventType::BudgetWarning,
        EventType::UsageSpike,
        EventType::OptimizationSuggested,
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(stack.deliver(&format!("evt_ok_{i}"), event_type).await, 200);
    }
    let single = stack
        .dead_letter("evt_dead_single", EventType::BudgetExceeded)
        .await;
    for i in 0..3 {
        stack
            .dead_letter(&format!("evt_dead_bulk_{i}"), EventType::SecurityAlert)
            .await;
    }
    stack.wait_state("evt_ok_3", EntryState::Done).await;
    let browser = Browser::start("main").await;
    let base = &stack.base;

    // Signing in: the token typed into the form, never in a URL.
    browser.sign_in(base, TOKEN).await;
    assert_eq!(browser.path().await, "/console/");
    let overview = browser.body_text().await;
    assert!(
        overview.contains("4\ndead") || overview.contains("4 dead"),
        "{overview}"
    );
    browser.screenshot("overview.png").await;

    // The list, newest first, then filtered to the dead letters.
    browser.goto(&format!("{base}/console/deliveries")).await;
    let all = browser.body_text().await;
    assert!(
        all.contains("evt_ok_0") && all.contains("evt_dead_single"),
        "{all}"
    );
    browser
        .client
        .find(fantoccini::Locator::Css("select[name=state]"))
        .await
        .unwrap()
        .select_by_value("dead")
        .await
        .unwrap();
    browser.click("form.filter button[type=submit]").await;
    browser
        .wait_for_path("/console/deliveries?state=dead&type=&since=&q=&text=")
        .await;
    let dead = browser.body_text().await;
    assert!(
        dead.contains("evt_dead_single") && dead.contains("evt_dead_bulk_2"),
        "{dead}"
    );
    assert!(!dead.contains("evt_ok_0"), "filtered: {dead}");
    browser.type_into("input[name=q]", "evt_dead_single").await;
    browser.click("form.filter button[type=submit]").await;
    browser
        .wait_for_path("/console/deliveries?state=dead&type=&since=&q=evt_dead_single&text=")
        .await;
    assert!(!browser.body_text().await.contains("evt_dead_bulk_0"));

    // A dead letter retried with its button: its handler runs.
    browser
        .click(&format!("a[href='/console/deliveries/{single}']"))
        .await;
    browser.wait_for_text("Envelope").await;
    let page = browser.body_text().await;
    assert!(
        page.contains("downstream answered 500 for evt_dead_single"),
        "{page}"
    );
    assert!(page.contains("[redacted]"), "credentials redacted: {page}");
    browser.screenshot("delivery.png").await;
    stack.handlers.heal("evt_dead_single");
    browser.click("#retry").await;
    browser.wait_for_text("Queued again").await;
    stack.wait_state("evt_dead_single", EntryState::Done).await;
    assert_eq!(stack.handlers.handled("evt_dead_single"), 1);

    // Bulk retry on the filter: the confirmation shows the count.
    for i in 0..3 {
        stack.handlers.heal(&format!("evt_dead_bulk_{i}"));
    }
    browser
        .goto(&format!(
            "{base}/console/deliveries?state=dead&type=security.alert"
        ))
        .await;
    browser.click("div.bulk a.button").await;
    let confirm = browser.wait_for_text("Retry 3 deliveries?").await;
    assert!(
        confirm.contains("dead deliveries of type security.alert"),
        "{confirm}"
    );
    browser.click("#confirm").await;
    browser.wait_for_text("Retry started").await;
    for i in 0..3 {
        stack
            .wait_state(&format!("evt_dead_bulk_{i}"), EntryState::Done)
            .await;
        assert_eq!(stack.handlers.handled(&format!("evt_dead_bulk_{i}")), 1);
    }
    browser.goto(&format!("{base}/console/")).await;
    let overview = browser.wait_for_text("Bulk retries").await;
    assert!(overview.contains("3 of 3"), "{overview}");
    browser.screenshot("overview-after.png").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_sign_in_wall_and_cross_site_posts_in_a_browser() {
    if !available("rejections_sign_in_wall_and_cross_site_posts_in_a_browser") {
        return;
    }
    let stack = Stack::sqlite("browser-guard").await;
    let dead = stack.dead_letter("evt_guarded", EventType::CostAlert).await;
    stack.handlers.heal("evt_guarded");
    assert_eq!(stack.send_reserialised().await, 401);
    let browser = Browser::start("guard").await;
    let base = &stack.base;

    // Nothing without signing in: every page lands on the form.
    for path in [
        "/console/",
        "/console/deliveries?state=dead",
        &format!("/console/deliveries/{dead}"),
    ] {
        browser.goto(&format!("{base}{path}")).await;
        assert_eq!(browser.path().await, "/console/sign-in", "{path}");
        assert!(!browser.body_text().await.contains("evt_guarded"));
    }
    browser.sign_in(base, TOKEN).await;

    // The rejection, with its diagnosis and what to do.
    browser.goto(&format!("{base}/console/rejections")).await;
    let rejections = browser.wait_for_text("invalid_signature").await;
    assert!(
        rejections.contains("signed over a re-serialised body"),
        "{rejections}"
    );
    assert!(
        rejections.contains("sign and send the same bytes"),
        "{rejections}"
    );

    // A page on another origin (another port: same site, so the cookie
    // goes along) posts to the Retry button's address: refused.
    let attacker = attacker_page(&format!("{base}/console/deliveries/{dead}/retry")).await;
    browser.goto(&attacker).await;
    let refused = browser.wait_for_text("Refused").await;
    assert!(refused.contains("another site"), "{refused}");
    // And from another site (localhost is not 127.0.0.1): the strict
    // cookie stays home, so the POST is not even signed in.
    let other_site = attacker.replace("127.0.0.1", "localhost");
    browser.goto(&other_site).await;
    browser.wait_for_text("Sign in").await;
    assert_eq!(stack.inbox.get(dead).await.unwrap().state, EntryState::Dead);
    assert_eq!(
        stack.handlers.handled("evt_guarded"),
        0,
        "the handler never ran"
    );
}

/// Serves, on its own port, a page that posts a form to `target` as soon
/// as it loads; its URL.
async fn attacker_page(target: &str) -> String {
    let page = format!(
        "<!doctype html><form method=post action=\"{target}\"><input name=csrf value=guess></form>\
         <script>document.forms[0].submit()</script>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { axum::response::Html(page) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
