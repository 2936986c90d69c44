//! Which page or action a method and path ask for.

use http::Method;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Asset(&'static str),
    SignInForm,
    SignIn,
    SignOut,
    Overview,
    Deliveries,
    Delivery(i64),
    Retry(i64),
    Purge(i64),
    BulkConfirm(Action),
    Bulk(Action),
    Rejections,
    Api(ApiRoute),
}

/// A bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Retry,
    Purge,
}

/// The JSON API's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiRoute {
    Overview,
    Deliveries,
    Delivery(i64),
    Rejections,
    Retry(i64),
    Purge(i64),
    Bulk(Action),
}

impl Route {
    /// Whether it changes something (and so must pass the CSRF and Origin
    /// checks).
    pub(crate) fn changes_state(self) -> bool {
        matches!(
            self,
            Route::SignIn
                | Route::SignOut
                | Route::Retry(_)
                | Route::Purge(_)
                | Route::Bulk(_)
                | Route::Api(ApiRoute::Retry(_) | ApiRoute::Purge(_) | ApiRoute::Bulk(_))
        )
    }
}

/// Why nothing matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoRoute {
    NotFound,
    /// The path exists for another method.
    MethodNotAllowed,
}

/// The path inside the console: `path` without the mount path when it
/// starts with it (a server that hands the whole path), as is otherwise
/// (a router that stripped it, such as axum's `nest_service`).
pub(crate) fn relative<'a>(path: &'a str, mount: &str) -> &'a str {
    let inner = match path.strip_prefix(mount) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => path,
    };
    if inner.is_empty() {
        "/"
    } else {
        inner
    }
}

pub(crate) fn route(method: &Method, path: &str) -> Result<Route, NoRoute> {
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let id = |text: &str| text.parse::<i64>().ok().filter(|id| *id > 0);
    let (route, is_post) = match segments.as_slice() {
        [""] => (Route::Overview, false),
        ["assets", "console.css"] => (Route::Asset("console.css"), false),
        ["assets", "console.js"] => (Route::Asset("console.js"), false),
        ["sign-in"] if post => (Route::SignIn, true),
        ["sign-in"] => (Route::SignInForm, false),
        ["sign-out"] => (Route::SignOut, true),
        ["deliveries"] => (Route::Deliveries, false),
        ["deliveries", n] => (Route::Delivery(id(n).ok_or(NoRoute::NotFound)?), false),
        ["deliveries", n, "retry"] => (Route::Retry(id(n).ok_or(NoRoute::NotFound)?), true),
        ["deliveries", n, "purge"] => (Route::Purge(id(n).ok_or(NoRoute::NotFound)?), true),
        ["bulk", action] => {
            let action = match *action {
                "retry" => Action::Retry,
                "purge" => Action::Purge,
                _ => return Err(NoRoute::NotFound),
            };
            if post {
                (Route::Bulk(action), true)
            } else {
                (Route::BulkConfirm(action), false)
            }
        }
        ["rejections"] => (Route::Rejections, false),
        ["api", rest @ ..] => api(rest, post)?,
        _ => return Err(NoRoute::NotFound),
    };
    if (is_post && post) || (!is_post && get) {
        Ok(route)
    } else {
        Err(NoRoute::MethodNotAllowed)
    }
}

fn api(segments: &[&str], post: bool) -> Result<(Route, bool), NoRoute> {
    let id = |text: &str| text.parse::<i64>().ok().filter(|id| *id > 0);
    let (route, is_post) = match segments {
        ["overview"] => (ApiRoute::Overview, false),
        ["deliveries"] => (ApiRoute::Deliveries, false),
        ["deliveries", n] => (ApiRoute::Delivery(id(n).ok_or(NoRoute::NotFound)?), false),
        ["deliveries", n, "retry"] => (ApiRoute::Retry(id(n).ok_or(NoRoute::NotFound)?), true),
        ["deliveries", n, "purge"] => (ApiRoute::Purge(id(n).ok_or(NoRoute::NotFound)?), true),
        ["rejections"] => (ApiRoute::Rejections, false),
        ["bulk", "retry"] => (ApiRoute::Bulk(Action::Retry), true),
        ["bulk", "purge"] => (ApiRoute::Bulk(Action::Purge), true),
        _ => return Err(NoRoute::NotFound),
    };
    let _ = post;
    Ok((Route::Api(route), is_post))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_with_or_without_the_mount() {
        assert_eq!(relative("/console", "/console"), "/");
        assert_eq!(relative("/console/", "/console"), "/");
        assert_eq!(relative("/console/deliveries", "/console"), "/deliveries");
        assert_eq!(relative("/deliveries", "/console"), "/deliveries");
        assert_eq!(relative("/consoles", "/console"), "/consoles");
        assert_eq!(relative("", "/console"), "/");
    }

    #[test]
    fn methods_and_paths() {
        assert_eq!(route(&Method::GET, "/"), Ok(Route::Overview));
        assert_eq!(route(&Method::GET, "/deliveries/7"), Ok(Route::Delivery(7)));
        assert_eq!(
            route(&Method::POST, "/deliveries/7/retry"),
            Ok(Route::Retry(7))
        );
        assert_eq!(
            route(&Method::GET, "/deliveries/7/retry"),
            Err(NoRoute::MethodNotAllowed)
        );
        assert_eq!(
            route(&Method::POST, "/deliveries"),
            Err(NoRoute::MethodNotAllowed)
        );
        assert_eq!(route(&Method::GET, "/deliveries/x"), Err(NoRoute::NotFound));
        assert_eq!(
            route(&Method::GET, "/bulk/retry"),
            Ok(Route::BulkConfirm(Action::Retry))
        );
        assert_eq!(
            route(&Method::POST, "/bulk/purge"),
            Ok(Route::Bulk(Action::Purge))
        );
        assert_eq!(
            route(&Method::GET, "/api/deliveries"),
            Ok(Route::Api(ApiRoute::Deliveries))
        );
        assert_eq!(
            route(&Method::POST, "/api/bulk/retry"),
            Ok(Route::Api(ApiRoute::Bulk(Action::Retry)))
        );
        assert_eq!(
            route(&Method::GET, "/sign-out"),
            Err(NoRoute::MethodNotAllowed)
        );
        assert_eq!(route(&Method::DELETE, "/"), Err(NoRoute::MethodNotAllowed));
        assert!(Route::SignOut.changes_state());
        assert!(!Route::Deliveries.changes_state());
    }
}
