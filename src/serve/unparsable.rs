//! Requests hyper cannot parse get the same JSON errors as every other request.
//!
//! hyper answers such a request itself, before any route or middleware sees
//! it (bytes that are not HTTP at all, a broken header line, a head too
//! large): a status line, `content-length: 0`, no body, and the connection
//! closed. The connections this server accepts rewrite exactly those answers
//! as they are written: a head alone, of status 400, 414 or 431, with no
//! `content-type`, which no handler here produces (every error of the router
//! is JSON). Everything else passes through untouched.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A TCP listener whose connections answer unparsable requests in JSON.
pub(super) struct JsonListener(pub(super) TcpListener);

impl axum::serve::Listener for JsonListener {
    type Io = JsonAnswers<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (JsonAnswers::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

/// A connection that rewrites hyper's own bodiless error answers as JSON.
///
/// It is not vectored, so hyper hands each response head over in one buffer.
pub(super) struct JsonAnswers<S> {
    inner: S,
    /// A rewritten answer, and how much of it has been written.
    pending: Vec<u8>,
    written: usize,
}

impl<S> JsonAnswers<S> {
    fn new(inner: S) -> JsonAnswers<S> {
        JsonAnswers {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> JsonAnswers<S> {
    /// Writes what is left of a rewritten answer.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonAnswers<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonAnswers<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.drain(cx))?;
        if let Some(answer) = json_answer(buf) {
            this.pending = answer;
            // Taken whole: what the socket does not take now, flush writes.
            if let Poll::Ready(Err(e)) = this.drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The JSON answer that replaces `head` when it is one of hyper's own
/// bodiless error answers; `None` for anything else.
fn json_answer(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let message = match text.strip_prefix("HTTP/1.1 ")?.get(..4)? {
        "400 " => "bad request: the server could not read it as HTTP/1.1",
        "414 " => "the request's URI is too long",
        "431 " => "the request's header fields are too large",
        _ => return None,
    };
    // A head alone: it ends at its first empty line.
    let end = text.find("\r\n\r\n")?;
    if end + 4 != text.len() {
        return None;
    }
    let mut lines = text[..end].split("\r\n");
    let status_line = lines.next()?;
    let fields: Vec<&str> = lines.collect();
    let named = |field: &str, name: &str| {
        field
            .split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
    };
    let empty_body = fields.iter().any(|f| {
        named(f, "content-length") && f.split_once(':').is_some_and(|(_, v)| v.trim() == "0")
    });
    if !empty_body || fields.iter().any(|f| named(f, "content-type")) {
        return None;
    }
    tracing::info!(status = &status_line[9..12], "request could not be parsed");
    let body = serde_json::json!({ "error": message }).to_string();
    let mut answer = String::from(status_line);
    for field in fields.iter().filter(|f| !named(f, "content-length")) {
        answer.push_str("\r\n");
        answer.push_str(field);
    }
    answer.push_str(&format!(
        "\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    ));
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYPER_400: &str = "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 11:27:58 GMT\r\n\r\n";

    #[test]
    fn hyper_s_own_error_answers_become_json() {
        let answer = String::from_utf8(json_answer(HYPER_400.as_bytes()).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains("\r\nconnection: close\r\n"));
        assert!(head.contains("\r\ndate: Mon, 30 Nov 2026 11:27:58 GMT\r\n"));
        assert!(head.contains("\r\ncontent-type: application/json\r\n"));
        assert!(head.ends_with(&format!("\r\ncontent-length: {}", body.len())));
        assert!(!head.contains("content-length: 0"));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["error"].as_str().unwrap().contains("HTTP/1.1"));
        for (status, says) in [
            ("414 URI Too Long", "URI"),
            ("431 Request Header Fields Too Large", "header"),
        ] {
            let head = HYPER_400.replace("400 Bad Request", status);
            let answer = String::from_utf8(json_answer(head.as_bytes()).unwrap()).unwrap();
            assert!(answer.starts_with(&format!("HTTP/1.1 {status}\r\n")));
            assert!(answer.contains(says), "{answer}");
        }
    }

    #[test]
    fn every_other_answer_passes_untouched() {
        for other in [
            // the router's own errors are JSON already
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            // a head with its body in the same buffer
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            // a body of its own, or none said
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n",
            // statuses hyper does not answer by itself
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 4000\r\ncontent-length: 0\r\n\r\n",
            // half a head, a body chunk, nothing
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            "{\"error\": \"x\"}",
            "",
        ] {
            assert_eq!(json_answer(other.as_bytes()), None, "{other:?}");
        }
        assert_eq!(
            json_answer(b"HTTP/1.1 400 \xff\r\ncontent-length: 0\r\n\r\n"),
            None
        );
    }
}
