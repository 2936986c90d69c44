//! The settings a built console runs with (see [`ConsoleBuilder`](crate::ConsoleBuilder)
//! for each one's meaning and default), and the fixed limits.

/// The longest request URI served (a filter's values are far shorter).
pub(crate) const MAX_URI: usize = 4096;
/// The largest form body read (a CSRF token and a filter).
pub(crate) const MAX_FORM: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Where the console is mounted, without a trailing slash: `/console`.
    pub(crate) mount: String,
    pub(crate) secure_cookies: bool,
    pub(crate) trust_forwarded: bool,
    pub(crate) public_origin: Option<String>,
    pub(crate) page_size: usize,
    pub(crate) body_limit: usize,
    pub(crate) bulk_retry_per_second: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mount: "/console".to_owned(),
            secure_cookies: false,
            trust_forwarded: false,
            public_origin: None,
            page_size: 50,
            body_limit: 64 * 1024,
            bulk_retry_per_second: 100,
        }
    }
}

impl Settings {
    /// The absolute path of `relative` (which starts with `/`).
    pub(crate) fn href(&self, relative: &str) -> String {
        format!("{}{relative}", self.mount)
    }
}
