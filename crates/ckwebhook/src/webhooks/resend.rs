//! `test` and `replay`: ask the sender for a delivery, print the new
//! record's id.

use super::text::printable;
use super::{json, Api};
use crate::error::CliResult;

pub(super) async fn test(api: &Api, id: &str) -> CliResult {
    let ack = api
        .client
        .test_webhook(id)
        .await
        .map_err(|err| api.fail(err))?;
    if api.json {
        return json::print(&ack);
    }
    let delivery = printable(&ack.delivery_id, false);
    outln!(
        "test delivery {delivery} queued: a system.error event titled \"Webhook Test\", \
         signed with the webhook's secret"
    );
    outln!("see how it went: ckwebhook webhooks delivery {delivery}");
    Ok(())
}

pub(super) async fn replay(api: &Api, id: &str) -> CliResult {
    let ack = api.client.replay(id).await.map_err(|err| api.fail(err))?;
    if api.json {
        return json::print(&ack);
    }
    let delivery = printable(&ack.delivery_id, false);
    outln!(
        "replay of {} queued as delivery {delivery}: the original request again (same URL, \
         timestamp and signature)",
        printable(id, false)
    );
    outln!(
        "a receiver refuses it as stale once past its timestamp window, unless its store \
         expects this replay (`ckwebhook webhooks catch-up` records the ones it asks for)"
    );
    outln!("see how it went: ckwebhook webhooks delivery {delivery}");
    Ok(())
}
