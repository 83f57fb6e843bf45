//! The transport on RabbitMQ streams (AMQP 0.9.1, lapin): one stream per partition, published
//! with publisher confirms, consumed from a stored offset.
//!
//! ```text
//! gateway ──publish (confirms)──► <prefix>.0 … <prefix>.N-1 (x-queue-type=stream) ──► worker
//!          route: the user of every line (crate::directory: a session's events by the user
//!          of its session_start), so a partition holds whole users
//! ```
//!
//! - A line's partition is [`pipeline::partition::partition_of`] of its user, as the session
//!   directory ([`crate::directory`]) routes it; [`Publisher::publish`] takes only what the
//!   directory routed, so nothing is published by session id. A line that names no user and
//!   no session (not JSON, no type) goes to partition 0, where the worker makes it a dead
//!   letter as the embedded pipeline does.
//! - A tick is published to every partition; the worker applies it once every partition has
//!   delivered it (a barrier), so it falls between the same events in every partition.
//! - [`Publisher::publish`] returns once the broker has confirmed every message (durable in
//!   its stream); a nack or a lost connection is an error and nothing is acknowledged.
//! - [`Subscription`] consumes each stream from the next offset the worker has not committed
//!   (`x-stream-offset`) and skips anything below it (a stream delivers from the start of a
//!   chunk).
//!
//! **Invariant:** the broker is never the record of what was applied: the offsets live in
//! the store, committed with the batch that consumed them; acknowledgements to the broker only
//! grant credit.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

use crate::directory::Routed;

/// A broker failure, in a user's words.
#[derive(Debug)]
pub struct BrokerError(pub String);

impl std::fmt::Display for BrokerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rabbitmq: {}", self.0)
    }
}

impl std::error::Error for BrokerError {}

fn broker_error(what: &str, e: lapin::Error) -> BrokerError {
    BrokerError(format!("{what}: {e}"))
}

/// The header that marks a tick (its body is the tick's JSON).
const KIND_HEADER: &str = "challenge-kind";

/// Messages the broker may send a consumer ahead of its acknowledgements, per stream.
const PREFETCH: u16 = 2_000;

/// What a message carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A sensor event line, as posted.
    Event,
    /// A tick: `{"type":"tick","at":...,"timezone":...}`.
    Tick,
    /// An admin change of a source of truth (a challenge put or deleted, a user deleted or
    /// erased; `worker::Admin` is its body), published to every partition like a tick and
    /// applied at the same barrier.
    Admin,
}

impl Kind {
    /// A message every partition carries, applied once all of them have reached it.
    pub fn is_barrier(self) -> bool {
        self != Kind::Event
    }

    /// Its value in the kind header (`None`: an event, which has no header).
    fn header(self) -> Option<&'static str> {
        match self {
            Kind::Event => None,
            Kind::Tick => Some("tick"),
            Kind::Admin => Some("admin"),
        }
    }
}

/// A message consumed from a partition's stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The partition.
    pub partition: u32,
    /// Its offset in the partition's stream.
    pub offset: u64,
    /// Event or tick.
    pub kind: Kind,
    /// The line.
    pub body: String,
}

/// The message of each partition: `lines` (each with its partition, as the session directory
/// routed it), newline-separated in their order, blank lines dropped. Pure: the one message
/// per partition a request becomes.
pub fn bodies_by_partition<'a>(
    lines: impl IntoIterator<Item = (&'a str, u32)>,
) -> BTreeMap<u32, String> {
    let mut bodies: BTreeMap<u32, String> = BTreeMap::new();
    for (line, p) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let body = bodies.entry(p).or_default();
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(line);
    }
    bodies
}

/// A connection to the broker, with the partition streams declared.
pub struct Broker {
    runtime: Runtime,
    connection: Connection,
    prefix: String,
    partitions: u32,
}

impl Broker {
    /// Connects to `url` (`amqp://user:pass@host:port/vhost`) and declares the streams
    /// `<prefix>.0` to `<prefix>.<partitions - 1>` (durable, `x-queue-type=stream`).
    pub fn connect(url: &str, prefix: &str, partitions: u32) -> Result<Broker, BrokerError> {
        if partitions == 0 {
            return Err(BrokerError("the partition count must be at least 1".into()));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| BrokerError(format!("cannot start the broker's runtime: {e}")))?;
        let name = crate::postgres::redact(url);
        let connection = runtime
            .block_on(Connection::connect(url, ConnectionProperties::default()))
            .map_err(|e| broker_error(&format!("cannot connect to `{name}`"), e))?;
        let broker = Broker {
            runtime,
            connection,
            prefix: prefix.to_owned(),
            partitions,
        };
        broker.declare()?;
        Ok(broker)
    }

    /// The stream of partition `p`.
    pub fn stream(&self, p: u32) -> String {
        format!("{}.{p}", self.prefix)
    }

    /// The partition count.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    fn declare(&self) -> Result<(), BrokerError> {
        self.runtime.block_on(async {
            let channel = self
                .connection
                .create_channel()
                .await
                .map_err(|e| broker_error("cannot open a channel", e))?;
            let mut args = FieldTable::default();
            args.insert(
                ShortString::from("x-queue-type"),
                AMQPValue::LongString("stream".into()),
            );
            for p in 0..self.partitions {
                channel
                    .queue_declare(
                        self.stream(p).into(),
                        QueueDeclareOptions {
                            durable: true,
                            ..QueueDeclareOptions::default()
                        },
                        args.clone(),
                    )
                    .await
                    .map_err(|e| {
                        broker_error(&format!("cannot declare `{}`", self.stream(p)), e)
                    })?;
            }
            let _ = channel.close(200, "declared".into()).await;
            Ok(())
        })
    }

    /// A publisher (its own channel, in confirm mode).
    pub fn publisher(&self) -> Result<Publisher<'_>, BrokerError> {
        let channel = self.runtime.block_on(async {
            let channel = self
                .connection
                .create_channel()
                .await
                .map_err(|e| broker_error("cannot open a channel", e))?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(|e| broker_error("cannot turn publisher confirms on", e))?;
            Ok::<_, BrokerError>(channel)
        })?;
        Ok(Publisher {
            broker: self,
            channel,
        })
    }

    /// Consumes partition `p`'s stream from offset `next`, for every (p, next) of `from`.
    pub fn subscribe(&self, from: &BTreeMap<u32, u64>) -> Result<Subscription<'_>, BrokerError> {
        let (tx, rx) = mpsc::channel::<Result<Message, BrokerError>>(usize::from(PREFETCH) * 4);
        let channel = self.runtime.block_on(async {
            let channel = self
                .connection
                .create_channel()
                .await
                .map_err(|e| broker_error("cannot open a channel", e))?;
            channel
                .basic_qos(PREFETCH, BasicQosOptions::default())
                .await
                .map_err(|e| broker_error("cannot set the prefetch", e))?;
            for (&p, &next) in from {
                let mut args = FieldTable::default();
                args.insert(
                    ShortString::from("x-stream-offset"),
                    AMQPValue::LongLongInt(i64::try_from(next).unwrap_or(i64::MAX)),
                );
                let mut consumer = channel
                    .basic_consume(
                        self.stream(p).into(),
                        format!("partition-{p}").into(),
                        BasicConsumeOptions::default(),
                        args,
                    )
                    .await
                    .map_err(|e| {
                        broker_error(&format!("cannot consume `{}`", self.stream(p)), e)
                    })?;
                let tx = tx.clone();
                tokio::spawn(async move {
                    while let Some(delivery) = consumer.next().await {
                        let delivery = match delivery {
                            Ok(d) => d,
                            Err(e) => {
                                let _ = tx.send(Err(broker_error("consuming", e))).await;
                                return;
                            }
                        };
                        let message = decode(p, &delivery);
                        // Credit for the next messages: the offsets live in the store.
                        let _ = delivery.ack(BasicAckOptions::default()).await;
                        let Some(message) = message else {
                            continue;
                        };
                        if message.offset < next {
                            continue;
                        }
                        if tx.send(Ok(message)).await.is_err() {
                            return;
                        }
                    }
                    let _ = tx
                        .send(Err(BrokerError(format!(
                            "the consumer of partition {p} was cancelled"
                        ))))
                        .await;
                });
            }
            Ok::<_, BrokerError>(channel)
        })?;
        Ok(Subscription {
            broker: self,
            _channel: channel,
            rx,
        })
    }
}

/// A delivery as a [`Message`]: its offset from the `x-stream-offset` header (`None` without).
fn decode(partition: u32, delivery: &lapin::message::Delivery) -> Option<Message> {
    let headers = delivery.properties.headers().as_ref()?;
    let mut offset = None;
    let mut kind = Kind::Event;
    for (k, v) in headers {
        match (k.as_str(), v) {
            ("x-stream-offset", AMQPValue::LongLongInt(o)) => offset = u64::try_from(*o).ok(),
            (KIND_HEADER, AMQPValue::LongString(s)) => {
                kind = match s.to_string().as_str() {
                    "tick" => Kind::Tick,
                    "admin" => Kind::Admin,
                    _ => Kind::Event,
                };
            }
            _ => {}
        }
    }
    Some(Message {
        partition,
        offset: offset?,
        kind,
        body: String::from_utf8_lossy(&delivery.data).into_owned(),
    })
}

/// Publishes lines and ticks to the partition streams, waiting for the broker's confirms.
pub struct Publisher<'a> {
    broker: &'a Broker,
    channel: Channel,
}

impl Publisher<'_> {
    /// The partition count.
    pub fn partitions(&self) -> u32 {
        self.broker.partitions
    }

    /// Publishes a request the session directory routed (each line to its user's partition,
    /// in order: [`crate::directory::Directory::publish`] is the way to call it) and waits
    /// until the broker has confirmed every message. The lines of one partition travel as one
    /// message (their order kept, one per line): a stream's cost is per message, and a
    /// request of 5,000 lines over 64 partitions becomes 64 messages instead of 5,000.
    pub fn publish(&self, routed: &Routed<'_>) -> Result<(), BrokerError> {
        if routed.partitions() != self.broker.partitions {
            return Err(BrokerError(format!(
                "a request routed for {} partitions cannot go to {}",
                routed.partitions(),
                self.broker.partitions
            )));
        }
        let messages: Vec<(u32, &str, Kind)> = routed
            .bodies()
            .iter()
            .map(|(p, body)| (*p, body.as_str(), Kind::Event))
            .collect();
        self.send(&messages)
    }

    /// Publishes a tick at `at` (RFC 3339) in `timezone` to every partition and waits for the
    /// confirms. Ticks must not be published by two publishers at once (a barrier needs the
    /// same order of ticks in every stream): the gateway holds a lock in the store around it.
    pub fn tick(&self, at: &str, timezone: &str) -> Result<(), BrokerError> {
        self.barrier(Kind::Tick, &pipeline::engine::tick_body(at, timezone))
    }

    /// Publishes a barrier message (a tick or an admin change) to every partition and waits
    /// for the confirms; the same lock as for [`Publisher::tick`] must be held.
    pub fn barrier(&self, kind: Kind, body: &str) -> Result<(), BrokerError> {
        let messages: Vec<(u32, &str, Kind)> = (0..self.broker.partitions)
            .map(|p| (p, body, kind))
            .collect();
        self.send(&messages)
    }

    fn send(&self, messages: &[(u32, &str, Kind)]) -> Result<(), BrokerError> {
        self.broker.runtime.block_on(async {
            let mut confirms = Vec::with_capacity(messages.len());
            for (p, body, kind) in messages {
                let mut properties = BasicProperties::default().with_delivery_mode(2);
                if let Some(name) = kind.header() {
                    let mut headers = FieldTable::default();
                    headers.insert(
                        ShortString::from(KIND_HEADER),
                        AMQPValue::LongString(name.into()),
                    );
                    properties = properties.with_headers(headers);
                }
                let confirm = self
                    .channel
                    .basic_publish(
                        "".into(),
                        self.broker.stream(*p).into(),
                        BasicPublishOptions::default(),
                        body.as_bytes(),
                        properties,
                    )
                    .await
                    .map_err(|e| broker_error("cannot publish", e))?;
                confirms.push(confirm);
            }
            for confirm in confirms {
                let confirmation = confirm
                    .await
                    .map_err(|e| broker_error("no confirm from the broker", e))?;
                if !confirmation.is_ack() {
                    return Err(BrokerError(
                        "the broker refused a message (nack); nothing of this request is \
                         acknowledged"
                            .into(),
                    ));
                }
            }
            Ok(())
        })
    }
}

/// The messages of the subscribed streams, as they come.
pub struct Subscription<'a> {
    broker: &'a Broker,
    _channel: Channel,
    rx: mpsc::Receiver<Result<Message, BrokerError>>,
}

impl Subscription<'_> {
    /// Up to `max` messages: waits up to `wait` for the first, then takes what has arrived.
    pub fn next_batch(&mut self, max: usize, wait: Duration) -> Result<Vec<Message>, BrokerError> {
        let rx = &mut self.rx;
        self.broker.runtime.block_on(async {
            let mut out = Vec::new();
            match tokio::time::timeout(wait, rx.recv()).await {
                Err(_) => return Ok(out),
                Ok(None) => return Err(BrokerError("the connection closed".into())),
                Ok(Some(m)) => out.push(m?),
            }
            while out.len() < max {
                match rx.try_recv() {
                    Ok(m) => out.push(m?),
                    Err(_) => break,
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::partition::partition_of;

    #[test]
    fn a_request_becomes_one_message_per_partition_in_order() {
        let lines: Vec<String> = (0..200)
            .map(|i| format!(r#"{{"type":"rep","session":"s-{}","seq":{i}}}"#, i % 7))
            .chain(["  ".to_owned(), String::new()])
            .collect();
        let route = |line: &str| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            partition_of(v["session"].as_str().unwrap_or_default(), 4)
        };
        let bodies = bodies_by_partition(lines.iter().map(|l| (l.as_str(), route(l))));
        let mut seen = 0;
        for (p, body) in &bodies {
            let mut last_seq: BTreeMap<String, i64> = BTreeMap::new();
            for line in body.lines() {
                assert_eq!(route(line), *p, "{line}");
                let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
                let session = v["session"].as_str().unwrap_or_default().to_owned();
                let seq = v["seq"].as_i64().unwrap_or(-1);
                // Each session's lines keep their order.
                assert!(last_seq.get(&session).is_none_or(|&s| s < seq), "{line}");
                last_seq.insert(session, seq);
                seen += 1;
            }
        }
        assert_eq!(seen, 200, "every non-blank line once");
        assert!(bodies.len() > 1 && bodies.len() <= 4);
    }

    #[test]
    fn bodies_keep_the_given_partitions_and_order() {
        let bodies = bodies_by_partition([("a", 3), ("b", 0), ("", 1), ("c", 3), (" ", 0)]);
        assert_eq!(
            bodies.into_iter().collect::<Vec<_>>(),
            [(0, "b".to_owned()), (3, "a\nc".to_owned())]
        );
    }
}
