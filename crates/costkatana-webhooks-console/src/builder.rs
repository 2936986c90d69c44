//! [`ConsoleBuilder`]: the console's settings, checked once at build.

use std::sync::Arc;
use std::time::Duration;

use costkatana_webhooks::clock::{Clock, SystemClock};
use costkatana_webhooks::Receiver;
use costkatana_webhooks_inbox::Inbox;

use crate::console::{Console, Shared};
use crate::error::{ConsoleError, ConsoleErrorKind};
use crate::jobs::Jobs;
use crate::security::session::Sessions;
use crate::security::throttle::Throttle;
use crate::security::token::{AccessToken, MIN_TOKEN_LEN};
use crate::settings::Settings;
use crate::source::Source;

/// How long a session lasts unless told otherwise.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// The console's settings; [`Console::builder`] starts one.
///
/// Every setting but the token has a default:
///
/// | setting | default |
/// |---|---|
/// | [`token`](Self::token) | none: required |
/// | [`receiver`](Self::receiver) | none: the rejections page says so |
/// | [`mount_path`](Self::mount_path) | `/console` |
/// | [`session_ttl`](Self::session_ttl) | 8 hours |
/// | [`secure_cookies`](Self::secure_cookies) | only for requests that came over https |
/// | [`trust_forwarded_headers`](Self::trust_forwarded_headers) | off |
/// | [`public_origin`](Self::public_origin) | the origin each request was addressed to |
/// | [`page_size`](Self::page_size) | 50 deliveries |
/// | [`body_limit`](Self::body_limit) | 64 KiB of a body shown |
/// | [`bulk_retry_rate`](Self::bulk_retry_rate) | 100 deliveries a second |
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # let dir = std::env::temp_dir().join(format!("console-doc-builder-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
/// use std::time::Duration;
/// use costkatana_webhooks_console::Console;
///
/// let console = Console::builder(inbox)
///     .token("a-long-random-token-from-your-secret-store")
///     .session_ttl(Duration::from_secs(3600))
///     .public_origin("https://ops.example.com")
///     .build()?;
/// assert_eq!(console.mount_path(), "/console");
/// # std::fs::remove_dir_all(dir).unwrap();
/// # Ok::<(), costkatana_webhooks_console::ConsoleError>(()) }).unwrap();
/// ```
#[must_use]
pub struct ConsoleBuilder {
    inbox: Inbox,
    token: Option<String>,
    receiver: Option<Receiver>,
    session_ttl: Duration,
    clock: Arc<dyn Clock>,
    settings: Settings,
    public_origin: Option<String>,
}

impl std::fmt::Debug for ConsoleBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleBuilder")
            .field("inbox", &self.inbox)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("receiver", &self.receiver.is_some())
            .field("session_ttl", &self.session_ttl)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl ConsoleBuilder {
    pub(crate) fn new(inbox: Inbox) -> ConsoleBuilder {
        ConsoleBuilder {
            inbox,
            token: None,
            receiver: None,
            session_ttl: DEFAULT_SESSION_TTL,
            clock: Arc::new(SystemClock),
            settings: Settings::default(),
            public_origin: None,
        }
    }

    /// The token people sign in with (required): at least 16 characters,
    /// no whitespace at either end. Keep it where you keep secrets; a
    /// random one comes from [`Console::generate_token`]. It is typed into
    /// the sign-in form, or sent by scripts as `Authorization: Bearer …`;
    /// it is never put in a URL. Changing it signs every session out.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-token-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox).token(Console::generate_token()).build();
    /// assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The receiver whose recent rejections the rejections page lists
    /// ([`Receiver::rejections`]). Without one (the CLI's console, which
    /// has only the inbox) the page says there is none.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-receiver-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// use costkatana_webhooks::{Payload, Receiver};
    /// use costkatana_webhooks_console::Console;
    ///
    /// let receiver = Receiver::builder()
    ///     .secret("s3cret")
    ///     .inbox(inbox.clone())
    ///     .fallback(|_: Payload| async { Ok(()) })
    ///     .build()?;
    /// let console = Console::builder(inbox)
    ///     .token("0123456789abcdef0123456789abcdef")
    ///     .receiver(receiver)
    ///     .build()?;
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub fn receiver(mut self, receiver: Receiver) -> Self {
        self.receiver = Some(receiver);
        self
    }

    /// The path the console is served under (default `/console`): its
    /// links and its cookies' path. It serves requests whose path starts
    /// with it (a server that passes the whole path) and requests whose
    /// path was already stripped of it (axum's `nest_service`).
    ///
    /// # Errors (at build)
    ///
    /// A path that does not start with `/`, or holds `?`, `#`, `;`, `,`,
    /// whitespace or a control character.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-mount-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox)
    ///     .token("0123456789abcdef0123456789abcdef")
    ///     .mount_path("/ops/inbox/")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(console.mount_path(), "/ops/inbox");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn mount_path(mut self, path: impl Into<String>) -> Self {
        self.settings.mount = path.into();
        self
    }

    /// How long a session lasts after signing in (default 8 hours); then
    /// the token is asked for again.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-ttl-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox)
    ///     .token("0123456789abcdef0123456789abcdef")
    ///     .session_ttl(std::time::Duration::from_secs(15 * 60))
    ///     .build();
    /// # assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// Marks every cookie `Secure` (sent over https only). Off by default,
    /// when a cookie is `Secure` if the request came over https (as the
    /// console can tell: see [`trust_forwarded_headers`](Self::trust_forwarded_headers)).
    /// Turn it on behind a proxy that terminates TLS and does not say so.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-secure-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox)
    ///     .token("0123456789abcdef0123456789abcdef")
    ///     .secure_cookies(true)
    ///     .build();
    /// # assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn secure_cookies(mut self, always: bool) -> Self {
        self.settings.secure_cookies = always;
        self
    }

    /// Believes `X-Forwarded-Proto` and `X-Forwarded-Host` (off by
    /// default): behind a proxy that sets them (and strips them from
    /// clients), so that a request that came over https gets `Secure`
    /// cookies and the `Origin` check compares with the proxy's public
    /// address. Never turn it on where clients reach the console directly:
    /// they could claim any origin.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-fwd-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox)
    ///     .token("0123456789abcdef0123456789abcdef")
    ///     .trust_forwarded_headers(true)
    ///     .build();
    /// # assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn trust_forwarded_headers(mut self, trust: bool) -> Self {
        self.settings.trust_forwarded = trust;
        self
    }

    /// The one origin (`https://ops.example.com`, scheme, host and port
    /// only) that state-changing requests may come from; by default the
    /// origin each request was addressed to (its `Host`). Set it behind a
    /// proxy: it is the simplest correct setting there. An `https` origin
    /// also makes every cookie `Secure`.
    ///
    /// # Errors (at build)
    ///
    /// Not `http://` or `https://` followed by a host, or with a path,
    /// query or fragment.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-origin-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let refused = Console::builder(inbox)
    ///     .token("0123456789abcdef0123456789abcdef")
    ///     .public_origin("https://ops.example.com/console")
    ///     .build();
    /// assert!(refused.unwrap_err().to_string().contains("no path"));
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn public_origin(mut self, origin: impl Into<String>) -> Self {
        self.public_origin = Some(origin.into());
        self
    }

    /// Deliveries per page of the list (default 50, at most 500).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-page-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox).token(Console::generate_token()).page_size(100).build();
    /// # assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn page_size(mut self, deliveries: usize) -> Self {
        self.settings.page_size = deliveries.clamp(1, 500);
        self
    }

    /// How much of a body a delivery page shows (default 64 KiB); a longer
    /// body shows its start, as sent, and says so.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-body-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox).token(Console::generate_token()).body_limit(16 * 1024).build();
    /// # assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.settings.body_limit = bytes.max(1);
        self
    }

    /// How many deliveries a bulk retry makes pending per second (default
    /// 100), so that retrying thousands of dead letters does not hand the
    /// workers, and what the handlers call, all of them at once. A bulk
    /// retry runs in the background; the overview shows its progress.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-rate-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox).token(Console::generate_token()).bulk_retry_rate(20).build();
    /// # assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn bulk_retry_rate(mut self, per_second: u32) -> Self {
        self.settings.bulk_retry_per_second = per_second.max(1);
        self
    }

    /// The clock sessions and ages are read from (default the system's);
    /// for tests.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-clock-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// use std::sync::Arc;
    /// use costkatana_webhooks::ManualClock;
    /// # use costkatana_webhooks_console::Console;
    /// let clock = Arc::new(ManualClock::new(1_777_377_600_000));
    /// let console = Console::builder(inbox).token(Console::generate_token()).clock(clock).build();
    /// # assert!(console.is_ok());
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The console.
    ///
    /// # Errors
    ///
    /// [`NoToken`](ConsoleErrorKind::NoToken) without a token;
    /// [`WeakToken`](ConsoleErrorKind::WeakToken) for one shorter than 16
    /// characters or with whitespace at an end;
    /// [`InvalidSetting`](ConsoleErrorKind::InvalidSetting) for a mount
    /// path or public origin that cannot be used, or a session TTL under a
    /// minute.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-build-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::{Console, ConsoleErrorKind};
    /// let err = Console::builder(inbox).token("0123456789abcdef\n").build().unwrap_err();
    /// assert_eq!(err.kind(), ConsoleErrorKind::WeakToken);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn build(self) -> Result<Console, ConsoleError> {
        let token = self.token.ok_or_else(|| {
            ConsoleError::new(
                ConsoleErrorKind::NoToken,
                "the console needs a token to sign in with (Console::builder(..).token(..)); \
                 without one anyone who reaches it could retry and delete deliveries",
            )
        })?;
        check_token(&token)?;
        let mut settings = self.settings;
        settings.mount = mount_path(&settings.mount)?;
        if let Some(origin) = &self.public_origin {
            let origin = public_origin(origin)?;
            settings.secure_cookies |= origin.starts_with("https://");
            settings.public_origin = Some(origin);
        }
        if self.session_ttl < Duration::from_secs(60) {
            return Err(ConsoleError::new(
                ConsoleErrorKind::InvalidSetting,
                "the session TTL must be at least a minute",
            ));
        }
        let ttl_ms = i64::try_from(self.session_ttl.as_millis()).unwrap_or(i64::MAX);
        Ok(Console::from_shared(Shared {
            source: Source::new(self.inbox),
            receiver: self.receiver,
            token: AccessToken::new(&token),
            sessions: Sessions::new(ttl_ms),
            throttle: Throttle::new(),
            settings,
            clock: self.clock,
            jobs: Jobs::default(),
        }))
    }
}

fn check_token(token: &str) -> Result<(), ConsoleError> {
    if token.trim() != token {
        return Err(ConsoleError::new(
            ConsoleErrorKind::WeakToken,
            "the console token has whitespace at an end (a newline from a file or .env?): \
             trim it where it is set",
        ));
    }
    if token.chars().count() < MIN_TOKEN_LEN {
        return Err(ConsoleError::new(
            ConsoleErrorKind::WeakToken,
            format!(
                "the console token must be at least {MIN_TOKEN_LEN} characters long \
                 (Console::generate_token makes a random one)"
            ),
        ));
    }
    Ok(())
}

/// `path` without a trailing slash, checked.
fn mount_path(path: &str) -> Result<String, ConsoleError> {
    let trimmed = path.trim_end_matches('/');
    let unusable = |c: char| {
        c.is_control() || c.is_whitespace() || matches!(c, '?' | '#' | ';' | ',' | '"' | '\\')
    };
    if !path.starts_with('/') || path.chars().any(unusable) || path.contains("//") {
        return Err(ConsoleError::new(
            ConsoleErrorKind::InvalidSetting,
            format!(
                "the console's mount path must start with / and hold no ?, #, ;, comma, quote, \
                 backslash, whitespace or //, not {path:?}"
            ),
        ));
    }
    Ok(trimmed.to_owned())
}

/// `origin` as `scheme://host[:port]`, lowercased, checked.
fn public_origin(origin: &str) -> Result<String, ConsoleError> {
    let invalid = |why: &str| {
        ConsoleError::new(
            ConsoleErrorKind::InvalidSetting,
            format!("the public origin {origin:?} {why}: give scheme, host and port only, like https://ops.example.com"),
        )
    };
    let lower = origin.trim_end_matches('/').to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| invalid("is not http:// or https://"))?;
    if host.is_empty() {
        return Err(invalid("has no host"));
    }
    if host.contains(['/', '?', '#']) {
        return Err(invalid("must have no path, query or fragment"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '@')
    {
        return Err(invalid("is not a host"));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_checked() {
        assert_eq!(mount_path("/console/").unwrap(), "/console");
        assert_eq!(mount_path("/").unwrap(), "");
        assert!(mount_path("console").is_err());
        assert!(mount_path("/a b").is_err());
        assert!(mount_path("/a//b").is_err());
        assert_eq!(
            public_origin("HTTPS://Ops.Example.com/").unwrap(),
            "https://ops.example.com"
        );
        assert!(public_origin("ftp://x").is_err());
        assert!(public_origin("https://x/console").is_err());
        assert!(public_origin("https://").is_err());
        assert!(check_token("0123456789abcdef").is_ok());
        assert_eq!(
            check_token("short").unwrap_err().kind(),
            ConsoleErrorKind::WeakToken
        );
        assert!(check_token(" 0123456789abcdef").is_err());
    }
}
