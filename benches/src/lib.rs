//! Shared pieces of the benchmarks in `benches/`: the response bodies they
//! decode, the zero-copy structs that set the floor for typed decoding, a
//! local server of fixed bytes, and the JSON lines the measured (non-criterion)
//! runs print.
//!
//! Run everything and write `benches/REPORT.md` with
//! `cargo xtask bench-report`; run one bench with, e.g.,
//! `cargo bench -p clickhouse-cloud-benches --features official --bench decode`.

pub mod bodies;
pub mod borrowed;
pub mod cases;
pub mod paired;
pub mod server;
pub mod startup;

use clickhouse_cloud_transport::{
    BoxFuture, Bytes, Error, HttpRequest, HttpResponse, StatusCode, Transport,
};

/// A transport that answers every request with the same `200` body, with no
/// network: puts our client's whole request path, decoding included, under
/// measurement without a socket.
#[derive(Debug, Clone)]
pub struct FixedTransport {
    body: Bytes,
}

impl FixedTransport {
    /// Answers with `body`.
    pub fn new(body: impl Into<Bytes>) -> Self {
        Self { body: body.into() }
    }
}

impl Transport for FixedTransport {
    fn send(&self, _request: HttpRequest) -> BoxFuture<'_, Result<HttpResponse, Error>> {
        let body = self.body.clone();
        Box::pin(async move {
            Ok(HttpResponse {
                status: StatusCode::OK,
                headers: Default::default(),
                body,
            })
        })
    }
}

/// Prints one result of a measured run as a JSON line on stdout, which
/// `cargo xtask bench-report` reads back.
pub fn print_result(value: &serde_json::Value) {
    println!("{value}");
}

/// Installs a global tracing subscriber at `INFO` that writes to a sink: the
/// "tracing on" condition of the request benches. Harmless when one is
/// already installed.
pub fn install_sink_subscriber() {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::INFO)
        .with_writer(std::io::sink)
        .finish();
    let _ = tracing::subscriber::set_global_default(subscriber);
}
