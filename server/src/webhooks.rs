//! The webhook deliveries (service.md "Rewards"): every issued reward is `POST`ed to each
//! `--webhook URL` with `Idempotency-Key: <challenge>/<user or team>/<name>`, retried with
//! backoff until a `2xx`, across restarts.
//!
//! The deliveries owed are rows of the store, written in the same transaction as the reward
//! (so a reward is never issued without its deliveries, nor delivered without being issued).
//! This worker reads the due ones through a reader connection, posts them, and asks the writer
//! to mark each delivered, or failed with its next attempt's time. A delivery that succeeded
//! but whose mark was lost (a crash between the two) is posted again with the same key: the
//! receiver sees it at least once, and the key lets it keep one.

use std::sync::Arc;
use std::time::Duration;

use pipeline::store::Delivery;
use pipeline::Store;
use tokio::sync::{mpsc, oneshot, watch};

use crate::writer::Command;
use crate::AppState;

/// Checks a `--webhook` URL: `http` or `https`, with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not {}",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".to_owned());
    }
    Ok(())
}

/// Deliveries taken at once.
const PAGE: usize = 64;

/// The wait before attempt `n + 1` after `n` failed ones: 1 s, 2 s, 4 s, ... at most an hour.
pub fn backoff(failed: u32) -> Duration {
    Duration::from_secs(1u64 << failed.min(12)).min(Duration::from_secs(3600))
}

/// Milliseconds since the Unix epoch (the deliveries' clock; never reaches a view).
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Delivers what is owed until the server stops: wakes at every commit (a reward may have been
/// issued) and at least once a second (a retry may be due).
pub async fn run(
    app: Arc<AppState>,
    commands: mpsc::Sender<Command>,
    timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder().timeout(timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client: webhooks are not delivered");
            return;
        }
    };
    let mut woken = app.hub.subscribe();
    loop {
        let readers = Arc::clone(&app.readers);
        let due = tokio::task::spawn_blocking(move || {
            readers.with(|s| s.owed_deliveries(now_ms(), PAGE))
        })
        .await;
        let due: Vec<Delivery> = match due {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the deliveries owed");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        for delivery in &due {
            if *shutdown.borrow() {
                return;
            }
            let outcome = client
                .post(&delivery.url)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", &delivery.key)
                .body(delivery.body.clone())
                .send()
                .await;
            let command = match outcome {
                Ok(r) if r.status().is_success() => {
                    app.metrics.delivered();
                    Some(Mark::Delivered(delivery.id))
                }
                other => {
                    let why = match other {
                        Ok(r) => format!("status {}", r.status()),
                        Err(e) if e.is_timeout() => "timed out".to_owned(),
                        Err(e) => format!("{e}"),
                    };
                    let wait = backoff(delivery.attempts);
                    tracing::warn!(
                        attempt = delivery.attempts + 1,
                        retry_in_s = wait.as_secs(),
                        reason = %why,
                        "a webhook delivery failed"
                    );
                    let next = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                    Some(Mark::Failed(delivery.id, next))
                }
            };
            if let Some(mark) = command {
                let (reply, answer) = oneshot::channel();
                if commands
                    .send(Command::Delivery { mark, reply })
                    .await
                    .is_err()
                {
                    return;
                }
                let _ = answer.await;
            }
        }
        if due.len() == PAGE {
            continue;
        }
        tokio::select! {
            _ = woken.changed() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// What became of a delivery attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Delivered: no longer owed.
    Delivered(i64),
    /// Failed: the next attempt is due at this time (ms since the epoch).
    Failed(i64, i64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(40), Duration::from_secs(3600));
    }
}
