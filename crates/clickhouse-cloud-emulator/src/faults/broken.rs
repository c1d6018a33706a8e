//! Bodies that break: none at all (a reset), or half of one.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_LENGTH;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

/// How long a cut-off body waits, after its first bytes, before the
/// connection is closed (so the bytes reach the client first).
const CUT_OFF_PAUSE: Duration = Duration::from_millis(50);
/// A response whose body fails at once: hyper drops the connection before
/// the head leaves its write buffer, so the client gets no response.
pub(super) fn reset() -> Response {
    Response::new(Body::new(Broken {
        first: None,
        declared: None,
        pause: None,
    }))
}

/// The response's head with a `Content-Length` for the whole body, half of
/// the body, then a closed connection.
pub(super) async fn cut_off(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return reset();
    };
    let declared = bytes.len().max(1) as u64;
    let first = bytes.slice(..bytes.len() / 2);
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(declared));
    let body = Broken {
        first: Some(first),
        declared: Some(declared),
        pause: None,
    };
    Response::from_parts(parts, Body::new(body))
}

/// A body that yields `first` (if any), pauses so it is flushed, then fails.
struct Broken {
    first: Option<Bytes>,
    declared: Option<u64>,
    pause: Option<Pin<Box<Sleep>>>,
}

impl HttpBody for Broken {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(first) = self.first.take().filter(|first| !first.is_empty()) {
            self.pause = Some(Box::pin(tokio::time::sleep(CUT_OFF_PAUSE)));
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if let Some(pause) = self.pause.as_mut()
            && pause.as_mut().poll(cx).is_pending()
        {
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection dropped by an injected fault",
        ))))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        match self.declared {
            Some(length) => SizeHint::with_exact(length),
            None => SizeHint::default(),
        }
    }
}
