//! The stream's fan-out (service.md "The stream"): the writer puts each commit's changes into a
//! bounded ring after the commit, and wakes the subscribers; each subscriber pulls the changes
//! after its cursor, from the ring, or from the store's outbox when it is further behind.
//!
//! **Invariant:** a subscriber never receives a change before its commit (the ring is filled
//! after `Store::commit` returns), receives changes in sequence order, and holds at most one
//! page of changes: a client that reads slowly only moves its cursor slowly, and one that falls
//! behind what the outbox keeps is sent `reset` and closed. Nothing is buffered per subscriber
//! beyond that page, whatever the traffic.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock, RwLock};

use axum::body::Bytes;
use pipeline::feed::Committed;
use tokio::sync::watch;

/// A committed change, with its server-sent event written once, by the first subscriber that
/// sends it, and shared by every other (no subscriber, no cost).
#[derive(Debug)]
pub struct Frame {
    /// The change's sequence number.
    pub seq: u64,
    /// Its kind (the `event:`).
    pub kind: &'static str,
    /// The user the row is about (`None`: everyone's, or a team's).
    pub user: Option<String>,
    /// The team a team row is about.
    pub team: Option<String>,
    /// The row (or the sensor event as posted).
    data: String,
    /// `event: KIND\nid: SEQ\ndata: ROW\n\n`, written on first use.
    bytes: OnceLock<Bytes>,
}

impl Frame {
    /// The frame of a committed change.
    pub fn of(c: Committed) -> Frame {
        Frame {
            seq: c.seq,
            kind: c.change.kind,
            user: c.change.user,
            team: c.change.team,
            data: c.change.data,
            bytes: OnceLock::new(),
        }
    }

    /// The server-sent event.
    pub fn bytes(&self) -> &Bytes {
        self.bytes.get_or_init(|| {
            let mut text = String::with_capacity(self.data.len() + 40);
            text.push_str("event: ");
            text.push_str(self.kind);
            text.push_str("\nid: ");
            text.push_str(&self.seq.to_string());
            // A row is one line of JSON; a sensor event is one line as posted. Should a line
            // break ever be in there, each line gets its own `data:` (the SSE rule).
            for line in self.data.split('\n') {
                text.push_str("\ndata: ");
                text.push_str(line.strip_suffix('\r').unwrap_or(line));
            }
            text.push_str("\n\n");
            Bytes::from(text)
        })
    }
}

/// Changes kept in memory for the subscribers that keep up (at most: never more than the
/// outbox keeps, so that "older than the server keeps" means the same from both).
pub const RING: usize = 65_536;

/// Changes a subscriber takes at once.
pub const PAGE: usize = 256;

/// The ring of the newest committed changes, and the signal of a new commit.
pub struct Hub {
    ring: RwLock<Ring>,
    capacity: usize,
    head: watch::Sender<u64>,
}

struct Ring {
    /// The sequence number of the first entry (when not empty: entries are consecutive).
    first: u64,
    entries: VecDeque<Arc<Frame>>,
}

/// What a subscriber gets next.
pub enum Next {
    /// Changes after its cursor, in order (from the ring).
    Changes(Vec<Arc<Frame>>),
    /// Its cursor is older than the ring: read the outbox.
    Behind,
    /// Nothing newer yet.
    Idle,
}

impl Hub {
    /// A hub whose last committed change is `head`, keeping up to `capacity` changes (and at
    /// most [`RING`]).
    pub fn new(head: u64, capacity: usize) -> Hub {
        Hub {
            ring: RwLock::new(Ring {
                first: head + 1,
                entries: VecDeque::new(),
            }),
            capacity: capacity.clamp(1, RING),
            head: watch::channel(head).0,
        }
    }

    /// The last committed change's sequence number.
    pub fn head(&self) -> u64 {
        *self.head.borrow()
    }

    /// Publishes committed changes (in sequence order, after the current head), then wakes the
    /// subscribers.
    pub fn publish(&self, changes: Vec<Committed>) {
        let Some(last) = changes.last().map(|c| c.seq) else {
            return;
        };
        if let Ok(mut ring) = self.ring.write() {
            for c in changes {
                if ring.entries.is_empty() {
                    ring.first = c.seq;
                }
                ring.entries.push_back(Arc::new(Frame::of(c)));
            }
            while ring.entries.len() > self.capacity {
                ring.entries.pop_front();
                // The next one's number (changes may skip numbers: a scale-out gateway leaves
                // out those whose row is gone).
                ring.first = ring.entries.front().map_or(last + 1, |c| c.seq);
            }
        }
        self.head.send_replace(last);
    }

    /// A receiver woken at every publish.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }

    /// Up to `limit` changes after `cursor` that `keep` accepts (those it skips still move
    /// the cursor: the second value is the new cursor).
    pub fn after(&self, cursor: u64, limit: usize, keep: impl Fn(&Frame) -> bool) -> (Next, u64) {
        let Ok(ring) = self.ring.read() else {
            return (Next::Idle, cursor);
        };
        let Some(last) = ring.entries.back().map(|c| c.seq) else {
            return (Next::Idle, cursor);
        };
        if cursor >= last {
            return (Next::Idle, cursor);
        }
        if cursor + 1 < ring.first {
            return (Next::Behind, cursor);
        }
        let skip = ring.entries.partition_point(|c| c.seq <= cursor);
        let mut out = Vec::new();
        let mut moved = cursor;
        for c in ring.entries.range(skip.min(ring.entries.len())..) {
            moved = c.seq;
            if keep(c) {
                out.push(Arc::clone(c));
                if out.len() >= limit {
                    break;
                }
            }
        }
        if out.is_empty() {
            (Next::Idle, moved)
        } else {
            (Next::Changes(out), moved)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::feed::Change;

    fn change(seq: u64, user: &str) -> Committed {
        Committed {
            seq,
            change: Change {
                kind: "result",
                user: Some(user.into()),
                team: None,
                key: "c".into(),
                data: format!("{{\"n\":{seq}}}"),
            },
        }
    }

    #[test]
    fn subscribers_get_changes_after_their_cursor_in_order() {
        let hub = Hub::new(10, RING);
        assert!(matches!(hub.after(10, 10, |_| true).0, Next::Idle));
        hub.publish((11..=15).map(|s| change(s, "u")).collect());
        assert_eq!(hub.head(), 15);
        let (Next::Changes(c), cursor) = hub.after(12, 10, |_| true) else {
            panic!("expected changes");
        };
        assert_eq!(c.iter().map(|c| c.seq).collect::<Vec<_>>(), [13, 14, 15]);
        assert_eq!(cursor, 15);
        assert!(matches!(hub.after(9, 10, |_| true).0, Next::Behind));
    }

    #[test]
    fn a_filter_skips_without_losing_the_cursor() {
        let hub = Hub::new(0, RING);
        hub.publish(vec![change(1, "a"), change(2, "b"), change(3, "a")]);
        let keep = |c: &Frame| c.user.as_deref() == Some("b");
        let (Next::Changes(c), cursor) = hub.after(0, 1, keep) else {
            panic!("expected changes");
        };
        assert_eq!(c.len(), 1);
        assert_eq!(cursor, 2);
        let (next, cursor) = hub.after(cursor, 1, keep);
        assert!(matches!(next, Next::Idle));
        assert_eq!(cursor, 3, "skipped changes still move the cursor");
    }

    #[test]
    fn the_ring_is_bounded() {
        let hub = Hub::new(0, RING);
        let n = u64::try_from(RING).unwrap() + 10;
        hub.publish((1..=n).map(|s| change(s, "u")).collect());
        assert!(matches!(hub.after(5, 1, |_| true).0, Next::Behind));
        assert!(matches!(hub.after(10, 1, |_| true).0, Next::Changes(_)));
    }
}
