//! The same console on both backends, over plain HTTP, against a real
//! receiver: counts on the overview, the list newest first and paged by
//! key, each filter, a delivery's page, a dead letter retried (its
//! handler then runs) with its attempts, a done one retried only when
//! confirmed, a bulk retry on a filter, the charts' counts, one delivery
//! purged, and the JSON API with the same filters.

mod support;

use costkatana_webhooks::inbox::EntryState;
use costkatana_webhooks::EventType;
use serde_json::Value;
use support::http::{Http, SignedIn};
use support::{wait_until, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    scenario(Stack::sqlite("backends").await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    let Some(stack) = Stack::postgres("console-backends").await else {
        return;
    };
    scenario(stack).await;
}

async fn api(http: &Http, session: &SignedIn, path: &str) -> Value {
    let (status, text) = http.page(path, session).await;
    assert_eq!(status, 200, "{path}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn scenario(stack: Stack) {
    let backend = stack.backend;
    for i in 0..5 {
        assert_eq!(
            stack
                .deliver(&format!("evt_a_{i}"), EventType::CostAlert)
                .await,
            200
        );
    }
    for i in 0..2 {
        assert_eq!(
            stack
                .deliver(&format!("evt_b_{i}"), EventType::UsageSpike)
                .await,
            200
        );
    }
    let dead = stack
        .dead_letter("evt_dead_0", EventType::BudgetExceeded)
        .await;
    stack
        .dead_letter("evt_dead_1", EventType::BudgetExceeded)
        .await;
    stack
        .dead_letter("evt_dead_2", EventType::SecurityAlert)
        .await;
    stack.wait_state("evt_b_1", EntryState::Done).await;
    let http = Http::new(&stack);
    let session = http.sign_in().await;

    let overview = api(&http, &session, "/console/api/overview").await;
    assert_eq!(overview["counts"]["done"], 7, "{backend}: {overview}");
    assert_eq!(overview["counts"]["dead"], 3, "{backend}: {overview}");
    let (_, page) = http.page("/console/", &session).await;
    assert!(
        page.contains("<span class=\"count\">3</span><span class=\"label\">dead</span>"),
        "{page}"
    );

    // Newest first, paged by key: three pages of 4, 4 and 2.
    let mut ids = Vec::new();
    let mut next = Some("/console/api/deliveries?limit=4".to_owned());
    while let Some(path) = next {
        let page = api(&http, &session, &path).await;
        for row in page["deliveries"].as_array().unwrap() {
            ids.push(row["id"].as_i64().unwrap());
        }
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(ids.len(), 10, "{backend}: {ids:?}");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let (_, list) = http.page("/console/deliveries", &session).await;
    assert!(
        list.contains("evt_dead_2") && list.contains("evt_a_0"),
        "{list}"
    );

    // Each filter, on the page and in the API.
    let count = |value: &Value| value["deliveries"].as_array().unwrap().len();
    assert_eq!(
        count(&api(&http, &session, "/console/api/deliveries?state=dead").await),
        3
    );
    assert_eq!(
        count(&api(&http, &session, "/console/api/deliveries?type=usage.spike").await),
        2
    );
    assert_eq!(
        count(&api(&http, &session, "/console/api/deliveries?q=evt_a_").await),
        5
    );
    // Anywhere in the id, type, error or body: "a_0" is inside "evt_a_0" only.
    assert_eq!(
        count(&api(&http, &session, "/console/api/deliveries?text=a_0").await),
        1
    );
    assert_eq!(
        count(&api(&http, &session, "/console/api/deliveries?text=usage.spike").await),
        2
    );
    assert_eq!(
        count(
            &api(
                &http,
                &session,
                "/console/api/deliveries?state=dead&type=budget.exceeded"
            )
            .await
        ),
        2
    );
    assert_eq!(
        count(&api(&http, &session, "/console/api/deliveries?since=1h").await),
        10
    );
    assert_eq!(
        count(&api(&http, &session, "/console/api/deliveries?since=2000-01-01").await),
        10
    );
    let (_, filtered) = http
        .page(
            "/console/deliveries?state=dead&type=security.alert",
            &session,
        )
        .await;
    assert!(
        filtered.contains("evt_dead_2") && !filtered.contains("evt_dead_0"),
        "{filtered}"
    );
    assert!(!filtered.contains("evt_a_0"));

    // A delivery's page.
    let (status, page) = http
        .page(&format!("/console/deliveries/{dead}"), &session)
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("downstream answered 500 for evt_dead_0"),
        "{page}"
    );
    assert!(
        page.contains("&quot;eventType&quot;: &quot;budget.exceeded&quot;"),
        "pretty JSON: {page}"
    );
    // Its attempts: each failed one with its error and worker.
    let attempts_table = page
        .split("<table class=\"attempts\">")
        .nth(1)
        .unwrap_or("");
    assert!(
        attempts_table.contains("dead")
            && attempts_table.contains(&format!(":{}", std::process::id())),
        "{backend}: {page}"
    );
    let detail = api(&http, &session, &format!("/console/api/deliveries/{dead}")).await;
    let history = detail["attempts_history"].as_array().unwrap();
    assert!(!history.is_empty(), "{detail}");
    assert!(
        history.iter().all(|a| a["error"]
            .as_str()
            .unwrap_or_default()
            .contains("downstream answered 500")),
        "{detail}"
    );
    let (status, _) = http.page("/console/deliveries/999999", &session).await;
    assert_eq!(status, 404);

    // Retry one dead letter: its handler runs.
    stack.handlers.heal("evt_dead_0");
    let retried = http
        .post(
            &format!("/console/deliveries/{dead}/retry"),
            Some(&session.cookie),
            Some(&stack.base),
            &[("csrf", &session.csrf)],
        )
        .await;
    assert_eq!(retried.status(), 303);
    stack.wait_state("evt_dead_0", EntryState::Done).await;
    assert_eq!(stack.handlers.handled("evt_dead_0"), 1);
    // A done delivery runs again only when that is confirmed.
    let unconfirmed = http
        .post(
            &format!("/console/deliveries/{dead}/retry"),
            Some(&session.cookie),
            Some(&stack.base),
            &[("csrf", &session.csrf)],
        )
        .await;
    assert_eq!(unconfirmed.status(), 409);
    assert!(unconfirmed
        .text()
        .await
        .unwrap()
        .contains("handled already"));
    let confirmed = http
        .post(
            &format!("/console/deliveries/{dead}/retry"),
            Some(&session.cookie),
            Some(&stack.base),
            &[("csrf", &session.csrf), ("force", "true")],
        )
        .await;
    assert_eq!(confirmed.status(), 303);
    wait_until("the handler to run again", || async {
        (stack.handlers.handled("evt_dead_0") == 2).then_some(())
    })
    .await;

    // Bulk retry on a filter: the confirmation counts, the action runs them.
    stack.handlers.heal("evt_dead_1");
    stack.handlers.heal("evt_dead_2");
    let (_, confirm) = http.page("/console/bulk/retry?state=dead", &session).await;
    assert!(confirm.contains("Retry 2 deliveries?"), "{confirm}");
    let started = http
        .post(
            "/console/bulk/retry",
            Some(&session.cookie),
            Some(&stack.base),
            &[("csrf", &session.csrf), ("state", "dead")],
        )
        .await;
    assert_eq!(started.status(), 200);
    stack.wait_state("evt_dead_1", EntryState::Done).await;
    stack.wait_state("evt_dead_2", EntryState::Done).await;
    let overview = api(&http, &session, "/console/api/overview").await;
    assert_eq!(overview["counts"]["dead"], 0, "{backend}: {overview}");
    // The charts' minutes count what the workers ran: every delivery
    // handled once, the dead letters retried and handled once more.
    let minutes = overview["activity"]["minutes"].as_array().unwrap();
    let total = |field: &str| {
        minutes
            .iter()
            .map(|m| m[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(total("handled"), 7 + 1 + 1 + 2, "{backend}: {overview}");
    assert!(total("dead") >= 3, "{backend}: {overview}");

    // One done delivery purged: it is gone, with its attempts.
    let purged = http
        .post(
            &format!("/console/deliveries/{dead}/purge"),
            Some(&session.cookie),
            Some(&stack.base),
            &[("csrf", &session.csrf)],
        )
        .await;
    assert_eq!(purged.status(), 303, "{backend}");
    let (status, _) = http
        .page(&format!("/console/deliveries/{dead}"), &session)
        .await;
    assert_eq!(status, 404, "{backend}");
    // Pending and running deliveries are not bulk-retried or purged.
    let (status, _) = http
        .page("/console/bulk/retry?state=pending", &session)
        .await;
    assert_eq!(status, 400);
    let (status, _) = http
        .page("/console/bulk/purge?state=running", &session)
        .await;
    assert_eq!(status, 400);
}
