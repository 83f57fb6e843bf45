//! The scheduler of `--tick-every`: the periodic job at every multiple of the interval counted
//! from local midnight in `--timezone` (every `1h` on the hour, every `1d` at midnight), each
//! tick a logged message with its `at` (service.md "Determinism": the scheduler is one of the
//! service's only clock reads; what it decides is in the log, so replays do not read it).
//! Ticks missed while the server was down are not made up: the next one comes at the next
//! boundary after the start.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use rules_core::eval::AsOf;
use rules_core::zone::Zone;
use tokio::sync::{mpsc, oneshot, watch};

use crate::writer::Command;

/// The first boundary strictly after `now` (Unix seconds): local midnight of `now`'s day plus
/// a whole number of `every`.
pub fn next_boundary(now: i64, every: i64, zone: &Zone) -> i64 {
    let every = every.max(1);
    let midnight = zone.first_instant(zone.local_date(now)).unwrap_or(now);
    let since = (now - midnight).max(0);
    midnight + (since / every + 1) * every
}

/// `at` as the tick's RFC 3339 time, with the zone's offset at that instant.
pub fn at_text(at: i64, zone: &Zone) -> Option<String> {
    let offset = FixedOffset::east_opt(i32::try_from(zone.offset_at(at)).ok()?)?;
    let time = DateTime::from_timestamp(at, 0)?.with_timezone(&offset);
    Some(time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Sends a tick at every boundary until the server stops.
pub async fn ticks(
    commands: mpsc::Sender<Command>,
    every: Duration,
    zone: Zone,
    mut shutdown: watch::Receiver<bool>,
) {
    let every = i64::try_from(every.as_secs()).unwrap_or(i64::MAX);
    loop {
        let now = chrono::Utc::now().timestamp();
        let next = next_boundary(now, every, &zone);
        let wait = Duration::from_secs(u64::try_from(next - now).unwrap_or(0));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        let Some(text) = at_text(next, &zone) else {
            continue;
        };
        let Some(at) = AsOf::parse(&text) else {
            continue;
        };
        let (reply, answer) = oneshot::channel();
        if commands.send(Command::Tick { at, reply }).await.is_err() {
            return;
        }
        match answer.await {
            Ok(Ok(())) => tracing::info!(at = %text, "periodic job done"),
            Ok(Err(e)) => tracing::error!(at = %text, error = %e, "periodic job failed"),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp()
    }

    #[test]
    fn boundaries_are_aligned_to_local_midnight() {
        let sg = rules_core::leaderboard::parse_timezone("Asia/Singapore").unwrap();
        let now = secs("2026-08-01T10:17:00+08:00");
        assert_eq!(
            next_boundary(now, 3600, &sg),
            secs("2026-08-01T11:00:00+08:00")
        );
        assert_eq!(
            next_boundary(now, 1800, &sg),
            secs("2026-08-01T10:30:00+08:00")
        );
        assert_eq!(
            next_boundary(now, 86_400, &sg),
            secs("2026-08-02T00:00:00+08:00")
        );
        let on = secs("2026-08-01T11:00:00+08:00");
        assert_eq!(
            next_boundary(on, 3600, &sg),
            secs("2026-08-01T12:00:00+08:00"),
            "strictly after"
        );
        assert_eq!(
            at_text(secs("2026-08-02T00:00:00+08:00"), &sg).unwrap(),
            "2026-08-02T00:00:00+08:00"
        );
    }
}
