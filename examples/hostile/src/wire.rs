//! Raw HTTP/1.1 on a TCP stream: what a well-behaved or a hostile client
//! writes, and the status line of what comes back.

use std::time::Duration;

use costkatana_webhooks::signing::sign;
use costkatana_webhooks::testing::{sample_event, Shape};
use costkatana_webhooks::{EventType, Scheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The endpoint every scenario posts to.
pub(crate) const PATH: &str = "/webhooks/costkatana";

/// A signed delivery of a realistic event with id `id`, ready to write.
pub(crate) fn delivery(secret: &str, id: &str, now_ms: i64) -> Vec<u8> {
    let body = sample_event(&EventType::CostAlert, Shape::Camel, id, now_ms);
    let headers = sign(Scheme::Current, secret, now_ms, body.as_bytes());
    request(&headers, body.as_bytes())
}

/// The same delivery signed with the wrong secret.
pub(crate) fn forgery(id: &str, now_ms: i64) -> Vec<u8> {
    delivery("not-the-secret", id, now_ms)
}

/// A keep-alive POST of `body` with `headers`.
pub(crate) fn request(headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// The head of a POST whose body is far over any limit: 1 GiB declared, or
/// chunked with no end announced. Its signature headers parse (so the
/// request gets past the head check) but never verify.
pub(crate) fn oversized_head(chunked: bool, now_ms: i64) -> String {
    let length = if chunked {
        "Transfer-Encoding: chunked"
    } else {
        "Content-Length: 1073741824"
    };
    format!(
        "POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n{length}\r\n\
         X-Webhook-Timestamp: {now_ms}\r\nX-Webhook-Signature: {}\r\n\r\n",
        "0".repeat(64)
    )
}

/// Reads one response (headers and a `Content-Length` body) and returns its
/// status, or `None` if the server closed the connection first.
pub(crate) async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    loop {
        if let Some((status, len)) = complete(buf) {
            buf.drain(..len);
            return Some(status);
        }
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The status and total length of the first complete response in `buf`.
fn complete(buf: &[u8]) -> Option<(u16, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let status = head.get(9..12)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    (buf.len() >= end + length).then_some((status, end + length))
}

/// Waits until the server closes `stream` (read returns 0 or fails), or
/// `bound` passes; whether it closed, and the status it answered if any.
pub(crate) async fn closed_within(stream: &mut TcpStream, bound: Duration) -> (bool, Option<u16>) {
    let mut buf = Vec::new();
    let result = tokio::time::timeout(bound, async {
        let mut status = None;
        loop {
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return status,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    status = status.or_else(|| complete(&buf).map(|(s, _)| s));
                }
            }
        }
    })
    .await;
    match result {
        Ok(status) => (true, status),
        Err(_) => (false, complete(&buf).map(|(s, _)| s)),
    }
}

/// Writes `bytes`, ignoring a server that has already hung up.
pub(crate) async fn write(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_oversized_head_is_one_complete_head_with_its_length_and_signature() {
        for (chunked, length) in [
            (false, "Content-Length: 1073741824"),
            (true, "Transfer-Encoding: chunked"),
        ] {
            let head = oversized_head(chunked, 1_777_377_600_000);
            let lines: Vec<&str> = head
                .strip_suffix("\r\n\r\n")
                .expect("ends the head")
                .split("\r\n")
                .collect();
            assert_eq!(
                lines,
                [
                    &format!("POST {PATH} HTTP/1.1")[..],
                    "Host: 127.0.0.1",
                    length,
                    "X-Webhook-Timestamp: 1777377600000",
                    &format!("X-Webhook-Signature: {}", "0".repeat(64)),
                ]
            );
        }
    }
}
