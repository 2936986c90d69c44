#!/usr/bin/env python3
"""Writes tests/data/vectors_extra.json: signed requests made with Python's
hmac (not with the crate's signer), each with the outcome a receiver must
give. Deterministic: tests/interop.rs re-runs this and compares the output
with the committed file.

    python3 tests/interop/make_vectors.py > tests/data/vectors_extra.json
"""

import hashlib
import hmac
import json

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TS_MS = 1777377600000
TS_S = TS_MS // 1000
TOLERANCE_MS = 300_000

CAMEL = (
    '{"eventId":"cost_alert_7d9c","eventType":"cost.alert",'
    '"occurredAt":"2026-04-28T12:00:00.000Z","userId":"65f0c0ffee0000000000beef",'
    '"data":{"title":"Daily cost","description":"Current: $125.50","severity":"high",'
    '"cost":{"amount":125.50,"currency":"USD","period":"daily"}}}'
)
SNAKE = (
    '{"event_id":"evt_abc123","event_type":"budget.warning",'
    '"occurred_at":"2024-01-15T10:30:00Z","severity":"high","title":"Budget 90% used",'
    '"data":{"budget":{"percentUsed":91.5}}}'
)
TEMPLATE = json.dumps('{"text": "cost.alert: &lt;b&gt;over&lt;/b&gt; budget"}')
BINARY = b"\xff\xfe\x00\x80 not UTF-8 \xc3\x28"


def mac(secret, timestamp, body):
    data = body if isinstance(body, bytes) else body.encode()
    return hmac.new(secret.encode(), timestamp.encode() + b"." + data, hashlib.sha256).hexdigest()


def headers(scheme, secret, body, ts_ms=TS_MS, hexdigest=None):
    if scheme == "documented":
        ts = str(ts_ms // 1000)
        sig = hexdigest or mac(secret, ts, body)
        return {"X-CostKatana-Signature": f"t={ts},v1={sig}"}
    ts = str(ts_ms)
    sig = hexdigest or mac(secret, ts, body)
    if scheme == "current":
        return {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": sig}
    return {"X-CostKatana-Timestamp": ts, "X-CostKatana-Signature": "sha256=" + sig}


def vector(name, scheme, hdrs, body, expect, now_ms=TS_MS + 1000, secrets=(SECRET,), **extra):
    v = {"name": name, "scheme": scheme, "secrets": list(secrets), "now_ms": now_ms, "headers": hdrs}
    if isinstance(body, bytes):
        v["body_hex"] = body.hex()
    else:
        v["body"] = body
    v["expect"] = expect
    v.update(extra)
    return v


def per_scheme(scheme):
    valid = headers(scheme, SECRET, CAMEL)
    sig_name = "X-Webhook-Signature" if scheme == "current" else "X-CostKatana-Signature"
    flipped = dict(valid)
    last = flipped[sig_name][-1]
    flipped[sig_name] = flipped[sig_name][:-1] + ("1" if last == "0" else "0")
    ts_text = str(TS_S) if scheme == "documented" else str(TS_MS)
    upper = headers(scheme, SECRET, CAMEL, hexdigest=mac(SECRET, ts_text, CAMEL).upper())
    lower_names = {k.lower(): v for k, v in valid.items()}
    event = {"event_id": "cost_alert_7d9c", "event_type": "cost.alert"}
    return [
        vector(f"{scheme}-valid-camel", scheme, valid, CAMEL, "valid", **event),
        vector(f"{scheme}-valid-snake", scheme, headers(scheme, SECRET, SNAKE), SNAKE, "valid",
               event_id="evt_abc123", event_type="budget.warning"),
        vector(f"{scheme}-template", scheme, headers(scheme, SECRET, TEMPLATE), TEMPLATE, "valid",
               payload="template"),
        vector(f"{scheme}-non-utf8-body", scheme, headers(scheme, SECRET, BINARY), BINARY, "valid",
               payload="not_json"),
        vector(f"{scheme}-json-array", scheme, headers(scheme, SECRET, "[1,2,3]"), "[1,2,3]", "valid",
               payload="json"),
        vector(f"{scheme}-empty-body", scheme, headers(scheme, SECRET, ""), "", "valid", payload="not_json"),
        vector(f"{scheme}-upper-case-hex", scheme, upper, CAMEL, "valid", **event),
        vector(f"{scheme}-lower-case-header-names", scheme, lower_names, CAMEL, "valid", **event),
        vector(f"{scheme}-with-sender-headers", scheme,
               {**valid, "Content-Type": "application/json", "User-Agent": "CostKatana-Webhook/1.0",
                "X-Webhook-Event-Type": "webhook-delivery", "Authorization": "Bearer t0ken"},
               CAMEL, "valid", **event),
        vector(f"{scheme}-re-serialised-body", scheme, valid, CAMEL.replace("125.50", "125.5"),
               "invalid_signature"),
        vector(f"{scheme}-trailing-newline", scheme, valid, CAMEL + "\n", "invalid_signature"),
        vector(f"{scheme}-tampered-signature", scheme, flipped, CAMEL, "invalid_signature"),
        vector(f"{scheme}-wrong-secret", scheme, headers(scheme, "whsec_other", CAMEL), CAMEL,
               "invalid_signature"),
        vector(f"{scheme}-at-past-edge", scheme, valid, CAMEL, "valid", now_ms=TS_MS + TOLERANCE_MS, **event),
        vector(f"{scheme}-1ms-stale", scheme, valid, CAMEL, "stale_timestamp", now_ms=TS_MS + TOLERANCE_MS + 1),
        vector(f"{scheme}-at-future-edge", scheme, valid, CAMEL, "valid", now_ms=TS_MS - TOLERANCE_MS, **event),
        vector(f"{scheme}-1ms-future", scheme, valid, CAMEL, "future_timestamp", now_ms=TS_MS - TOLERANCE_MS - 1),
        vector(f"{scheme}-late-retry-with-2h-tolerance", scheme, valid, CAMEL, "valid",
               now_ms=TS_MS + 90 * 60_000, past_tolerance_ms=2 * 3600_000, **event),
        vector(f"{scheme}-30-day-replay-check-off", scheme, valid, CAMEL, "valid",
               now_ms=TS_MS + 30 * 86_400_000, timestamp_check=False, **event),
        vector(f"{scheme}-rotation-second-local-secret", scheme, valid, CAMEL, "valid",
               secrets=["whsec_new", SECRET], secret_index=1, **event),
    ]


def malformed():
    sig = mac(SECRET, str(TS_MS), CAMEL)
    cur = lambda ts, s=sig: {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": s}
    doc = lambda value: {"X-CostKatana-Signature": value}
    cases = [
        ("current-non-hex-signature", "current", cur(str(TS_MS), "g" * 64)),
        ("current-63-hex", "current", cur(str(TS_MS), sig[:63])),
        ("current-66-hex", "current", cur(str(TS_MS), sig + "00")),
        ("current-signature-without-timestamp", "current", {"X-Webhook-Signature": sig}),
        ("current-negative-timestamp", "current", cur("-" + str(TS_MS))),
        ("current-40-digit-timestamp", "current", cur("9" * 40)),
        ("current-non-digit-timestamp", "current", cur("1777377600000ms")),
        ("current-decimal-timestamp", "current", cur("1777377600000.0")),
        ("current-plus-timestamp", "current", cur("+1777377600000")),
        ("current-overlong-signature", "current", cur(str(TS_MS), sig * 17)),
        ("legacy-sha1-prefix", "legacy",
         {"X-CostKatana-Timestamp": str(TS_MS), "X-CostKatana-Signature": "sha1=" + sig}),
        ("legacy-sha256-without-timestamp", "legacy", {"X-CostKatana-Signature": "sha256=" + sig}),
        ("legacy-sha256-short", "legacy",
         {"X-CostKatana-Timestamp": str(TS_MS), "X-CostKatana-Signature": "sha256=" + sig[:40]}),
        ("documented-two-t", "documented", doc(f"t={TS_S},t={TS_S},v1={sig}")),
        ("documented-no-v1", "documented", doc(f"t={TS_S},v0={sig}")),
        ("documented-no-t", "documented", doc(f"v1={sig}")),
        ("documented-entry-without-equals", "documented", doc(f"t={TS_S},{sig}")),
        ("documented-t-in-ms", "documented", doc(f"t={TS_MS},v1={sig}")),
        ("documented-negative-t", "documented", doc(f"t=-{TS_S},v1={sig}")),
        ("documented-v1-not-hex", "documented", doc(f"t={TS_S},v1=" + "z" * 64)),
        ("documented-empty-value", "documented", doc("")),
        ("documented-only-commas", "documented", doc(",,,")),
        ("documented-overlong", "documented", doc(f"t={TS_S},v1={sig},pad=" + "a" * 1100)),
        ("documented-nine-v1", "documented", doc(f"t={TS_S}" + f",v1={sig}" * 9)),
    ]
    return [vector(name, scheme, hdrs, CAMEL, "malformed_signature") for name, scheme, hdrs in cases]


def others():
    camel_doc = headers("documented", SECRET, CAMEL)
    ts = str(TS_S)
    good = mac(SECRET, ts, CAMEL)
    bad1, bad2 = mac("whsec_old1", ts, CAMEL), mac("whsec_old2", ts, CAMEL)
    event = {"event_id": "cost_alert_7d9c", "event_type": "cost.alert"}
    out = [
        vector("no-signature-headers", "current", {"Content-Type": "application/json"}, CAMEL,
               "missing_signature"),
        vector("timestamp-header-only", "current", {"X-Webhook-Timestamp": str(TS_MS)}, CAMEL,
               "missing_signature"),
        vector("pinned-current-gets-documented", "current", camel_doc, CAMEL, "missing_signature",
               pinned="current"),
        vector("pinned-documented-gets-current", "documented", headers("current", SECRET, CAMEL), CAMEL,
               "missing_signature", pinned="documented"),
        vector("legacy-bare-hex", "legacy",
               {"X-CostKatana-Timestamp": str(TS_MS), "X-CostKatana-Signature": mac(SECRET, str(TS_MS), CAMEL)},
               CAMEL, "valid", **event),
        vector("documented-spaces", "documented", {"X-CostKatana-Signature": f"t={ts}, v1={good}"},
               CAMEL, "valid", **event),
        vector("documented-reversed", "documented", {"X-CostKatana-Signature": f"v1={good},t={ts}"},
               CAMEL, "valid", **event),
        vector("documented-unknown-keys", "documented",
               {"X-CostKatana-Signature": f"t={ts},v0=00,scheme=hmac-sha256,v1={good}"},
               CAMEL, "valid", **event),
    ]
    for position, sigs in (("first", [good, bad1, bad2]), ("middle", [bad1, good, bad2]),
                           ("last", [bad1, bad2, good])):
        value = f"t={ts}," + ",".join("v1=" + s for s in sigs)
        out.append(vector(f"documented-rotation-match-{position}", "documented",
                          {"X-CostKatana-Signature": value}, CAMEL, "valid", **event))
    out.append(vector("documented-rotation-no-match", "documented",
                      {"X-CostKatana-Signature": f"t={ts},v1={bad1},v1={bad2}"}, CAMEL,
                      "invalid_signature"))
    # The key is the secret text: prefix kept, hex never decoded.
    out.append(vector("whsec-prefix-not-stripped", "current", headers("current", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CAMEL),
                      CAMEL, "invalid_signature"))
    out.append(vector("hex-secret-not-decoded", "current", headers("current", "abc", CAMEL),
                      CAMEL, "invalid_signature", secrets=["616263"]))
    out.append(vector("hex-secret-as-text", "current", headers("current", "616263", CAMEL),
                      CAMEL, "valid", secrets=["616263"], **event))
    out.append(vector("unicode-secret", "legacy", headers("legacy", "clé-secrète-✓", CAMEL),
                      CAMEL, "valid", secrets=["clé-secrète-✓"], **event))
    for name, raw, canonical in (("alias-savings", "savings.milestone_reached", "savings.milestone"),
                                 ("alias-usage", "usage.spike_detected", "usage.spike"),
                                 ("unknown-type", "billing.invoice_paid", "billing.invoice_paid")):
        body = json.dumps({"eventId": name, "eventType": raw, "data": {}}, separators=(",", ":"))
        out.append(vector(name, "current", headers("current", SECRET, body), body, "valid",
                          event_id=name, event_type=canonical))
    return out


def main():
    vectors = []
    for scheme in ("current", "legacy", "documented"):
        vectors += per_scheme(scheme)
    vectors += malformed() + others()
    doc = {
        "about": "Made by tests/interop/make_vectors.py with Python's hmac. 'secrets' are the "
                 "verifier's secrets in order; 'body' is UTF-8 text or 'body_hex' raw bytes; "
                 "optional: pinned, past_tolerance_ms, timestamp_check, secret_index, payload.",
        "vectors": vectors,
    }
    print(json.dumps(doc, indent=1, ensure_ascii=False))


main()
