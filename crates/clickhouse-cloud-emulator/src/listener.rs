//! The listening socket, and the one answer the router never sees.
//!
//! A request whose request line cannot be parsed (a bad method, URI or
//! version) or whose URI is too long is refused by the HTTP parser before
//! any route runs, with a bare status line and no body. Every connection's
//! writes go through [`Envelope`], which replaces such a body-less refusal
//! with the JSON error envelope every other answer has.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// The peer of a connection, as handlers find it in the request's
/// extensions (`ConnectInfo<Peer>`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// A TCP listener whose connections answer parse errors in the envelope.
pub(crate) struct EnvelopeListener(pub(crate) TcpListener);

impl Listener for EnvelopeListener {
    type Io = Envelope<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        (Envelope::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, EnvelopeListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, EnvelopeListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// A connection whose body-less `400`, `414` and `431` heads (the parser's
/// own refusals) are rewritten into JSON error envelopes.
pub(crate) struct Envelope<S> {
    inner: S,
    /// A replacement being written, and how much of it is out.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> Envelope<S> {
    fn new(inner: S) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

/// The envelope to send instead of `head`, when `head` is a parser's
/// refusal: a status line of 400, 414 or 431, `content-length: 0`, and no
/// content type (every answer the router makes has one).
pub(crate) fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let (status_line, rest) = text.split_once("\r\n")?;
    let code = status_line.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    let message = match code {
        "400" => "the request line could not be parsed",
        "414" => "the request URI is too long",
        "431" => "the request headers are too large",
        _ => return None,
    };
    let lower = rest.to_ascii_lowercase();
    if !rest.ends_with("\r\n\r\n")
        || !lower.contains("content-length: 0\r\n")
        || lower.contains("content-type")
    {
        return None;
    }
    let reason = status_line.get("HTTP/1.1 400 ".len()..).unwrap_or("");
    let error = match code {
        "400" => "BAD_REQUEST",
        "414" => "URI_TOO_LONG",
        _ => "REQUEST_HEADER_FIELDS_TOO_LARGE",
    };
    let body = serde_json::json!({
        "status": code.parse::<u16>().unwrap_or(400),
        "error": format!("{error}: {message}"),
        "requestId": Uuid::new_v4().to_string(),
    })
    .to_string();
    Some(
        format!(
            "HTTP/1.1 {code} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for Envelope<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Envelope<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none()
            && buf.starts_with(b"HTTP/1.1 4")
            && let Some(bytes) = replacement(buf)
        {
            this.pending = Some((bytes, 0));
        }
        let Some((bytes, sent)) = this.pending.as_mut() else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        while *sent < bytes.len() {
            let n = ready!(Pin::new(&mut this.inner).poll_write(cx, &bytes[*sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *sent += n;
        }
        // What the parser asked to write is written, in another form; the
        // connection closes after it.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// Not vectored: each response head then arrives in one `poll_write`,
    /// where a refusal can be recognised whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_body_less_refusals_are_replaced() {
        let refusal = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let text = String::from_utf8(replacement(refusal).unwrap()).unwrap();
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{text}");
        let body: serde_json::Value =
            serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["status"], 414);
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("URI_TOO_LONG: ")
        );
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(replacement(ours).is_none());
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n";
        assert!(replacement(with_body).is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
