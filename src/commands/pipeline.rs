//! `challenge pipeline ...`: the ingest pipeline (docs/pipeline.md) — ingest sensor events into
//! an embedded store, run the periodic job, query the views, rebuild, verify and compact.
//!
//! This is glue: flags, files and output. The stages live in the `pipeline` crate. The only
//! clock read here is the progress line's events per second; no measured time reaches a view.

use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use challenge_scale::AnyStore;
use pipeline::engine::{Engine, Options, Progress, Step};
use pipeline::sqlite::SqliteStore;
use pipeline::store::Store;
use pipeline::transport::LineReader;

use crate::cli::{IngestArgs, PipelineArgs, PipelineCommand};
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &PipelineArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let options = Options {
        catalog,
        ..Options::default()
    };
    match &args.command {
        PipelineCommand::Ingest(a) => ingest(a, options),
        PipelineCommand::Tick(a) => {
            let at = input::time(&a.at, "--at")?;
            let mut engine = open_engine(&a.db.db, options, true)?;
            engine.tick(&at, &a.timezone).map_err(usage)?;
            let (teams, users): (Vec<_>, Vec<_>) = engine
                .challenges()
                .iter()
                .partition(|c| !c.plan.teams().is_empty());
            let results = engine.state().considered_users().len() * users.len()
                + teams.iter().map(|c| c.plan.teams().len()).sum::<usize>();
            eprintln!(
                "tick at {}: {results} results, profiles and leaderboards re-derived",
                at.text
            );
            Ok(())
        }
        PipelineCommand::Query(a) => {
            let mut store = open_store(&a.db.db, true, false)?;
            let view = match (a.view.as_str(), &a.team) {
                ("leaderboard", _) => "leaderboards",
                ("results", Some(_)) => "team_results",
                ("rewards", Some(_)) => "team_rewards",
                (v, Some(_)) => {
                    return Err(Failure::Usage(format!(
                        "--team applies to results and rewards, not to {v}"
                    )))
                }
                (v, None) => v,
            };
            let holder = a.team.as_deref().or(a.user.as_deref());
            let lines = store
                .query(view, holder, a.challenge.as_deref())
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let mut out = String::new();
            for line in lines {
                out.push_str(&line);
                out.push('\n');
            }
            output::stdout(&out)
        }
        PipelineCommand::Rebuild(a) => {
            let store = open_store(&a.db.db, true, true)?;
            let started = Instant::now();
            challenge_scale::partitioned::rebuild(store, options, &mut steps(a.progress))
                .map_err(usage)?;
            let counts = open_store(&a.db.db, true, false)?
                .counts()
                .map_err(|e| usage(e.into()))?;
            let log = counts.get("log").copied().unwrap_or(0);
            let compacted = counts.get("compacted").copied().unwrap_or(0);
            let s = started.elapsed().as_secs_f64();
            eprintln!(
                "rebuilt every view from {log} log entries and {compacted} compacted workouts in {s:.2} s ({:.0} messages/s)",
                (log + compacted) as f64 / s.max(1e-9)
            );
            Ok(())
        }
        PipelineCommand::Verify(a) => {
            let mut store = open_store(&a.db.db, true, false)?;
            let checks =
                challenge_scale::partitioned::verify(&mut store, options, &mut steps(a.progress))
                    .map_err(usage)?;
            let mut out = String::new();
            for c in &checks {
                out.push_str(&output::to_json(c, false)?);
                out.push('\n');
            }
            output::stdout(&out)?;
            let bad: Vec<&str> = checks
                .iter()
                .filter(|c| !c.equal)
                .map(|c| c.view.as_str())
                .collect();
            if bad.is_empty() {
                eprintln!("verify: every view equals its rebuild");
                Ok(())
            } else {
                eprintln!("error: views differ from their rebuild: {}", bad.join(", "));
                Err(Failure::Input)
            }
        }
        PipelineCommand::Compact(a) => {
            let before = input::time(&a.before, "--before")?;
            let mut engine = open_engine(&a.db.db, options, true)?;
            let started = Instant::now();
            let summary = engine
                .compact(before.time, &mut steps(a.progress))
                .map_err(usage)?;
            eprintln!(
                "compacted {} sessions that ended before {} in {:.2} s",
                summary.sessions,
                before.text,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        PipelineCommand::Backup(a) => {
            if is_postgres(&a.db.db) {
                return Err(Failure::Usage(
                    "`pipeline backup` copies a SQLite file; back a PostgreSQL store up with \
                     `pg_dump`"
                        .to_owned(),
                ));
            }
            if !a.db.db.exists() {
                return Err(Failure::Usage(format!(
                    "no pipeline store `{}`",
                    a.db.db.display()
                )));
            }
            let started = Instant::now();
            SqliteStore::backup(&a.db.db, &a.to)
                .map_err(|e| Failure::Usage(format!("{}: {e}", a.db.db.display())))?;
            eprintln!(
                "backup: {} -> {} in {:.2} s",
                a.db.db.display(),
                a.to.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        PipelineCommand::Stats(a) => {
            let mut store = open_store(&a.db.db, true, false)?;
            let stats = match store.partitions().map_err(|e| usage(e.into()))? {
                // A scale-out store: each partition's engine, summed; the tables are shared.
                Some(n) => {
                    let mut total = Stats::default();
                    for p in 0..n {
                        let part = AnyStore::open_partition(&a.db.db.to_string_lossy(), p)
                            .map_err(|e| usage(e.into()))?;
                        let mut engine = Engine::open(part, options.clone()).map_err(usage)?;
                        total.add(stats(&mut engine)?);
                    }
                    total.sessions_without_start.sort();
                    total.tables = store.counts().map_err(|e| usage(e.into()))?;
                    total
                }
                None => stats(&mut Engine::open(store, options).map_err(usage)?)?,
            };
            output::stdout(&format!("{}\n", output::to_json(&stats, true)?))
        }
    }
}

/// The progress line of a long run on stderr (when it is a terminal, or with `--progress`),
/// at most five times a second; a line is ended when the run moves to its next phase, and
/// when the reporter is dropped.
fn steps(progress: bool) -> impl FnMut(Step) {
    /// Ends the last progress line when dropped, if one was written.
    struct Line(bool);
    impl Drop for Line {
        fn drop(&mut self) {
            if self.0 {
                eprintln!();
            }
        }
    }
    let show = progress || std::io::stderr().is_terminal();
    let mut last: Option<(Instant, &'static str)> = None;
    let mut line = Line(false);
    move |step: Step| {
        if !show {
            return;
        }
        // The whole `Line` moves into the closure (not just its field), so that dropping the
        // reporter ends the line.
        let line = &mut line;
        line.0 = true;
        let mut err = std::io::stderr().lock();
        match last {
            Some((at, what)) if what == step.what && at.elapsed() < Duration::from_millis(200) => {
                return;
            }
            Some((_, what)) if what == step.what => {}
            Some(_) => {
                let _ = writeln!(err);
            }
            None => {}
        }
        last = Some((Instant::now(), step.what));
        let _ = if step.total > 0 {
            write!(
                err,
                "\r{} {} of {} ({:.0}%)   ",
                step.what,
                step.done,
                step.total,
                100.0 * step.done as f64 / step.total as f64
            )
        } else {
            write!(err, "\r{} {}   ", step.what, step.done)
        };
        let _ = err.flush();
    }
}

fn usage(e: pipeline::PipelineError) -> Failure {
    Failure::Usage(e.to_string())
}

/// Whether `--db` names a PostgreSQL database rather than a SQLite file.
fn is_postgres(db: &Path) -> bool {
    db.to_str().is_some_and(challenge_scale::postgres::is_url)
}

/// Opens the store (a SQLite file, or a PostgreSQL database for a `postgres://` URL); as its
/// one writer when `owner` (a second writer is a usage error, exit 2).
fn open_store(path: &Path, must_exist: bool, owner: bool) -> Result<AnyStore, Failure> {
    let postgres = is_postgres(path);
    if must_exist && !postgres && !path.exists() {
        return Err(Failure::Usage(format!(
            "no pipeline store `{}` (create it with `challenge pipeline ingest`)",
            path.display()
        )));
    }
    AnyStore::open(&path.to_string_lossy(), owner).map_err(|e| {
        Failure::Usage(if postgres {
            // The message names the database (without its password).
            e.to_string()
        } else {
            format!("{}: {e}", path.display())
        })
    })
}

/// Opens the engine as the file's one writer (`ingest`, `tick`, `rebuild`, `compact`).
fn open_engine(
    path: &Path,
    options: Options,
    must_exist: bool,
) -> Result<Engine<AnyStore>, Failure> {
    let store = open_store(path, must_exist, true)?;
    Engine::open(store, options).map_err(usage)
}

fn ingest(args: &IngestArgs, mut options: Options) -> Outcome {
    let decls = input::challenges_in(&args.challenges, &options.catalog)?;
    if let Some(n) = args.partitions {
        options.partitions = n;
    }
    options.batch_lines = usize::try_from(args.batch).unwrap_or(usize::MAX);
    let mut engine = open_engine(&args.db.db, options, false)?;
    let changes = engine.set_challenges(&decls).map_err(usage)?;
    for (what, ids) in [
        ("added", &changes.added),
        ("edited", &changes.edited),
        ("removed", &changes.removed),
    ] {
        if !ids.is_empty() {
            eprintln!("challenges {what}: {}", ids.join(", "));
        }
    }
    let show = args.progress || std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last = Instant::now();
    let mut total = Progress::default();
    let files: Vec<PathBuf> = if args.files.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.files.clone()
    };
    for file in &files {
        let mut report = |p: &Progress| {
            if show && last.elapsed() >= Duration::from_millis(200) {
                last = Instant::now();
                let read = total.read + p.read;
                let rate = read as f64 / started.elapsed().as_secs_f64().max(1e-9);
                let mut err = std::io::stderr().lock();
                let _ = write!(
                    err,
                    "\r{rate:>9.0} events/s  read {read}  sessions {}  workouts {}  rejected {}   ",
                    p.sessions,
                    p.workouts,
                    total.rejected + p.rejected
                );
                let _ = err.flush();
            }
        };
        let progress = if file.as_os_str() == "-" {
            let stdin = std::io::stdin();
            let mut reader = LineReader::new("-", stdin.lock());
            engine.ingest(&mut reader, &mut report)
        } else {
            let f = std::fs::File::open(file)
                .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", file.display())))?;
            let key = std::fs::canonicalize(file)
                .unwrap_or_else(|_| file.clone())
                .display()
                .to_string();
            let mut reader = LineReader::new(&key, BufReader::with_capacity(1 << 20, f));
            engine.ingest(&mut reader, &mut report)
        }
        .map_err(usage)?;
        total.read += progress.read;
        total.accepted += progress.accepted;
        total.duplicates += progress.duplicates;
        total.rejected += progress.rejected;
        total.sessions = progress.sessions;
        total.workouts = progress.workouts;
    }
    if show {
        eprintln!();
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "ingested: read {}, accepted {} ({} duplicates), rejected {}; sessions {}, workouts {}; {:.2} s, {:.0} events/s",
        total.read,
        total.accepted,
        total.duplicates,
        total.rejected,
        total.sessions,
        total.workouts,
        secs,
        total.read as f64 / secs.max(1e-9)
    );
    if args.strict && total.rejected > 0 {
        eprintln!("error: {} line(s) rejected (--strict)", total.rejected);
        return Err(Failure::Input);
    }
    Ok(())
}

/// `stats` as JSON.
#[derive(Default, serde::Serialize)]
struct Stats {
    read: u64,
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    log_head: u64,
    challenges: usize,
    users: usize,
    sessions_open: usize,
    sessions_without_start: Vec<String>,
    sessions_compacted: usize,
    workouts: usize,
    tables: std::collections::BTreeMap<String, u64>,
}

impl Stats {
    /// Adds another partition's figures: counts add up, the log head is the largest
    /// partition's, and every partition holds the same challenges.
    fn add(&mut self, other: Stats) {
        self.read += other.read;
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.log_head = self.log_head.max(other.log_head);
        self.challenges = self.challenges.max(other.challenges);
        self.users += other.users;
        self.sessions_open += other.sessions_open;
        self.sessions_without_start
            .extend(other.sessions_without_start);
        self.sessions_compacted += other.sessions_compacted;
        self.workouts += other.workouts;
    }
}

fn stats(engine: &mut Engine<AnyStore>) -> Result<Stats, Failure> {
    let counters = engine.counters();
    let state = engine.state();
    let mut orphans: Vec<String> = state
        .sessions
        .values()
        .filter(|s| s.start().is_none())
        .map(|s| s.id().to_owned())
        .collect();
    orphans.sort();
    let stats = Stats {
        read: counters.read,
        accepted: counters.accepted,
        duplicates: counters.duplicates,
        rejected: counters.rejected,
        log_head: state.head,
        challenges: engine.challenge_count(),
        users: engine.state().considered_users().len(),
        sessions_open: engine.state().open_user.len(),
        sessions_without_start: orphans,
        sessions_compacted: engine.state().compacted.len(),
        workouts: engine.state().workouts.len(),
        tables: engine
            .store()
            .counts()
            .map_err(|e| Failure::Usage(e.to_string()))?,
    };
    Ok(stats)
}
