//! The signing scheme on the command line (`sign` and `send`).

use clap::ValueEnum;
use costkatana_webhooks::Scheme;

/// A signing scheme on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemeArg {
    // Help set as attributes: `<hex>` in a doc comment reads as HTML to rustdoc.
    #[value(help = "X-Webhook-Timestamp (ms) + X-Webhook-Signature (hex): the live sender")]
    Current,
    #[value(help = "X-CostKatana-Timestamp (ms) + X-CostKatana-Signature: sha256=<hex>")]
    Legacy,
    #[value(help = "X-CostKatana-Signature: t=<seconds>,v1=<hex>, as in the docs")]
    Documented,
}

impl From<SchemeArg> for Scheme {
    fn from(arg: SchemeArg) -> Self {
        match arg {
            SchemeArg::Current => Scheme::Current,
            SchemeArg::Legacy => Scheme::Legacy,
            SchemeArg::Documented => Scheme::Documented,
        }
    }
}
