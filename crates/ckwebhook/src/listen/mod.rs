//! What `ckwebhook listen` serves: the request handler, and a line per
//! request.

pub(crate) mod handler;
pub(crate) mod print;
