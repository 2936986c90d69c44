//! What `ckwebhook send` adds to the sandbox's sender: the requests it
//! makes, and how it shows what happened to them.

pub(crate) mod report;
pub(crate) mod requests;
pub(crate) mod summary;
pub(crate) mod wire;
