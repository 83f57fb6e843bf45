//! `GET /v1/stream`: server-sent events of every committed change a client watches
//! (service.md "The stream").
//!
//! Each subscriber is a cursor (the last change id it was sent) and at most one page of
//! changes: it takes the changes after its cursor from the [`Hub`]'s ring, or from the store's
//! outbox when it is further behind (a reconnect with `Last-Event-ID`, a slow reader), and is
//! sent `reset` and closed when it is behind what the outbox keeps. A comment is sent every
//! 15 seconds. The stream ends when the server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use tokio::sync::watch;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::hub::{Frame, Next, PAGE};
use crate::AppState;

/// How often a comment line keeps an idle stream open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `?user=ID`.
#[derive(Deserialize, IntoParams)]
pub struct StreamQuery {
    /// The user whose changes to watch (a member's own by default; admins may leave it out to
    /// watch everyone, sensor events excepted).
    user: Option<String>,
}

/// What a subscriber watches.
#[derive(Clone)]
struct Filter {
    /// `None`: everyone (no sensor events).
    user: Option<String>,
    /// The user's groups (team rows of these teams are theirs too).
    teams: Vec<String>,
}

impl Filter {
    fn keeps(&self, change: &Frame) -> bool {
        match &self.user {
            None => change.kind != "sensor",
            Some(me) => match (&change.user, &change.team) {
                (Some(user), _) => user == me,
                (None, Some(team)) => self.teams.iter().any(|t| t == team),
                (None, None) => true,
            },
        }
    }
}

/// One subscriber's state between events.
struct Subscriber {
    app: Arc<AppState>,
    cursor: u64,
    filter: Filter,
    queue: VecDeque<Arc<Frame>>,
    woken: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
    /// Set once `reset` was sent: the stream ends.
    ended: bool,
    _gauge: Gauge,
}

/// Counts the open streams (the `stream subscribers` metric).
struct Gauge(Arc<AppState>);

impl Drop for Gauge {
    fn drop(&mut self) {
        self.0.metrics.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Server-sent events of the changes to the views a client watches.
#[utoipa::path(get, path = "/v1/stream", tag = "stream",
    params(StreamQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "resume after this change id")),
    responses((status = 200, description = "`text/event-stream`: events `result`, `live`, `workout`, `profile`, `reward`, `leaderboard`, `sensor`, and `reset`", content_type = "text/event-stream", body = String)),
    security(("bearer" = [])))]
pub async fn stream(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    let who = app.tokens.principal(&headers)?;
    let user = match (&who, q.user) {
        (Principal::Member(me), None) => Some(me.clone()),
        (_, Some(user)) => {
            who.admin_or_self(&user)?;
            Some(user)
        }
        (_, None) => {
            who.admin()?;
            None
        }
    };
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request("`Last-Event-ID` is not a change id"))
        })
        .transpose()?;
    let teams = match &user {
        Some(u) => groups_of(&app, u.clone()).await?,
        None => Vec::new(),
    };
    let woken = app.hub.subscribe();
    let head = app.hub.head();
    app.metrics.subscribers.fetch_add(1, Ordering::Relaxed);
    let mut subscriber = Subscriber {
        app: Arc::clone(&app),
        cursor: head,
        filter: Filter { user, teams },
        queue: VecDeque::new(),
        woken,
        shutdown: app.shutdown.clone(),
        ended: false,
        _gauge: Gauge(Arc::clone(&app)),
    };
    let mut first: Option<Bytes> = None;
    match last {
        Some(n) if n > head => {
            // An id this server never gave (another file, a restore): start over.
            first = Some(reset());
            subscriber.ended = true;
        }
        Some(n) => subscriber.cursor = n,
        None => {}
    }
    let events = stream::unfold((subscriber, first), |(mut s, first)| async move {
        if let Some(bytes) = first {
            return Some((Ok::<Bytes, Infallible>(bytes), (s, None)));
        }
        let bytes = s.next().await?;
        Some((Ok(bytes), (s, None)))
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            // Asks a reverse proxy (nginx) not to buffer the stream.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(events),
    )
        .into_response())
}

/// A user's groups, from the stored record.
async fn groups_of(app: &AppState, user: String) -> Result<Vec<String>, ApiError> {
    crate::api::read(app, move |s| crate::api::groups(s, &user)).await
}

/// `event: reset`: the client must refetch; the stream ends after it.
fn reset() -> Bytes {
    Bytes::from_static(b"event: reset\ndata: {}\n\n")
}

/// The comment sent on an idle stream.
fn keep_alive() -> Bytes {
    Bytes::from_static(b": keep-alive\n\n")
}

impl Subscriber {
    /// The next event (or keep-alive comment), waiting for one; `None` when the stream ends.
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            match self.queue.len() {
                0 => {}
                1 => return self.queue.pop_front().map(|f| f.bytes().clone()),
                _ => {
                    // Everything taken at once goes out in one write.
                    let size = self.queue.iter().map(|f| f.bytes().len()).sum();
                    let mut out = Vec::with_capacity(size);
                    for frame in self.queue.drain(..) {
                        out.extend_from_slice(frame.bytes());
                    }
                    return Some(Bytes::from(out));
                }
            }
            if self.ended || *self.shutdown.borrow() {
                return None;
            }
            let filter = self.filter.clone();
            let (next, cursor) = self.app.hub.after(self.cursor, PAGE, |c| filter.keeps(c));
            match next {
                Next::Changes(changes) => {
                    self.cursor = cursor;
                    self.queue.extend(changes);
                }
                Next::Behind => match self.read_outbox().await {
                    Some(()) => {}
                    None => {
                        self.ended = true;
                        return Some(reset());
                    }
                },
                Next::Idle => {
                    self.cursor = cursor;
                    tokio::select! {
                        changed = self.woken.changed() => {
                            if changed.is_err() {
                                return None;
                            }
                        }
                        _ = self.shutdown.changed() => return None,
                        () = tokio::time::sleep(KEEP_ALIVE) => return Some(keep_alive()),
                    }
                }
            }
        }
    }

    /// Takes the next page after the cursor from the outbox; `None` when the cursor is older
    /// than what the outbox keeps (the client must refetch).
    async fn read_outbox(&mut self) -> Option<()> {
        let readers = Arc::clone(&self.app.readers);
        let after = self.cursor;
        let page = tokio::task::spawn_blocking(move || {
            readers.with(|s| {
                let (oldest, _) = s.change_bounds()?;
                if oldest > after + 1 {
                    return Ok(None);
                }
                s.changes_after(after, PAGE as u64).map(Some)
            })
        })
        .await
        .ok()?
        .ok()??;
        let (page, last) = page;
        if last == after {
            // Behind the ring, but nothing in the outbox after the cursor: pruned meanwhile.
            return None;
        }
        self.cursor = last;
        let filter = &self.filter;
        self.queue.extend(
            page.into_iter()
                .map(Frame::of)
                .filter(|f| filter.keeps(f))
                .map(Arc::new),
        );
        Some(())
    }
}
