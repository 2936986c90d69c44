//! The console over plain HTTP, as a browser would use it (cookies by
//! hand, redirects not followed, so every answer can be looked at).

use reqwest::header::{HeaderMap, COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{redirect, Response};

use super::{Stack, TOKEN};

/// An HTTP client for one stack.
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
}

/// A signed-in session: its cookie (`name=value`) and CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub cookie: String,
    pub csrf: String,
}

impl Http {
    pub fn new(stack: &Stack) -> Http {
        Http {
            client: reqwest::Client::builder()
                .redirect(redirect::Policy::none())
                .build()
                .unwrap(),
            base: stack.base.clone(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        request.send().await.unwrap()
    }

    /// A page's text, signed in.
    pub async fn page(&self, path: &str, session: &SignedIn) -> (u16, String) {
        let response = self.get(path, Some(&session.cookie)).await;
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Posts a form: `origin` is sent as the `Origin` header when given.
    pub async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(fields)
                    .finish(),
            );
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        request.send().await.unwrap()
    }

    /// Signs in to the console at `mount` with `token` through its form;
    /// the answer to the form's POST.
    pub async fn try_sign_in(&self, mount: &str, token: &str) -> Response {
        let form = self.get(&format!("{mount}/sign-in"), None).await;
        assert_eq!(form.status(), 200);
        let cookie = cookie_pair(form.headers(), "ckconsole_sign_in").expect("a sign-in cookie");
        let csrf = csrf_in(&form.text().await.unwrap());
        self.post(
            &format!("{mount}/sign-in"),
            Some(&cookie),
            Some(&self.base),
            &[("csrf", &csrf), ("token", token)],
        )
        .await
    }

    /// Signs in to `/console` with the right token.
    pub async fn sign_in(&self) -> SignedIn {
        let answer = self.try_sign_in("/console", TOKEN).await;
        assert_eq!(answer.status(), 303, "signed in");
        let cookie = cookie_pair(answer.headers(), "ckconsole_session").expect("a session cookie");
        let (_, overview) = self
            .page(
                "/console/",
                &SignedIn {
                    cookie: cookie.clone(),
                    csrf: String::new(),
                },
            )
            .await;
        SignedIn {
            csrf: csrf_in(&overview),
            cookie,
        }
    }
}

/// The `Set-Cookie` header that sets `name`, whole.
pub fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// `name=value` of the cookie `name` an answer sets.
pub fn cookie_pair(headers: &HeaderMap, name: &str) -> Option<String> {
    set_cookie(headers, name).map(|c| c.split(';').next().unwrap().to_owned())
}

/// The first form's CSRF token in a page.
pub fn csrf_in(html: &str) -> String {
    let start = html
        .find("name=\"csrf\" value=\"")
        .map(|i| i + "name=\"csrf\" value=\"".len())
        .expect("a CSRF field");
    html[start..].split('"').next().unwrap().to_owned()
}
