//! What `ckwebhook verify` adds to the core's verifier and diagnosis:
//! reading captured requests, and explaining them line by line.

pub(crate) mod explain;
pub(crate) mod input;
