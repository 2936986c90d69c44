//! The HTML pages, server-rendered, readable with no script at all. Each
//! module renders one page from what the dispatcher read; none reads the
//! inbox itself.

pub(crate) mod bulk;
pub(crate) mod deliveries;
pub(crate) mod delivery;
pub(crate) mod layout;
pub(crate) mod overview;
pub(crate) mod problem;
pub(crate) mod rejections;
pub(crate) mod sign_in;
