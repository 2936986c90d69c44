//! The receiver's store, as catch-up needs it: a [`Receiver`] built (never
//! started) on the same store with the same secrets or namespace, whose
//! [`ReplayLedger`] records the replays asked for where the receiver will
//! look for them.

use costkatana_webhooks::receiver::ReplayLedger;
use costkatana_webhooks::{Payload, Receiver, ReceiverBuilder, Secret};
use costkatana_webhooks_inbox::{InboxBuilder, InboxUrl};
use costkatana_webhooks_redis::{ConnectError, RedisStore};

use crate::commands::webhooks::CatchUpArgs;
use crate::error::{CliError, ErrorKind};

/// The ledger, and the store named for the report (never its password).
pub(super) struct Store {
    pub(super) ledger: ReplayLedger,
    pub(super) name: String,
}

/// Whether a store was given at all.
pub(super) fn given(args: &CatchUpArgs) -> bool {
    args.inbox_url.is_some() || args.redis_url.is_some()
}

/// The store given, opened without changing it; `None` when none was.
pub(super) async fn open(args: &CatchUpArgs) -> Result<Option<Store>, CliError> {
    if !given(args) {
        return Ok(None);
    }
    let receiver = receiver(args)?;
    let (receiver, name) = if let Some(url) = &args.inbox_url {
        let url = InboxUrl::parse(url.0.trim()).map_err(CliError::from)?;
        if let Some(path) = url.sqlite_path().filter(|path| !path.is_file()) {
            return Err(CliError::bad_input(format!(
                "there is no inbox file at {} (the receiver creates it when it starts)",
                path.display()
            )));
        }
        let name = format!("the inbox at {url}");
        let inbox = InboxBuilder::new(url).connect().await?;
        (receiver.inbox(inbox), name)
    } else {
        let url = args.redis_url.as_ref().map_or("", |url| url.0.trim());
        // rediss:// runs on rustls, whose crypto provider the program picks.
        let _ =
            costkatana_webhooks_redis::rustls::crypto::ring::default_provider().install_default();
        let mut builder = RedisStore::builder(url);
        if let Some(prefix) = &args.redis_prefix {
            builder = builder.prefix(prefix.as_str());
        }
        let store = builder.build().await.map_err(redis)?;
        (
            receiver.store(store),
            "the receiver's Redis store".to_owned(),
        )
    };
    let receiver = receiver
        .fallback(|_: Payload| async { Ok(()) })
        .build()
        .map_err(|err| CliError::bad_input(format!("cannot set up the receiver's store: {err}")))?;
    Ok(Some(Store {
        ledger: receiver.replay_ledger(),
        name,
    }))
}

/// A receiver keyed as the real one: by its secrets, or its namespace.
fn receiver(args: &CatchUpArgs) -> Result<ReceiverBuilder, CliError> {
    let builder = Receiver::builder();
    let secrets = args
        .secret
        .as_ref()
        .map(|text| text.0.trim())
        .filter(|text| !text.is_empty());
    match (secrets, &args.namespace) {
        (Some(text), namespace) => {
            let secrets = Secret::parse_list(text).map_err(|err| {
                CliError::bad_input(format!("--secret (COSTKATANA_WEBHOOK_SECRET): {err}"))
            })?;
            let builder = builder.secrets(secrets);
            Ok(match namespace {
                Some(namespace) => builder.namespace(namespace.as_str()),
                None => builder,
            })
        }
        // The namespace alone decides the keys; the secret only builds.
        (None, Some(namespace)) => Ok(builder
            .secret("catch-up-keys-by-namespace")
            .namespace(namespace.as_str())),
        (None, None) => Err(CliError::bad_input(
            "the receiver's store keys what it knows by the receiver's secrets: pass --secret \
             (or COSTKATANA_WEBHOOK_SECRET) with the receiver's secrets, comma-separated, or \
             --namespace when the receiver sets one",
        )),
    }
}

/// A Redis store that cannot be opened: a setting (exit 2) or a server
/// that does not answer (1). The error never holds the password.
fn redis(err: ConnectError) -> CliError {
    let kind = match err {
        ConnectError::Config(_) => ErrorKind::BadInput,
        _ => ErrorKind::Unavailable,
    };
    CliError::new(kind, format!("the receiver's Redis store: {err}")).with_source(err)
}
