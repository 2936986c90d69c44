//! Real HTTP through the actix adapter: an actix server on 127.0.0.1:0,
//! reqwest (or a raw TCP client where reqwest cannot misbehave enough).

mod extractor;
mod middleware;
mod receiver;
mod slow_body;
mod support;
