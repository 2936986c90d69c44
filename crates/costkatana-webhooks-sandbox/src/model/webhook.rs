//! A webhook as the sandbox keeps it, and the shapes the live API answers
//! with for it (each route shows a different subset).

use serde_json::{json, Map, Value};

use super::id::Id;
use crate::js;

/// The version every webhook reports (the live schema's default).
const VERSION: &str = "1.0.0";

/// How a webhook's failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RetryConfig {
    /// 0–10; 0 is read as 3 when a delivery is made.
    pub(crate) max_retries: f64,
    /// 1–5.
    pub(crate) backoff_multiplier: f64,
    /// 1000–60000 ms.
    pub(crate) initial_delay: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 3.0,
            backoff_multiplier: 2.0,
            initial_delay: 5000.0,
        }
    }
}

impl RetryConfig {
    fn to_json(self) -> Value {
        json!({
            "maxRetries": js::number(self.max_retries),
            "backoffMultiplier": js::number(self.backoff_multiplier),
            "initialDelay": js::number(self.initial_delay),
        })
    }
}

/// How the sender authenticates to the receiver. The credentials are never
/// shown again: answers say only whether there are any.
#[derive(Clone, PartialEq)]
pub(crate) struct Auth {
    /// `none`, `basic`, `bearer`, `custom_header` or `oauth2`.
    pub(crate) kind: String,
    /// As given (known keys only).
    pub(crate) credentials: Option<Map<String, Value>>,
}

impl Auth {
    /// The header the sender adds for it, if any: `Basic` with a username
    /// and a password, `Bearer` with a token, a custom header with its
    /// name and value; nothing for `none`, `oauth2` or missing parts.
    pub(crate) fn header(&self) -> Option<(String, String)> {
        let credentials = self.credentials.as_ref()?;
        let text = |key: &str| {
            credentials
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        match self.kind.as_str() {
            "basic" => {
                use base64::Engine as _;
                let pair = format!("{}:{}", text("username")?, text("password")?);
                let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                Some(("Authorization".into(), format!("Basic {encoded}")))
            }
            "bearer" => Some(("Authorization".into(), format!("Bearer {}", text("token")?))),
            "custom_header" => Some((text("headerName")?.into(), text("headerValue")?.into())),
            _ => None,
        }
    }
}

/// What a webhook's deliveries did, as the live service counts them on the
/// webhook itself: each attempt that settles a delivery (a success or a
/// final failure) moves them.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct WebhookStats {
    pub(crate) total: u64,
    pub(crate) successful: u64,
    pub(crate) failed: u64,
    pub(crate) last_delivery_at: Option<i64>,
    pub(crate) last_success_at: Option<i64>,
    pub(crate) last_failure_at: Option<i64>,
    /// Really the last success's response time, as on the live service.
    pub(crate) average_response_time: Option<u64>,
}

impl WebhookStats {
    fn to_json(&self) -> Value {
        let mut stats = json!({
            "totalDeliveries": self.total,
            "successfulDeliveries": self.successful,
            "failedDeliveries": self.failed,
        });
        let fields = [
            ("lastDeliveryAt", self.last_delivery_at.map(js::date)),
            ("lastSuccessAt", self.last_success_at.map(js::date)),
            ("lastFailureAt", self.last_failure_at.map(js::date)),
            (
                "averageResponseTime",
                self.average_response_time.map(Value::from),
            ),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                stats[key] = value;
            }
        }
        stats
    }
}

/// A webhook.
#[derive(Clone)]
pub(crate) struct Webhook {
    pub(crate) id: Id,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) url: String,
    pub(crate) events: Vec<String>,
    pub(crate) active: bool,
    pub(crate) auth: Option<Auth>,
    pub(crate) filters: Option<Value>,
    pub(crate) headers: Option<Vec<(String, String)>>,
    pub(crate) payload_template: Option<String>,
    pub(crate) use_default_payload: bool,
    /// 64 hex characters; only ever shown masked, except by the sandbox's
    /// own dashboard route.
    pub(crate) secret: String,
    /// Per attempt, in ms.
    pub(crate) timeout: f64,
    pub(crate) retry: RetryConfig,
    pub(crate) stats: WebhookStats,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl Webhook {
    /// `****` and the secret's last 4 characters.
    pub(crate) fn masked_secret(&self) -> String {
        let tail: String = {
            let chars: Vec<char> = self.secret.chars().collect();
            chars[chars.len().saturating_sub(4)..].iter().collect()
        };
        format!("****{tail}")
    }

    /// `POST /api/webhooks`.
    pub(crate) fn created_view(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "name": self.name,
            "url": self.url,
            "events": self.events,
            "active": self.active,
            "secret": self.masked_secret(),
            "retryConfig": self.retry.to_json(),
            "createdAt": js::date(self.created_at),
        })
    }

    /// Each webhook of `GET /api/webhooks`.
    pub(crate) fn listed_view(&self) -> Value {
        let mut view = json!({
            "id": self.id.to_string(),
            "name": self.name,
            "url": self.url,
            "events": self.events,
            "active": self.active,
            "version": VERSION,
            "retryConfig": self.retry.to_json(),
            "stats": self.stats.to_json(),
            "createdAt": js::date(self.created_at),
            "updatedAt": js::date(self.updated_at),
        });
        if let Some(description) = &self.description {
            view["description"] = description.as_str().into();
        }
        view
    }

    /// `GET /api/webhooks/:id`.
    pub(crate) fn detailed_view(&self) -> Value {
        let mut view = self.listed_view();
        view["useDefaultPayload"] = self.use_default_payload.into();
        view["secret"] = self.masked_secret().into();
        view["timeout"] = js::number(self.timeout);
        if let Some(auth) = &self.auth {
            view["auth"] =
                json!({ "type": auth.kind, "hasCredentials": auth.credentials.is_some() });
        }
        if let Some(filters) = &self.filters {
            view["filters"] = filters.clone();
        }
        if let Some(headers) = &self.headers {
            let headers: Map<String, Value> = headers
                .iter()
                .map(|(name, value)| (name.clone(), Value::from(value.as_str())))
                .collect();
            view["headers"] = headers.into();
        }
        if let Some(template) = &self.payload_template {
            view["payloadTemplate"] = template.as_str().into();
        }
        view
    }

    /// `PUT /api/webhooks/:id`.
    pub(crate) fn updated_view(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "name": self.name,
            "url": self.url,
            "events": self.events,
            "active": self.active,
            "version": VERSION,
            "retryConfig": self.retry.to_json(),
            "updatedAt": js::date(self.updated_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(kind: &str, credentials: Value) -> Auth {
        Auth {
            kind: kind.into(),
            credentials: credentials.as_object().cloned(),
        }
    }

    #[test]
    fn auth_headers_as_the_sender_adds_them() {
        let basic = auth("basic", json!({"username": "u", "password": "p"}));
        assert_eq!(
            basic.header(),
            Some(("Authorization".into(), "Basic dTpw".into()))
        );
        let bearer = auth("bearer", json!({"token": "t0ken"}));
        assert_eq!(
            bearer.header(),
            Some(("Authorization".into(), "Bearer t0ken".into()))
        );
        let custom = auth(
            "custom_header",
            json!({"headerName": "X-Key", "headerValue": "v"}),
        );
        assert_eq!(custom.header(), Some(("X-Key".into(), "v".into())));
        assert_eq!(auth("basic", json!({"username": "u"})).header(), None);
        assert_eq!(auth("oauth2", json!({"token": "t"})).header(), None);
        assert_eq!(auth("none", json!({"token": "t"})).header(), None);
    }
}
