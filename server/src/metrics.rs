//! `GET /metrics`: Prometheus text format (service.md), for loopback callers without a token
//! and for admins.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use challenge_scale::AnyStore;
use pipeline::store::Counters;

use crate::error::ApiError;
use crate::AppState;

/// The service's counters.
#[derive(Default)]
pub struct Metrics {
    /// Event lines read, accepted, rejected over HTTP.
    read: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    /// Open streams.
    pub subscribers: AtomicU64,
    /// Webhook deliveries that got a `2xx`.
    delivered: AtomicU64,
}

impl Metrics {
    /// Counts an events request's lines.
    pub fn events(&self, c: &Counters) {
        self.read.fetch_add(c.read, Ordering::Relaxed);
        self.accepted.fetch_add(c.accepted, Ordering::Relaxed);
        self.rejected.fetch_add(c.rejected, Ordering::Relaxed);
    }

    /// Counts a webhook delivery that got a `2xx`.
    pub fn delivered(&self) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
    }
}

/// The metrics, as Prometheus text.
pub async fn handler(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !peer.ip().is_loopback() {
        state.tokens.principal(&headers)?.admin()?;
    }
    let m = &state.metrics;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
        ));
    };
    metric(
        "challenge_events_read_total",
        "counter",
        "Event lines read over HTTP.",
        get(&m.read),
    );
    metric(
        "challenge_events_accepted_total",
        "counter",
        "Event lines accepted (durable).",
        get(&m.accepted),
    );
    metric(
        "challenge_events_rejected_total",
        "counter",
        "Event lines rejected to dead letters.",
        get(&m.rejected),
    );
    metric(
        "challenge_batches_total",
        "counter",
        "Transactions committed by the writer.",
        get(&state.shared.batches),
    );
    metric(
        "challenge_log_head",
        "gauge",
        "The last log position committed.",
        get(&state.shared.log_head),
    );
    metric(
        "challenge_stream_subscribers",
        "gauge",
        "Open /v1/stream connections.",
        get(&m.subscribers),
    );
    metric(
        "challenge_stream_head",
        "gauge",
        "The last change id published to the stream.",
        state.hub.head(),
    );
    metric(
        "challenge_open_sessions",
        "gauge",
        "Sessions under way (a start, no end yet).",
        get(&state.shared.open_sessions),
    );
    let owed = crate::api::read(&state, AnyStore::deliveries_owed).await?;
    metric(
        "challenge_webhook_deliveries_owed",
        "gauge",
        "Webhook deliveries of issued rewards not yet answered with a 2xx.",
        owed,
    );
    metric(
        "challenge_webhook_deliveries_total",
        "counter",
        "Webhook deliveries answered with a 2xx.",
        get(&m.delivered),
    );
    state.shared.commit_seconds.write(
        "challenge_batch_seconds",
        "Time from the writer taking a batch of event posts to its commit.",
        &mut out,
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}
