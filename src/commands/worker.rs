//! `challenge worker`: a scale-out worker (docs/scale-out.md) over a PostgreSQL store and
//! RabbitMQ partition streams. Glue: flags, the challenges through the CLI's input readers,
//! and log lines on stderr; the worker lives in `challenge-scale`.

use std::sync::atomic::AtomicBool;

use challenge_scale::worker::{self, WorkerConfig};
use pipeline::engine::Options;

use crate::cli::WorkerArgs;
use crate::input;
use crate::{Failure, Outcome};

/// Runs the worker until the process is stopped (a signal ends it at once: the store and the
/// streams hold everything, and the other workers take its partitions).
pub fn run(args: &WorkerArgs) -> Outcome {
    if !challenge_scale::postgres::is_url(&args.store) {
        return Err(Failure::Usage(format!(
            "--store {}: a PostgreSQL URL (`postgres://user@host:port/name`)",
            args.store
        )));
    }
    if !(args.broker.starts_with("amqp://") || args.broker.starts_with("amqps://")) {
        return Err(Failure::Usage(format!(
            "--broker {}: an AMQP URL (`amqp://user:pass@host:port/vhost`)",
            challenge_scale::postgres::redact(&args.broker)
        )));
    }
    for url in &args.webhook {
        challenge_server::webhooks::check_url(url)
            .map_err(|e| Failure::Usage(format!("--webhook {url}: {e}")))?;
    }
    let catalog = input::catalog(&args.catalog)?;
    let challenges = args
        .challenges
        .as_deref()
        .map(|dir| input::challenges_in(dir, &catalog))
        .transpose()?;
    let config = WorkerConfig {
        store: args.store.clone(),
        broker: args.broker.clone(),
        prefix: args.streams.clone(),
        partitions: args.partitions,
        batch: usize::try_from(args.batch).unwrap_or(usize::MAX),
        options: Options {
            catalog,
            webhooks: args.webhook.clone(),
            ..Options::default()
        },
        challenges,
        retain_events: args
            .retain_events
            .map(|d| {
                chrono::Duration::from_std(d)
                    .map_err(|e| Failure::Usage(format!("--retain-events: {e}")))
            })
            .transpose()?,
        reduce: !args.partitions_only,
    };
    let stop = AtomicBool::new(false);
    worker::run(&config, &stop, &|line| eprintln!("worker: {line}"));
    Ok(())
}
