//! Connections that stall before their request is in are closed.
//!
//! A client that opens a connection and sends half a request head, or none,
//! would otherwise hold a connection (and a server's graceful shutdown)
//! for as long as it likes. Each connection here must deliver every request
//! head within [`HEAD_TIMEOUT`] of the connection opening or of the previous
//! answer; otherwise its next read fails with `TimedOut`, which makes hyper
//! drop the connection. Idle keep-alive connections are closed the same way.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Instant, Sleep};

/// How long a client has to send a request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// A listener whose connections close when a request head is late.
pub(super) struct HeadDeadlines<L>(pub(super) L);

impl<L: axum::serve::Listener> axum::serve::Listener for HeadDeadlines<L> {
    type Io = HeadDeadline<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.0.accept().await;
        (HeadDeadline::new(io, HEAD_TIMEOUT), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A connection waiting for a request head until a deadline.
pub(super) struct HeadDeadline<S> {
    inner: S,
    timeout: Duration,
    /// Set while a head is awaited.
    deadline: Option<Pin<Box<Sleep>>>,
    /// The last bytes read, to find the blank line that ends a head.
    tail: [u8; 3],
}

impl<S> HeadDeadline<S> {
    fn new(inner: S, timeout: Duration) -> HeadDeadline<S> {
        HeadDeadline {
            inner,
            timeout,
            deadline: Some(Box::pin(sleep(timeout))),
            tail: [0; 3],
        }
    }

    /// Notes bytes read; a head ends at an empty line (`\n\n` or `\n\r\n`).
    fn saw(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let [_, y, z] = self.tail;
            if b == b'\n' && (z == b'\n' || (z == b'\r' && y == b'\n')) {
                self.deadline = None;
            }
            self.tail = [y, z, b];
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HeadDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no complete request head in time",
                )));
            }
        }
        let before = buf.filled().len();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = read {
            let new = buf.filled()[before..].to_vec();
            this.saw(&new);
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            if n > 0 && this.deadline.is_none() {
                // An answer is going out: the next head has its own deadline.
                this.deadline = Some(Box::pin(sleep(this.timeout)));
                this.tail = [0; 3];
            } else if let Some(deadline) = this.deadline.as_mut() {
                // Still answering (a long body): the clock starts afresh.
                deadline.as_mut().reset(Instant::now() + this.timeout);
            }
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
