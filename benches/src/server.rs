//! A local HTTP server that answers every request with the same bytes: the
//! "recorded response" of the request-overhead benchmark.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::Bytes;
use axum::extract::RawQuery;
use axum::http::header::CONTENT_TYPE;
use tokio::task::JoinHandle;

/// A running fixed-response server; dropping it stops it.
#[derive(Debug)]
pub struct FixedServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FixedServer {
    /// Serves `body` as `application/json` with status 200 on
    /// `127.0.0.1:<free port>`, for any method and path, in a task of the
    /// current runtime.
    pub async fn start(body: impl Into<Bytes>) -> io::Result<Self> {
        let body: Bytes = body.into();
        let app = Router::new().fallback(move || {
            let body = body.clone();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, task })
    }

    /// Serves `pages[0]` to a request without a `cursor` and `pages[n]`
    /// to one with `cursor=pN`: a paged list of fixed bytes.
    pub async fn start_paged(pages: Vec<Bytes>) -> io::Result<Self> {
        let app = Router::new().fallback(move |RawQuery(query): RawQuery| {
            let page = query
                .as_deref()
                .unwrap_or("")
                .split('&')
                .find_map(|pair| pair.strip_prefix("cursor=p"))
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(0);
            let body = pages.get(page).cloned().unwrap_or_default();
            async move { ([(CONTENT_TYPE, "application/json")], body) }
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FixedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
