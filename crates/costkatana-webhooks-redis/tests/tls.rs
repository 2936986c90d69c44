//! `rediss://`: TLS to a redis-server whose certificate a private CA signed
//! (made here with the `openssl` command), trusted through
//! `tls_root_certificate`; refused, with a clear error, otherwise.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use costkatana_webhooks::dedupe::{Claim, DedupeStore};
use costkatana_webhooks_redis::RedisStore;
use support::RedisServer;

const LEASE: Duration = Duration::from_secs(60);

/// A CA and a server certificate for 127.0.0.1 and localhost, in a temp
/// dir; `None` (after saying why) without `openssl`, except under CI.
struct Certificates {
    dir: PathBuf,
}

impl Certificates {
    fn make() -> Option<Certificates> {
        if Command::new("openssl").arg("version").output().is_err() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "openssl is required under CI=true but is not installed"
            );
            eprintln!("SKIPPED: openssl is not installed, so the TLS test did not run");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("ckw-redis-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let steps: [&[&str]; 3] = [
            &[
                &["req", "-x509", "-days", "2", "-subj", "/CN=test-ca"][..],
                &ec,
                &["-keyout", "ca.key", "-out", "ca.pem"],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign"],
            ]
            .concat(),
            &[
                &["req", "-subj", "/CN=localhost"][..],
                &ec,
                &["-keyout", "server.key", "-out", "server.csr"],
            ]
            .concat(),
            &[
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-extfile",
                "server.ext",
            ],
        ];
        for args in steps {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Some(Certificates { dir })
    }

    fn path(&self, name: &str) -> String {
        Path::new(&self.dir).join(name).display().to_string()
    }
}

impl Drop for Certificates {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn rediss_with_a_private_ca() {
    let Some(certificates) = Certificates::make() else {
        return;
    };
    let tls_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let (cert, key, ca) = (
        certificates.path("server.pem"),
        certificates.path("server.key"),
        certificates.path("ca.pem"),
    );
    let Some(_server) = RedisServer::start_with(&[
        "--tls-port",
        &tls_port,
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-auth-clients",
        "no",
    ]) else {
        return;
    };
    let ca_pem = std::fs::read(&ca).unwrap();
    // The application's choice of provider, made once (see the builder's docs).
    let _ = costkatana_webhooks_redis::rustls::crypto::ring::default_provider().install_default();

    for host in ["127.0.0.1", "localhost"] {
        let store = RedisStore::builder(&format!("rediss://{host}:{tls_port}/0"))
            .tls_root_certificate(ca_pem.clone())
            .build()
            .await
            .unwrap();
        let key = format!("ns:event:{host}");
        assert!(matches!(
            store.claim(&key, LEASE).await.unwrap(),
            Claim::Fresh(_)
        ));
        assert_eq!(store.claim(&key, LEASE).await.unwrap(), Claim::InFlight);
    }

    // The web PKI roots do not know this CA: refused, clearly, no panic.
    let err = RedisStore::connect(&format!("rediss://127.0.0.1:{tls_port}/0"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot connect to Redis at rediss://127.0.0.1")
            && err.contains("UnknownIssuer"),
        "{err}"
    );
    // A root certificate needs a rediss:// URL and a certificate in it.
    let err = RedisStore::builder(&format!("redis://127.0.0.1:{tls_port}/0"))
        .tls_root_certificate(ca_pem)
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("rediss://"), "{err}");
    let err = RedisStore::builder(&format!("rediss://127.0.0.1:{tls_port}/0"))
        .tls_root_certificate(b"not a certificate".to_vec())
        .build()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no PEM certificate"), "{err}");
}
