//! One attempt of `ckwebhook send` over plain HTTP/1.1, reading the answer
//! while the body is still being written.
//!
//! A receiver may answer before it has read the whole body (a 413 for a
//! body over its limit, a 401 judged from the headers) and close the
//! connection. A client that reads only once the body is written then
//! fails on the write (a broken pipe, a reset) and never sees the answer
//! that came back; the live sender's HTTP client reads it. So here the
//! request is written and the answer read at once: the answer wins
//! whenever one arrived, and a failed write is only reported when nothing
//! came back.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use costkatana_webhooks_sandbox::sender::{Reply, SignedRequest};
use http::header::{CONNECTION, CONTENT_LENGTH, HOST};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most bytes of an answer's body read (what is shown is cut shorter).
const MAX_ANSWER_BODY: usize = 64 * 1024;
/// The most bytes of an answer's head read before giving up on it.
const MAX_HEAD: usize = 64 * 1024;

/// Whether `request` goes to a plain `http://` URL, which [`attempt`]
/// sends; other schemes go through the sandbox's sender.
pub(crate) fn handles(request: &SignedRequest) -> bool {
    request
        .endpoint()
        .as_str()
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
}

/// Sends `request` once, within `timeout`, and reads what came back, even
/// when writing the body failed because the receiver had answered and
/// closed.
pub(crate) async fn attempt(request: &SignedRequest, timeout: Duration) -> Reply {
    match tokio::time::timeout(timeout, exchange(request)).await {
        Ok(reply) => reply,
        Err(_) => Reply::Timeout,
    }
}

async fn exchange(request: &SignedRequest) -> Reply {
    let target = match Target::of(request.endpoint().as_str()) {
        Ok(target) => target,
        Err(why) => return Reply::Broken(why),
    };
    let stream = match TcpStream::connect((target.host.as_str(), target.port)).await {
        Ok(stream) => stream,
        Err(err) => {
            return Reply::Unreachable(format!("tcp connect error to {}: {err}", target.authority))
        }
    };
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let head = request_head(&target, request);
    let body = request.body().clone();
    let write = async move {
        writer.write_all(&head).await?;
        writer.write_all(&body).await?;
        writer.flush().await?;
        // Kept open until the answer is read: closing it could end the
        // exchange early on some servers.
        Ok::<_, io::Error>(writer)
    };
    let read = read_answer(&mut reader);
    tokio::pin!(write, read);
    let mut written: Option<io::Result<_>> = None;
    let answer = loop {
        tokio::select! {
            result = &mut write, if written.is_none() => written = Some(result),
            answer = &mut read => break answer,
        }
    };
    match (answer, written) {
        (Ok(answer), _) => answer.into_reply(),
        (Err(read), Some(Err(write))) => Reply::Broken(format!(
            "error writing the request: {write}; and no answer came back: {read}"
        )),
        (Err(read), _) => Reply::Broken(format!("no answer came back: {read}")),
    }
}

/// Where a request goes.
struct Target {
    host: String,
    port: u16,
    /// `host[:port]` as the URL has it, for the `Host` header.
    authority: String,
    path: String,
}

impl Target {
    fn of(url: &str) -> Result<Target, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|err| format!("cannot read the URL {url}: {err}"))?;
        let authority = uri
            .authority()
            .ok_or_else(|| format!("the URL {url} has no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        Ok(Target {
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authority: authority.as_str().to_owned(),
            path: uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        })
    }
}

/// The request line and headers: the request's own (a `Host` among them
/// wins), the length of the body, and `Connection: close`.
fn request_head(target: &Target, request: &SignedRequest) -> Vec<u8> {
    let headers = request.headers();
    let mut head = format!("POST {} HTTP/1.1\r\n", target.path).into_bytes();
    if !headers.contains_key(HOST) {
        head.extend_from_slice(format!("host: {}\r\n", target.authority).as_bytes());
    }
    for (name, value) in headers {
        if name == CONTENT_LENGTH || name == CONNECTION {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            request.body().len()
        )
        .as_bytes(),
    );
    head
}

/// An answer: its status, and its body as far as it could be read.
struct Answer {
    status: u16,
    body: Bytes,
    /// Why the body stops short, when it does.
    unreadable: Option<String>,
}

impl Answer {
    fn into_reply(self) -> Reply {
        match self.unreadable {
            Some(why) => Reply::Status(self.status, format!("<body unreadable: {why}>")),
            None => Reply::answered(
                self.status,
                String::from_utf8_lossy(&self.body).into_owned(),
            ),
        }
    }
}

/// How the answer's body ends.
enum Framing {
    Length(usize),
    Chunked,
    Close,
}

/// Reads an answer's head and body. `Err` when no complete head came.
async fn read_answer(reader: &mut (impl AsyncReadExt + Unpin)) -> Result<Answer, String> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    loop {
        let (status, head_len, framing) = loop {
            if let Some(parsed) = parse_head(&buf)? {
                break parsed;
            }
            if buf.len() > MAX_HEAD {
                return Err(format!("an answer head longer than {MAX_HEAD} bytes"));
            }
            match read_more(reader, &mut buf).await {
                Ok(0) if buf.is_empty() => {
                    return Err("the connection was closed before an answer".into())
                }
                Ok(0) => return Err("the connection was closed mid-answer".into()),
                Ok(_) => {}
                Err(err) => return Err(err.to_string()),
            }
        };
        buf.drain(..head_len);
        // 1xx answers (100 Continue) come before the real one.
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let (body, unreadable) = read_body(reader, buf, framing).await;
        return Ok(Answer {
            status,
            body: Bytes::from(body),
            unreadable,
        });
    }
}

/// The status, the head's length and the body's framing, once the head is
/// complete.
fn parse_head(buf: &[u8]) -> Result<Option<(u16, usize, Framing)>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(format!("an answer that is not HTTP/1.1: {err}")),
    };
    let status = response.code.unwrap_or(0);
    let mut framing = Framing::Close;
    for header in response.headers.iter() {
        let value = String::from_utf8_lossy(header.value);
        if header.name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            framing = Framing::Chunked;
            break;
        }
        if header.name.eq_ignore_ascii_case("content-length") {
            if let Ok(length) = value.trim().parse() {
                framing = Framing::Length(length);
            }
        }
    }
    if status == 204 || status == 304 {
        framing = Framing::Length(0);
    }
    Ok(Some((status, head_len, framing)))
}

/// The body after the head (`buf` holds what was read past it), up to
/// [`MAX_ANSWER_BODY`] bytes, and why it stops short, when it does.
async fn read_body(
    reader: &mut (impl AsyncReadExt + Unpin),
    mut buf: Vec<u8>,
    framing: Framing,
) -> (Vec<u8>, Option<String>) {
    loop {
        let done = match &framing {
            Framing::Length(length) => buf.len() >= *length,
            Framing::Chunked => dechunk(&buf).is_some(),
            Framing::Close => false,
        };
        if done || buf.len() >= MAX_ANSWER_BODY {
            break;
        }
        match read_more(reader, &mut buf).await {
            Ok(0) if matches!(framing, Framing::Close) => break,
            Ok(0) => return (buf, Some("the connection was closed mid-body".into())),
            Ok(_) => {}
            Err(err) => return (buf, Some(err.to_string())),
        }
    }
    let body = match framing {
        Framing::Length(length) => {
            buf.truncate(length);
            buf
        }
        Framing::Chunked => dechunk(&buf).unwrap_or(buf),
        Framing::Close => buf,
    };
    (body, None)
}

/// A chunked body decoded, once its last chunk has arrived.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if raw.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

async fn read_more(
    reader: &mut (impl AsyncReadExt + Unpin),
    buf: &mut Vec<u8>,
) -> io::Result<usize> {
    let mut chunk = [0u8; 8192];
    let read = reader.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..read]);
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_heads_and_bodies() {
        let (status, len, framing) =
            parse_head(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\n{}")
                .unwrap()
                .unwrap();
        assert_eq!((status, len), (413, 53));
        assert!(matches!(framing, Framing::Length(2)));
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le")
            .unwrap()
            .is_none());
        assert!(parse_head(b"not http\r\n\r\n").is_err());
        assert_eq!(
            dechunk(b"2\r\n{}\r\n0\r\n\r\n").as_deref(),
            Some(&b"{}"[..])
        );
        assert_eq!(dechunk(b"2\r\n{}\r\n"), None);
    }

    #[test]
    fn long_bodies_are_cut_at_a_character() {
        let answer = Answer {
            status: 500,
            body: Bytes::from("é".repeat(400)),
            unreadable: None,
        };
        let Reply::Status(500, text) = answer.into_reply() else {
            panic!("a status reply")
        };
        assert!(text.ends_with('…') && text.len() <= 500 + 3);
    }

    #[test]
    fn only_plain_http_is_sent_here() {
        let target = Target::of("http://[::1]:8080/hook?x=1").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 8080));
        assert_eq!(target.path, "/hook?x=1");
        assert_eq!(Target::of("http://example.com").unwrap().port, 80);
    }
}
