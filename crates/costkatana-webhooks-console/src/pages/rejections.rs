//! Recent rejections: what the receiver refused, why, and what to do.

use costkatana_webhooks::receiver::Rejection;
use maud::{html, Markup};

use super::layout::{page, Nav, View};
use crate::text::{bytes, iso, utc};

/// `rejections` is `None` when the console has no receiver.
pub(crate) fn render(view: &View<'_>, rejections: Option<&[Rejection]>) -> Markup {
    let body = html! {
        h1 { "Rejections" }
        @match rejections {
            None => p.note { "This console was started without a receiver (as by " code { "ckwebhook inbox console" } "), so it has no rejections to show. A receiver's own console lists them." },
            Some([]) => p.empty { "Nothing refused lately." },
            Some(rejections) => {
                p.note { "The requests the receiver refused lately, newest first. Bodies, signatures and credentials are never kept." }
                table.rejections {
                    thead { tr { th { "When" } th { "Reason" } th.num { "Status" } th { "From" } th { "Scheme" } th.num { "Body" } th { "Diagnosis" } } }
                    tbody {
                        @for rejection in rejections {
                            tr {
                                td { time datetime=(iso(rejection.at_ms)) data-ms=(rejection.at_ms) { (utc(rejection.at_ms)) } }
                                td.mono { (rejection.reason) }
                                td.num { (rejection.status) }
                                td.mono { (rejection.remote.map(|ip| ip.to_string()).unwrap_or_else(|| "-".into())) }
                                td { (rejection.scheme.map_or("-", |s| s.as_str())) }
                                td.num { (rejection.body_bytes.map(bytes).unwrap_or_else(|| "-".into())) }
                                td.diagnosis {
                                    @if let Some(diagnosis) = rejection.diagnosis {
                                        strong { (diagnosis.as_str()) }
                                        br;
                                        span.advice { (diagnosis.advice()) }
                                    } @else { "-" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(view, "Rejections", Nav::Rejections, body)
}
