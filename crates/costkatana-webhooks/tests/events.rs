//! Bodies: both field spellings, every type, aliases, unknown types,
//! templates, non-events, non-UTF-8 and the user's own types.

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{
    Budget, Category, Cost, Event, EventType, Metrics, Payload, Resource, Scheme, Severity,
    Verifier,
};

const NOW: i64 = 1_777_377_600_000;

fn verify(body: &[u8]) -> costkatana_webhooks::Verified {
    let headers = sign(Scheme::Current, "s3cret", NOW, body);
    Verifier::builder()
        .secret("s3cret")
        .build()
        .unwrap()
        .verify_at(&headers, body.to_vec(), NOW)
        .unwrap()
}

#[test]
fn display_and_from_str_round_trip() {
    assert_eq!(EventType::KNOWN.len(), 57);
    for ty in EventType::KNOWN {
        assert_eq!(ty.to_string().parse::<EventType>().unwrap(), ty);
        assert_eq!(
            ty.category().as_str(),
            ty.as_str().split('.').next().unwrap()
        );
        assert!(!matches!(ty.category(), Category::Other(_)), "{ty}");
    }
    assert_eq!(Category::KNOWN.len(), 21);
    assert_eq!(
        "savings.milestone_reached".parse::<EventType>().unwrap(),
        EventType::SavingsMilestone
    );
    assert_eq!(
        "usage.spike_detected".parse::<EventType>().unwrap(),
        EventType::UsageSpike
    );
    let json: EventType = serde_json::from_str(r#""usage.spike_detected""#).unwrap();
    assert_eq!(serde_json::to_string(&json).unwrap(), r#""usage.spike""#);
}

#[test]
fn unknown_types_are_delivered() {
    let verified = verify(br#"{"eventId":"e9","eventType":"billing.invoice_paid","data":{}}"#);
    let event = verified.event().unwrap();
    assert_eq!(
        event.event_type,
        EventType::Other("billing.invoice_paid".into())
    );
    assert_eq!(
        event.event_type.category(),
        Category::Other("billing".into())
    );
    assert_eq!(event.event_type.to_string(), "billing.invoice_paid");
}

#[test]
fn camel_and_snake_read_alike() {
    let camel = Event::from_slice(
        br#"{"eventId":"e1","eventType":"cost.spike_detected","occurredAt":"2026-04-28T12:00:00.000Z",
        "userId":"u1","projectId":"p1","data":{"title":"Spike","description":"d","severity":"critical",
        "metrics":{"changePercentage":520.0,"current":null},"resource":{"type":"project","id":"p1","name":"Prod"},
        "warningThreshold":90},"metadata":{"k":"v"}}"#,
    )
    .unwrap();
    let snake = Event::from_slice(
        br#"{"event_id":"e1","event_type":"cost.spike_detected","occurred_at":"2026-04-28T12:00:00.000Z",
        "user_id":"u1","project_id":"p1","severity":"critical","title":"Spike","description":"d",
        "data":{"spike":{"changePercentage":520.0},"resource":{"type":"project","id":"p1","name":"Prod"},
        "warningThreshold":90},"metadata":{"k":"v"}}"#,
    )
    .unwrap();
    for event in [&camel, &snake] {
        assert_eq!(event.id.as_deref(), Some("e1"));
        assert_eq!(event.project_id.as_deref(), Some("p1"));
        assert_eq!(event.severity, Some(Severity::Critical));
        assert_eq!(event.title.as_deref(), Some("Spike"));
        assert_eq!(event.data.metrics().unwrap().change_percentage, Some(520.0));
        assert_eq!(event.data.resource().unwrap().name.as_deref(), Some("Prod"));
        assert_eq!(
            event.data.get("warningThreshold").and_then(|v| v.as_u64()),
            Some(90)
        );
        assert_eq!(event.metadata.as_ref().unwrap()["k"], "v");
    }
    assert_eq!(
        camel.data.metrics().unwrap().current,
        None,
        "null (NaN on the sender) is None"
    );
}

#[test]
fn documented_examples_read() {
    let event = Event::from_slice(
        br#"{"event_id":"evt_abc123","event_type":"cost.alert","occurred_at":"2024-01-15T10:30:00Z",
        "severity":"high","title":"Daily Cost Threshold Exceeded","description":"Current: $125.50, Threshold: $100.00",
        "data":{"cost":{"amount":125.50,"threshold":100.00}}}"#,
    )
    .unwrap();
    let cost = event.data.cost().unwrap();
    assert_eq!((cost.amount, cost.threshold), (Some(125.5), Some(100.0)));
    let flat = Event::from_slice(br#"{"event_type":"cost.alert","data":{"amount":100}}"#).unwrap();
    assert_eq!(flat.id, None);
    assert_eq!(flat.data.cost().unwrap().amount, Some(100.0));
    let budget = Event::from_slice(
        br#"{"event_type":"budget.warning","data":{"budget":{"percentUsed":"91.5"}}}"#,
    )
    .unwrap();
    assert_eq!(
        budget.data.budget().unwrap().percent_used,
        Some(91.5),
        "numeric strings are read"
    );
}

#[test]
fn other_bodies_are_never_rejected() {
    let template = verify(br#""{\"text\": \"cost.alert: &lt;b&gt;over&lt;/b&gt;\"}""#);
    assert_eq!(
        template.payload(),
        &Payload::Template(r#"{"text": "cost.alert: &lt;b&gt;over&lt;/b&gt;"}"#.into())
    );
    assert!(matches!(verify(b"[1,2,3]").payload(), Payload::Json(_)));
    assert!(
        matches!(verify(br#"{"eventType":42}"#).payload(), Payload::Event(_)),
        "numbers as type text"
    );
    assert!(matches!(
        verify(br#"{"eventType":{"nested":1}}"#).payload(),
        Payload::Json(_)
    ));
    assert_eq!(verify(b"").payload(), &Payload::NotJson);
    let binary = verify(b"\xff\xfe\x00binary");
    assert_eq!(binary.payload(), &Payload::NotJson);
    assert_eq!(binary.body(), b"\xff\xfe\x00binary");
}

#[test]
fn user_types_through_json() {
    #[derive(Debug, serde::Deserialize)]
    struct Mine {
        #[serde(rename = "eventId")]
        id: String,
        data: std::collections::HashMap<String, serde_json::Value>,
    }
    let verified =
        verify(sample_event(&EventType::BudgetExceeded, Shape::Camel, "b1", NOW).as_bytes());
    let mine: Mine = verified.json().unwrap();
    assert_eq!(mine.id, "b1");
    assert!(mine.data.contains_key("budget"));
    let err = verify(b"not json").json::<Mine>().unwrap_err();
    assert!(err.to_string().contains("line 1"));
}

/// What `sample_event` puts in the data of each type, read back through the views.
struct Expect {
    title: &'static str,
    severity: Severity,
    cost: Option<(f64, &'static str, &'static str)>,
    metrics: Option<[f64; 5]>,
    budget: Option<[f64; 4]>,
    resource: Option<(&'static str, &'static str, &'static str)>,
    tags: &'static [&'static str],
}

fn expect(ty: &EventType) -> Expect {
    let project = Some(("project", "65f0c0ffee0000000000f00d", "Production"));
    let base = Expect {
        title: "Webhook Test",
        severity: Severity::Low,
        cost: None,
        metrics: None,
        budget: None,
        resource: project,
        tags: &[],
    };
    match ty {
        EventType::CostSpikeDetected => Expect {
            title: "Cost spike detected",
            severity: Severity::Critical,
            cost: Some((620.0, "USD", "daily")),
            metrics: Some([620.0, 100.0, f64::NAN, 520.0, 520.0]),
            ..base
        },
        EventType::BudgetWarning | EventType::BudgetExceeded => Expect {
            title: if *ty == EventType::BudgetWarning {
                "Budget 90% used"
            } else {
                "Budget exceeded"
            },
            severity: if *ty == EventType::BudgetWarning {
                Severity::High
            } else {
                Severity::Critical
            },
            cost: Some((1250.5, "USD", "monthly")),
            budget: Some([1000.0, 1250.5, -250.5, 125.05]),
            resource: None,
            ..base
        },
        EventType::OptimizationSuggested => Expect {
            title: "Switch summarisation to a smaller model",
            severity: Severity::Medium,
            resource: None,
            ..base
        },
        _ => match ty.category() {
            Category::Cost
            | Category::Savings
            | Category::Usage
            | Category::Token
            | Category::Api => Expect {
                title: "Cost threshold exceeded",
                severity: Severity::High,
                cost: Some((125.5, "USD", "daily")),
                metrics: Some([125.5, 80.0, 100.0, 45.5, 56.875]),
                resource: None,
                tags: &["cost", "production"],
                ..base
            },
            Category::Security | Category::Compliance | Category::Data | Category::Moderation => {
                Expect {
                    title: "Prompt injection attempt blocked",
                    severity: Severity::Critical,
                    tags: &["security"],
                    ..base
                }
            }
            Category::Model | Category::Quality => Expect {
                title: "Model latency above threshold",
                severity: Severity::High,
                metrics: Some([2400.0, 900.0, 2000.0, 1500.0, 166.7]),
                resource: Some(("model", "gpt-4", "gpt-4")),
                ..base
            },
            Category::Subscription => Expect {
                title: "Subscription updated",
                resource: Some(("subscription", "sub_42", "Pro")),
                ..base
            },
            _ => base,
        },
    }
}

fn check_cost(cost: Option<Cost>, want: Option<(f64, &str, &str)>, ctx: &str) {
    match (cost, want) {
        (None, None) => {}
        (Some(cost), Some((amount, currency, period))) => {
            assert_eq!(cost.amount, Some(amount), "{ctx}");
            assert_eq!(cost.currency.as_deref(), Some(currency), "{ctx}");
            assert_eq!(cost.period.as_deref(), Some(period), "{ctx}");
        }
        (got, want) => panic!("{ctx}: cost {got:?}, expected {want:?}"),
    }
}

fn check_metrics(metrics: Option<Metrics>, want: Option<[f64; 5]>, ctx: &str) {
    match (metrics, want) {
        (None, None) => {}
        (Some(m), Some([current, previous, threshold, change, pct])) => {
            assert_eq!(m.current, Some(current), "{ctx}");
            assert_eq!(m.previous, Some(previous), "{ctx}");
            // NaN marks "no threshold in this sample".
            assert_eq!(
                m.threshold,
                (!threshold.is_nan()).then_some(threshold),
                "{ctx}"
            );
            assert_eq!(m.change, Some(change), "{ctx}");
            assert_eq!(m.change_percentage, Some(pct), "{ctx}");
            assert!(m.unit.is_some(), "{ctx}");
        }
        (got, want) => panic!("{ctx}: metrics {got:?}, expected {want:?}"),
    }
}

fn check_budget(budget: Option<Budget>, want: Option<[f64; 4]>, ctx: &str) {
    match (budget, want) {
        (None, None) => {}
        (Some(b), Some([amount, spent, remaining, pct])) => {
            assert_eq!(b.amount, Some(amount), "{ctx}");
            assert_eq!(b.currency.as_deref(), Some("USD"), "{ctx}");
            assert_eq!(b.spent, Some(spent), "{ctx}");
            assert_eq!(b.remaining, Some(remaining), "{ctx}");
            assert_eq!(b.percent_used, Some(pct), "{ctx}");
        }
        (got, want) => panic!("{ctx}: budget {got:?}, expected {want:?}"),
    }
}

fn check_resource(resource: Option<Resource>, want: Option<(&str, &str, &str)>, ctx: &str) {
    let got = resource.map(|r| (r.kind, r.id, r.name));
    let want = want.map(|(k, i, n)| (Some(k.to_owned()), Some(i.to_owned()), Some(n.to_owned())));
    assert_eq!(got, want, "{ctx}");
}

#[test]
fn every_type_in_both_shapes_through_the_data_views() {
    for ty in EventType::KNOWN {
        let want = expect(&ty);
        for shape in [Shape::Camel, Shape::Snake] {
            let ctx = format!("{ty} {shape:?}");
            let id = format!("{}_6f1c2a3e", ty.as_str().replace('.', "_"));
            let verified = verify(sample_event(&ty, shape, &id, NOW).as_bytes());
            let event = verified.event().unwrap_or_else(|| panic!("{ctx}"));
            assert_eq!(event.id.as_deref(), Some(id.as_str()), "{ctx}");
            assert_eq!(verified.payload().event_id(), Some(id.as_str()), "{ctx}");
            assert_eq!(event.event_type, ty, "{ctx}");
            assert_eq!(
                event.occurred_at.as_deref(),
                Some("2026-04-28T12:00:00.000Z"),
                "{ctx}"
            );
            assert_eq!(
                event.user_id.as_deref(),
                Some("65f0c0ffee0000000000beef"),
                "{ctx}"
            );
            assert_eq!(event.title.as_deref(), Some(want.title), "{ctx}");
            assert_eq!(
                event.description.as_deref(),
                Some(format!("{} ({ty})", want.title).as_str()),
                "{ctx}"
            );
            assert_eq!(event.severity.as_ref(), Some(&want.severity), "{ctx}");
            assert_eq!(
                event.project_id.as_deref(),
                Some("65f0c0ffee0000000000f00d"),
                "{ctx}"
            );
            check_cost(event.data.cost(), want.cost, &ctx);
            check_metrics(event.data.metrics(), want.metrics, &ctx);
            check_budget(event.data.budget(), want.budget, &ctx);
            check_resource(event.data.resource(), want.resource, &ctx);
            assert_eq!(event.data.tags(), want.tags, "{ctx}");
            let links = event.data.links().unwrap();
            assert_eq!(links.dashboard.as_deref(), Some("/dashboard"), "{ctx}");
            assert_eq!(links.details.as_deref(), Some("/dashboard/alerts"), "{ctx}");
            assert!(links.actions.is_empty(), "{ctx}");
        }
    }
}

#[test]
fn alias_spellings_in_verified_bodies() {
    for (raw, ty) in [
        ("savings.milestone_reached", EventType::SavingsMilestone),
        ("usage.spike_detected", EventType::UsageSpike),
        ("savings.milestone", EventType::SavingsMilestone),
        ("usage.spike", EventType::UsageSpike),
    ] {
        for body in [
            format!(r#"{{"eventId":"e1","eventType":"{raw}","data":{{}}}}"#),
            format!(r#"{{"event_id":"e1","event_type":"{raw}","data":{{}}}}"#),
        ] {
            let verified = verify(body.as_bytes());
            let event = verified.event().unwrap();
            assert_eq!(event.event_type, ty, "{body}");
            // The canonical spelling is what a handler sees and what serializes.
            assert_eq!(event.event_type.to_string(), ty.as_str());
        }
    }
}

#[test]
fn unknown_types_keep_their_text_and_category() {
    for (raw, category) in [
        ("billing.invoice_paid", Category::Other("billing".into())),
        ("cost.forecast_exceeded", Category::Cost),
        ("ping", Category::Other("ping".into())),
        ("Cost.Alert", Category::Other("Cost".into())),
    ] {
        let ty: EventType = raw.parse().unwrap();
        assert_eq!(ty, EventType::Other(raw.into()));
        assert_eq!(ty.category(), category, "{raw}");
        assert_eq!(ty.to_string(), raw);
        assert_eq!(serde_json::to_string(&ty).unwrap(), format!("\"{raw}\""));
    }
    for category in Category::KNOWN {
        assert_eq!(category.to_string().parse::<Category>().unwrap(), category);
    }
}

#[test]
fn severities_read_in_any_case_and_unknown_ones_are_kept() {
    for (raw, want) in [
        ("low", Severity::Low),
        ("MEDIUM", Severity::Medium),
        ("High", Severity::High),
        ("critical", Severity::Critical),
        ("urgent", Severity::Other("urgent".into())),
    ] {
        let body = format!(r#"{{"eventType":"cost.alert","data":{{"severity":"{raw}"}}}}"#);
        assert_eq!(
            verify(body.as_bytes()).event().unwrap().severity,
            Some(want)
        );
    }
}
