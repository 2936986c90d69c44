//! Secrets: rotation on either side, the key taken as text, mistakes reported.

use costkatana_webhooks::signing::{sign, signature_hex};
use costkatana_webhooks::{ErrorKind, Scheme, Secret, Verifier};

const NOW: i64 = 1_777_377_600_000;
const BODY: &[u8] = br#"{"eventId":"e1","eventType":"budget.warning"}"#;

#[test]
fn any_of_several_v1_signatures_may_match() {
    let secs = (NOW / 1000).to_string();
    let good = signature_hex("current-secret", &secs, BODY);
    let other1 = signature_hex("retired-secret-1", &secs, BODY);
    let other2 = signature_hex("retired-secret-2", &secs, BODY);
    let verifier = Verifier::builder()
        .secret("current-secret")
        .build()
        .unwrap();
    for order in [
        [&good, &other1, &other2],
        [&other1, &good, &other2],
        [&other1, &other2, &good],
    ] {
        let value = format!("t={secs},v1={},v1={},v1={}", order[0], order[1], order[2]);
        let headers = [("X-CostKatana-Signature", value.as_str())];
        assert!(verifier.verify_at(&headers, BODY, NOW).is_ok(), "{value}");
    }
    let none = format!("t={secs},v1={other1},v1={other2}");
    let headers = [("X-CostKatana-Signature", none.as_str())];
    assert_eq!(
        verifier.verify_at(&headers, BODY, NOW).unwrap_err().kind(),
        ErrorKind::InvalidSignature
    );
}

#[test]
fn several_local_secrets_report_which_matched() {
    let verifier = Verifier::builder()
        .secret("newest")
        .secret("older")
        .secret("oldest")
        .build()
        .unwrap();
    for (index, secret) in ["newest", "older", "oldest"].into_iter().enumerate() {
        for scheme in Scheme::ALL {
            let headers = sign(scheme, secret, NOW, BODY);
            let verified = verifier.verify_at(&headers, BODY, NOW).unwrap();
            assert_eq!(verified.secret_index(), index, "{secret} under {scheme}");
        }
    }
    let headers = sign(Scheme::Current, "unknown", NOW, BODY);
    assert_eq!(
        verifier.verify_at(&headers, BODY, NOW).unwrap_err().kind(),
        ErrorKind::InvalidSignature
    );
}

#[test]
fn the_key_is_the_secret_text() {
    // A whsec_ prefix is part of the key.
    let prefixed = sign(Scheme::Current, "whsec_abc", NOW, BODY);
    assert!(Verifier::builder()
        .secret("whsec_abc")
        .build()
        .unwrap()
        .verify_at(&prefixed, BODY, NOW)
        .is_ok());
    assert!(Verifier::builder()
        .secret("abc")
        .build()
        .unwrap()
        .verify_at(&prefixed, BODY, NOW)
        .is_err());
    // A hex-looking secret is not decoded: "616263" is keyed as those six
    // characters, never as the bytes "abc" it would decode to.
    let verifier = Verifier::builder().secret("616263").build().unwrap();
    assert!(verifier
        .verify_at(&sign(Scheme::Current, "616263", NOW, BODY), BODY, NOW)
        .is_ok());
    assert_eq!(
        verifier
            .verify_at(&sign(Scheme::Current, "abc", NOW, BODY), BODY, NOW)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidSignature
    );
    // Nor is a base64-looking one ("YWJj" is "abc").
    let verifier = Verifier::builder().secret("YWJj").build().unwrap();
    assert_eq!(
        verifier
            .verify_at(&sign(Scheme::Current, "abc", NOW, BODY), BODY, NOW)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidSignature
    );
    // Non-ASCII secrets are keyed by their UTF-8 bytes.
    let unicode = "clé-secrète-✓";
    let verifier = Verifier::builder().secret(unicode).build().unwrap();
    assert!(verifier
        .verify_at(&sign(Scheme::Legacy, unicode, NOW, BODY), BODY, NOW)
        .is_ok());
}

#[test]
fn secret_mistakes_are_reported() {
    assert!(Secret::new("").unwrap_err().to_string().contains("empty"));
    for padded in [" s3cret", "s3cret ", "s3cret\n", "\ts3cret", "s3cret\r\n"] {
        let err = Secret::new(padded).unwrap_err();
        assert!(err.to_string().contains("whitespace"), "{padded:?}: {err}");
        assert!(
            !err.to_string().contains("s3cret"),
            "the message must not echo the secret"
        );
    }
    let padded = Secret::with_surrounding_whitespace(" s3cret ").unwrap();
    let verifier = Verifier::builder().secrets([padded]).build().unwrap();
    assert!(verifier
        .verify_at(&sign(Scheme::Current, " s3cret ", NOW, BODY), BODY, NOW)
        .is_ok());
    assert!(Verifier::builder()
        .build()
        .unwrap_err()
        .to_string()
        .contains("no webhook secret"));
    assert!(Verifier::builder()
        .secret("ok")
        .secret(" bad")
        .build()
        .is_err());
    assert_eq!(Secret::parse_list(" a , b ").unwrap().len(), 2);
    assert!(Secret::parse_list("a,,b").is_err());
}

#[test]
fn secrets_never_show_in_debug_output() {
    let secret = Secret::new("super-secret-value").unwrap();
    assert!(!format!("{secret:?}").contains("super-secret-value"));
    let verifier = Verifier::builder()
        .secret("super-secret-value")
        .build()
        .unwrap();
    assert!(!format!("{verifier:?}").contains("super-secret-value"));
}

#[test]
fn documented_rotation_on_both_sides() {
    // The sender lists two signatures, the receiver holds two secrets: the
    // index reported is that of the local secret, whichever v1 matched.
    let secs = (NOW / 1000).to_string();
    let header = format!(
        "t={secs},v1={},v1={}",
        signature_hex("sender-old", &secs, BODY),
        signature_hex("sender-new", &secs, BODY)
    );
    let headers = [("X-CostKatana-Signature", header.as_str())];
    for (secrets, index) in [
        (["sender-new", "unrelated"], 0),
        (["unrelated", "sender-old"], 1),
        (["sender-old", "sender-new"], 0),
    ] {
        let verifier = Verifier::builder()
            .secret(secrets[0])
            .secret(secrets[1])
            .build()
            .unwrap();
        let verified = verifier.verify_at(&headers, BODY, NOW).unwrap();
        assert_eq!(verified.secret_index(), index, "{secrets:?}");
    }
}

#[test]
fn eight_v1_entries_are_accepted_nine_are_not() {
    let secs = (NOW / 1000).to_string();
    let good = signature_hex("s3cret", &secs, BODY);
    let other = signature_hex("other", &secs, BODY);
    let verifier = Verifier::builder().secret("s3cret").build().unwrap();
    let header = |n: usize| {
        let mut value = format!("t={secs}");
        for _ in 1..n {
            value.push_str(&format!(",v1={other}"));
        }
        value.push_str(&format!(",v1={good}"));
        value
    };
    let eight = header(8);
    assert!(verifier
        .verify_at(&[("X-CostKatana-Signature", eight.as_str())], BODY, NOW)
        .is_ok());
    let nine = header(9);
    let err = verifier
        .verify_at(&[("X-CostKatana-Signature", nine.as_str())], BODY, NOW)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedSignature);
    assert!(err.message().contains("more than 8 signatures"), "{err}");
}

#[test]
fn secret_list_from_an_environment_variable() {
    let verifier = Verifier::builder()
        .secrets(Secret::parse_list("whsec_new,\twhsec_old\n").unwrap())
        .build()
        .unwrap();
    let verified = verifier
        .verify_at(&sign(Scheme::Current, "whsec_old", NOW, BODY), BODY, NOW)
        .unwrap();
    assert_eq!(verified.secret_index(), 1);
    assert!(Secret::parse_list("").is_err());
    assert!(Secret::parse_list(" , ").is_err());
}
