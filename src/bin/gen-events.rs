//! Deterministic generator of a sensor-event stream (data.md, "Sensor events") for the
//! pipeline: N users, M machines, D days of gym use, with resends, reordering, late events
//! and malformed lines unless `--clean`.
//!
//! `gen-events --users 8 --machines 9 --days 3 --seed 2026 --out fixtures/events.jsonl` writes
//! the committed fixture; the same arguments always give byte-identical output (the logic lives
//! in the `workload` crate, beside the [`workload::Rng`] that `gen-fixtures` uses too).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Parser;
use workload::{generate_events, EventsConfig};

/// Generate a deterministic sensor-event stream (JSON Lines).
#[derive(Parser)]
#[command(
    version,
    about,
    after_help = "Example:\n  gen-events --users 1000 --machines 40 --days 30 --seed 7 --out target/events.jsonl"
)]
struct Args {
    /// Number of users.
    #[arg(long, default_value_t = 8)]
    users: usize,
    /// Number of machines.
    #[arg(long, default_value_t = 9)]
    machines: usize,
    /// First day.
    #[arg(long, default_value = "2026-08-01")]
    start: NaiveDate,
    /// Number of days.
    #[arg(long, default_value_t = 3)]
    days: u32,
    /// Seed; the same seed gives the same stream.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// In-order delivery: no resends, no reordering, no malformed lines.
    #[arg(long)]
    clean: bool,
    /// Output file (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (text, summary) = generate_events(&EventsConfig {
        users: args.users,
        machines: args.machines,
        start: args.start,
        days: args.days,
        seed: args.seed,
        noise: !args.clean,
    });
    let written = match &args.out {
        Some(path) => std::fs::write(path, &text),
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
        }
    };
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the events: {e}");
            return ExitCode::from(2);
        }
    }
    eprintln!(
        "wrote {} lines: {} sessions, {} resends, {} malformed",
        summary.lines, summary.sessions, summary.duplicates, summary.malformed
    );
    ExitCode::SUCCESS
}
