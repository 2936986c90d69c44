//! The stylesheet and script, compiled into the crate: no CDN, no build
//! step, nothing fetched from anywhere else.

use crate::response::{self, Reply};

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// The asset called `name` (the router only asks for these two).
pub(crate) fn serve(name: &str) -> Reply {
    match name {
        "console.js" => response::asset(JS, "text/javascript; charset=utf-8"),
        _ => response::asset(CSS, "text/css; charset=utf-8"),
    }
}
