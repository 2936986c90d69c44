//! [`Console`]: the tower `Service` that answers every console request.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use costkatana_webhooks::clock::Clock;
use costkatana_webhooks::Receiver;
use costkatana_webhooks_inbox::Inbox;
use http::{Request, Response};
use http_body::Body;
use tower_service::Service;

use crate::builder::ConsoleBuilder;
use crate::jobs::Jobs;
use crate::response::ConsoleBody;
use crate::security::session::Sessions;
use crate::security::throttle::Throttle;
use crate::security::token::{self, AccessToken};
use crate::settings::Settings;
use crate::source::Source;

/// The inbox console: a tower [`Service`] that serves its pages, its JSON
/// API and its assets under a path (`/console` by default). Cheap to
/// clone; every clone serves the same console.
///
/// Mount it in axum with `Router::nest_service("/console", console)`, in
/// actix-web with [`actix::ConsoleScope`](crate::actix) (feature `actix`),
/// or serve it alone with any hyper server.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # let dir = std::env::temp_dir().join(format!("console-doc-console-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use costkatana_webhooks::{Payload, Receiver};
/// use costkatana_webhooks_axum::WebhookEndpoint;
/// use costkatana_webhooks_console::Console;
/// use costkatana_webhooks_inbox::Inbox;
///
/// let inbox = Inbox::open(&format!("sqlite:{}", dir.join("inbox.db").display())).await?;
/// let receiver = Receiver::builder()
///     .secret("whsec_...")
///     .inbox(inbox.clone())
///     .fallback(|_: Payload| async { Ok(()) })
///     .build()?;
/// let console = Console::builder(inbox)
///     .token(std::env::var("INBOX_CONSOLE_TOKEN").unwrap_or_else(|_| Console::generate_token()))
///     .receiver(receiver.clone())
///     .build()?;
/// let app: axum::Router = axum::Router::new()
///     .route_service("/webhooks/costkatana", WebhookEndpoint::new(receiver))
///     .nest_service("/console", console);
/// # std::fs::remove_dir_all(dir).unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Console {
    shared: Arc<Shared>,
}

/// What every clone shares.
pub(crate) struct Shared {
    pub(crate) source: Source,
    pub(crate) receiver: Option<Receiver>,
    pub(crate) token: AccessToken,
    pub(crate) sessions: Sessions,
    pub(crate) throttle: Throttle,
    pub(crate) settings: Settings,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) jobs: Jobs,
}

impl Console {
    /// Settings for a console over `inbox`; then [`token`](ConsoleBuilder::token)
    /// and [`build`](ConsoleBuilder::build).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-new-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox).token(Console::generate_token()).build().unwrap();
    /// # drop(console);
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn builder(inbox: Inbox) -> ConsoleBuilder {
        ConsoleBuilder::new(inbox)
    }

    /// A random token (32 bytes from the OS, in hex) for when none is
    /// configured: print it once for the person who will sign in.
    ///
    /// ```
    /// let token = costkatana_webhooks_console::Console::generate_token();
    /// assert_eq!(token.len(), 64);
    /// ```
    pub fn generate_token() -> String {
        token::generate()
    }

    /// The path the console is served under, without a trailing slash
    /// (`/console`; empty when mounted at the root).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// # let dir = std::env::temp_dir().join(format!("console-doc-path-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
    /// # use costkatana_webhooks_console::Console;
    /// let console = Console::builder(inbox).token(Console::generate_token()).build().unwrap();
    /// assert_eq!(console.mount_path(), "/console");
    /// # std::fs::remove_dir_all(dir).unwrap();
    /// # });
    /// ```
    pub fn mount_path(&self) -> &str {
        &self.shared.settings.mount
    }

    pub(crate) fn from_shared(shared: Shared) -> Console {
        Console {
            shared: Arc::new(shared),
        }
    }
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Console")
            .field("mount_path", &self.shared.settings.mount)
            .field("receiver", &self.shared.receiver.is_some())
            .finish_non_exhaustive()
    }
}

/// The future of a console's answer.
pub struct ResponseFuture {
    inner: Pin<Box<dyn Future<Output = Result<Response<ConsoleBody>, Infallible>> + Send>>,
}

impl Future for ResponseFuture {
    type Output = Result<Response<ConsoleBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<B> Service<Request<B>> for Console
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ConsoleBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> ResponseFuture {
        let shared = Arc::clone(&self.shared);
        ResponseFuture {
            inner: Box::pin(async move { Ok(crate::dispatch::handle(shared, request).await) }),
        }
    }
}
