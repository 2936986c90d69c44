//! The real binary reads `PAGERDUTY_URL` (and `PAGERDUTY_ROUTING_KEY`):
//! a `security.alert` becomes a trigger posted there, in inbox mode too.

mod support;

use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::EventType;
use support::{client, now_ms, Alerts, Delivery, Reply, Slack, TempDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_alert_is_posted_to_pagerduty_url() {
    // The capture server's lane "pagerduty" stands in for PagerDuty.
    let capture = Slack::start(|_lane, _id, _before| Reply::Status(202)).await;
    let dir = TempDir::new("alerts-pagerduty");
    let alerts = Alerts::start(&[
        ("INBOX_URL", &dir.sqlite_url()),
        ("PAGERDUTY_ROUTING_KEY", "routing-key-1"),
        ("PAGERDUTY_URL", &capture.url("pagerduty")),
    ]);
    let body = sample_event(
        &EventType::SecurityAlert,
        Shape::Camel,
        "evt_pd_bin",
        now_ms(),
    );
    let (status, answer) = Delivery::new(body)
        .send(&client(), &alerts.webhook_url())
        .await;
    assert_eq!(status, 200, "{answer}");
    capture
        .wait_until("the trigger on the PAGERDUTY_URL lane", |hits| {
            hits.iter().any(|h| h.lane == "pagerduty")
        })
        .await;
    alerts.stop();
}
