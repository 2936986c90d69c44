//! The console in actix-web (feature `actix`): [`ConsoleScope`] serves it
//! under its mount path. actix-web 4 is on http 0.2, so each request is
//! copied into an http 1 request for the console and its answer copied
//! back; the console's answers are small pages, so the copy costs little.
//!
//! ```no_run
//! # async fn run(console: costkatana_webhooks_console::Console) -> std::io::Result<()> {
//! use actix_web::{App, HttpServer};
//! use costkatana_webhooks_console::actix::ConsoleScope;
//!
//! HttpServer::new(move || App::new().service(ConsoleScope::new(console.clone())))
//!     .bind("127.0.0.1:3000")?
//!     .run()
//!     .await
//! # }
//! ```

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::header::{HeaderName as ActixName, HeaderValue as ActixValue};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tower_service::Service;

use crate::settings::MAX_FORM;
use crate::Console;

/// The console as an actix-web service, registered under the console's
/// [mount path](Console::mount_path).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// # let dir = std::env::temp_dir().join(format!("console-doc-actix-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let inbox = costkatana_webhooks_inbox::Inbox::open(&format!("sqlite:{}", dir.join("i.db").display())).await.unwrap();
/// use costkatana_webhooks_console::{actix::ConsoleScope, Console};
///
/// let console = Console::builder(inbox).token(Console::generate_token()).build().unwrap();
/// let app = actix_web::App::new().service(ConsoleScope::new(console));
/// # drop(app);
/// # std::fs::remove_dir_all(dir).unwrap();
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct ConsoleScope {
    console: Console,
}

impl ConsoleScope {
    /// Serves `console` under its mount path.
    ///
    /// ```no_run
    /// # fn make(console: costkatana_webhooks_console::Console) {
    /// let scope = costkatana_webhooks_console::actix::ConsoleScope::new(console);
    /// # }
    /// ```
    pub fn new(console: Console) -> ConsoleScope {
        ConsoleScope { console }
    }
}

impl HttpServiceFactory for ConsoleScope {
    fn register(self, config: &mut AppService) {
        let path = self.console.mount_path().to_owned();
        let console = self.console;
        web::scope(&path)
            .app_data(web::PayloadConfig::new(MAX_FORM))
            .default_service(web::to(move |request: HttpRequest, body: Bytes| {
                let console = console.clone();
                async move { answer(console, &request, body).await }
            }))
            .register(config);
    }
}

/// Copies `request` into http 1, asks the console, copies the answer back.
async fn answer(mut console: Console, request: &HttpRequest, body: Bytes) -> HttpResponse {
    // https only when this server speaks TLS itself; forwarded headers are
    // the console's to believe or not.
    let uri = if request.app_config().secure() {
        format!("https://{}{}", request.app_config().host(), request.uri())
    } else {
        request.uri().to_string()
    };
    let mut builder = http::Request::builder()
        .method(request.method().as_str())
        .uri(uri);
    for (name, value) in request.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let Ok(converted) = builder.body(Full::new(body)) else {
        return HttpResponse::BadRequest().body("the request could not be read");
    };
    let Ok(reply) = console.call(converted).await;
    let (parts, body) = reply.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let status = actix_web::http::StatusCode::from_u16(parts.status.as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            ActixName::from_bytes(name.as_str().as_bytes()),
            ActixValue::from_bytes(value.as_bytes()),
        ) {
            response.append_header((name, value));
        }
    }
    response.body(bytes)
}
