//! `challenge serve`: reads the flags, the tokens and the challenges through the CLI's input
//! readers, and runs the service (`challenge-server`); `challenge serve token` makes a token.

use challenge_server::auth::{self, Tokens};
use challenge_server::{Config, ServeError};

use crate::cli::{LogFormat, ServeArgs, ServeCommand, TokenArgs};
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &ServeArgs) -> Outcome {
    if let Some(ServeCommand::Token(t)) = &args.command {
        return token(t);
    }
    let catalog = input::catalog(&args.catalog)?;
    rules_core::leaderboard::parse_timezone(&args.timezone)
        .map_err(|e| Failure::Usage(format!("--timezone: {e}")))?;
    let tokens = match &args.tokens {
        None => Tokens::open(),
        Some(path) => {
            let text = input::read_text(path)?;
            Tokens::read(path, &text).map_err(|e| Failure::Usage(e.to_string()))?
        }
    };
    if let Some(dir) = &args.console {
        if !dir.join("index.html").is_file() {
            return Err(Failure::Usage(format!(
                "--console {}: no index.html there (build the console with `bash rules-wasm/build.sh`)",
                dir.display()
            )));
        }
    }
    for url in &args.webhook {
        challenge_server::webhooks::check_url(url)
            .map_err(|e| Failure::Usage(format!("--webhook {url}: {e}")))?;
    }
    let scale = match (&args.store, &args.broker) {
        (Some(store), Some(broker)) => {
            if !challenge_scale::postgres::is_url(store) {
                return Err(Failure::Usage(format!(
                    "--store {store}: a PostgreSQL URL (`postgres://user@host:port/name`)"
                )));
            }
            if !(broker.starts_with("amqp://") || broker.starts_with("amqps://")) {
                return Err(Failure::Usage(format!(
                    "--broker {}: an AMQP URL (`amqp://user:pass@host:port/vhost`)",
                    challenge_scale::postgres::redact(broker)
                )));
            }
            if args.challenges.is_some() {
                return Err(Failure::Usage(
                    "--challenges with --store: the workers hold the challenges; give them \
                     `challenge worker --challenges DIR`"
                        .into(),
                ));
            }
            if args.retain_events.is_some() {
                return Err(Failure::Usage(
                    "--retain-events is not available in scale-out yet (docs/scale-out.md)".into(),
                ));
            }
            Some(challenge_server::gateway::Scale {
                store: store.clone(),
                broker: broker.clone(),
                streams: args.streams.clone(),
                partitions: args.partitions,
            })
        }
        _ => None,
    };
    let challenges = args
        .challenges
        .as_deref()
        .map(|dir| input::challenges_in(dir, &catalog))
        .transpose()?;
    let config = Config {
        db: args.db.clone(),
        challenges,
        listen: args.listen,
        tokens,
        timezone: args.timezone.clone(),
        catalog,
        tick_every: args.tick_every,
        outbox_keep: args.outbox_keep,
        retain_events: args.retain_events,
        console: challenge_server::console::locate(args.console.as_deref()),
        webhooks: args.webhook.clone(),
        webhook_timeout: args.webhook_timeout,
        scale,
    };
    challenge_server::run(config, args.log_format == LogFormat::Json).map_err(|e| match e {
        ServeError::Usage(m) => Failure::Usage(m),
        ServeError::Failed(m) => Failure::Usage(format!("serve: {m}")),
    })
}

/// `serve token`: the token on stderr (shown once), its line for the tokens file on stdout.
fn token(args: &TokenArgs) -> Outcome {
    match (args.role.as_str(), &args.user) {
        ("member", None) => {
            return Err(Failure::Usage(
                "a member token needs --user ID: the user it may read".into(),
            ))
        }
        ("admin" | "device", Some(_)) => {
            return Err(Failure::Usage("--user is for member tokens only".into()))
        }
        _ => {}
    }
    let (token, line) =
        auth::new_token(&args.role, args.user.as_deref()).map_err(Failure::Usage)?;
    eprintln!("{token}");
    output::stdout(&format!("{line}\n"))
}
