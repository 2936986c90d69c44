//! Who may see and change what: the token, sessions, CSRF, the `Origin`
//! check, the limit on wrong tokens, and the headers on every answer.

pub(crate) mod headers;
pub(crate) mod origin;
pub(crate) mod session;
pub(crate) mod throttle;
pub(crate) mod token;
