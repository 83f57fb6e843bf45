//! Command-line flags (cli.md), declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Check, format, compile and evaluate fitness challenges.
#[derive(Debug, Parser)]
#[command(name = "challenge", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check `.chal` files or `.json` trees and report every error and warning.
    #[command(
        after_help = "Example:\n  challenge check fixtures/challenges/*.chal\n  challenge check tree.json --format json"
    )]
    Check(CheckArgs),
    /// Print files in canonical format.
    #[command(
        after_help = "Example:\n  challenge fmt --check fixtures/challenges/*.chal\n  challenge fmt --write my.chal"
    )]
    Fmt(FmtArgs),
    /// Compile a `.chal` file to its JSON syntax tree.
    #[command(
        after_help = "Example:\n  challenge compile fixtures/challenges/national-day.chal\n  challenge compile several.chal --id streak-7"
    )]
    Compile(CompileArgs),
    /// Print DSL text from a JSON tree or an array of trees.
    #[command(
        after_help = "Example:\n  challenge compile a.chal > a.json && challenge decompile a.json"
    )]
    Decompile(DecompileArgs),
    /// Evaluate challenges against workouts: one result per (challenge, user).
    #[command(
        after_help = "Example:\n  challenge eval fixtures/challenges/national-day.chal --workouts fixtures/workouts.jsonl \\\n      --users fixtures/users.jsonl --as-of 2026-08-15T12:00:00+08:00 --format text"
    )]
    Eval(EvalArgs),
    /// Profile each user's fitness from their workouts: one profile per user, JSON Lines.
    #[command(
        after_help = "Example:\n  challenge profile --workouts fixtures/workouts.jsonl --users fixtures/users.jsonl \\\n      --as-of 2026-09-01T00:00:00+08:00 --lookback-days 90"
    )]
    Profile(ProfileArgs),
    /// Fill a template's params from each eligible user's profile: personal challenges.
    #[command(
        after_help = "Example:\n  challenge recommend fixtures/templates/pushup-ladder.chal --workouts fixtures/workouts.jsonl \\\n      --users fixtures/users.jsonl --as-of 2026-09-01T00:00:00+08:00 --explain\n  challenge recommend t.chal --profiles profiles.jsonl --set daily=40 --set pace=\"9 km/h\" --format json"
    )]
    Recommend(RecommendArgs),
    /// Rank users by their monthly total of a measure.
    #[command(
        after_help = "Example:\n  challenge leaderboard --workouts fixtures/workouts.jsonl --users fixtures/users.jsonl \\\n      --month 2026-08 --measure distance --of cardio --group nsfit --timezone Asia/Singapore --top 10"
    )]
    Leaderboard(LeaderboardArgs),
    /// Workouts from device files (FIT, GPX, TCX): `workout` messages for the pipeline.
    #[command(
        after_help = "Example:\n  challenge import ~/garmin/*.fit --user u-01 > imported.jsonl\n  challenge pipeline ingest --db gym.db imported.jsonl\n  challenge import run.gpx ride.tcx --user u-01 --workouts > w.jsonl\n  challenge import tri.fit --user u-01 --map my-sports.json"
    )]
    Import(ImportArgs),
    /// The ingest pipeline: sensor events in; workouts, results, profiles and leaderboards out.
    #[command(
        after_help = "Example:\n  challenge pipeline ingest --db gym.db --challenges fixtures/challenges fixtures/events.jsonl\n  challenge pipeline query results --db gym.db --user u-01"
    )]
    Pipeline(PipelineArgs),
    /// The service: the pipeline behind an HTTP API, with every view pushed to its clients.
    #[command(
        after_help = "Example:\n  challenge serve --db gym.db --challenges fixtures/challenges\n  gen-events --users 20 --days 3 | curl -sS -X POST --data-binary @- -H 'Content-Type: application/x-ndjson' http://127.0.0.1:8080/v1/events\n  challenge serve token --role member --user u-01 >> tokens.jsonl\n  challenge serve --db gym.db --listen 0.0.0.0:8080 --tokens tokens.jsonl --tick-every 1h --timezone Asia/Singapore"
    )]
    Serve(ServeArgs),
    /// A scale-out worker: derives the views in PostgreSQL from the RabbitMQ partition streams
    /// (docs/scale-out.md). Workers share the partitions (a fair share each, moved when one
    /// joins or leaves); one of them also runs the reducer (team rows, merged leaderboards).
    #[command(
        after_help = "Example:\n  eval \"$(scripts/services.sh start)\"\n  challenge worker --store \"$CHALLENGE_TEST_PG\" --broker \"$CHALLENGE_TEST_AMQP\" --challenges fixtures/challenges"
    )]
    Worker(WorkerArgs),
}

/// `worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The PostgreSQL store (`postgres://user@host:port/name`).
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// The RabbitMQ broker (`amqp://user:pass@host:port/vhost`).
    #[arg(long, value_name = "URL")]
    pub broker: String,
    /// A folder of challenges to set when this worker starts (as `serve --challenges`),
    /// published to every partition as admin changes; leave it out to keep the stored ones.
    #[arg(long, value_name = "DIR")]
    pub challenges: Option<PathBuf>,
    /// The partition streams' count: fixed for the life of a store, the same for every
    /// gateway and worker.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub partitions: u32,
    /// The streams' name prefix (`<prefix>.<partition>`).
    #[arg(long, value_name = "NAME", default_value = "challenge")]
    pub streams: String,
    /// Event lines per batch of a partition, about (whole messages are taken; one
    /// transaction each).
    #[arg(long, value_name = "N", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,
    /// Each newly issued reward owes a delivery to this URL (repeatable): the gateways
    /// (`serve --store --broker --webhook URL`) deliver them.
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,
    /// Keep the raw events of sessions for this long (`30d`), as `serve --retain-events`: after
    /// each tick, every partition compacts the sessions that ended longer ago than that before
    /// the tick's time; their workouts stay, late events for them are dead letters.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub retain_events: Option<std::time::Duration>,
    /// Derive partitions only: never run the reducer (team rows, merged leaderboards), which
    /// one worker at a time runs; keep it to the workers started without this flag.
    #[arg(long)]
    pub partitions_only: bool,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct CatalogArg {
    /// A JSON exercise catalog that adds to or overrides the built-in one.
    #[arg(long, value_name = "FILE", global = true)]
    pub catalog: Option<PathBuf>,
}

/// Output format of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// rustc-style text.
    Text,
    /// A JSON array of diagnostics.
    Json,
}

/// `challenge check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// `.chal` files or `.json` trees.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// `challenge fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// `.chal` files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print nothing; exit 1 when a file is not in canonical format.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Rewrite the files in place.
    #[arg(long)]
    pub write: bool,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// `challenge compile`.
#[derive(Debug, Args)]
pub struct CompileArgs {
    /// A `.chal` file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The declaration to compile, when the file has several.
    #[arg(long, conflicts_with = "all")]
    pub id: Option<String>,
    /// Print every declaration, as a JSON array.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// `challenge decompile`.
#[derive(Debug, Args)]
pub struct DecompileArgs {
    /// A JSON tree, or an array of trees.
    #[arg(value_name = "FILE.json")]
    pub file: PathBuf,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// Output format of `eval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    /// JSON Lines, one result per (challenge, user).
    Json,
    /// The explain tree: each goal with ✓/✗/…, its value against its target and a progress bar.
    Text,
    /// A self-contained HTML report: a progress bar and a calendar of periods per user.
    Html,
}

/// Output format of `leaderboard`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LeaderboardFormat {
    /// JSON Lines, one entry per line.
    Json,
    /// A self-contained HTML report with a bar per entry.
    Html,
}

/// Record input flags shared by the commands that read workouts.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Workouts, JSON Lines.
    #[arg(long, value_name = "W.jsonl")]
    pub workouts: PathBuf,
    /// Users, JSON Lines.
    #[arg(long, value_name = "U.jsonl")]
    pub users: Option<PathBuf>,
    /// Exit 1 when any record was rejected (the output for the accepted ones is still printed).
    #[arg(long)]
    pub strict: bool,
}

/// `challenge eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A `.chal` file or a JSON tree (templates in it are skipped).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub records: RecordArgs,
    /// Only this user.
    #[arg(long)]
    pub user: Option<String>,
    /// Only this challenge.
    #[arg(long)]
    pub id: Option<String>,
    /// The time to evaluate at, RFC 3339 with an offset (default: now, in UTC).
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EvalFormat::Json)]
    pub format: EvalFormat,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// `challenge profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    pub records: RecordArgs,
    /// The time the profiles are as of, RFC 3339 with an offset (echoed in every profile).
    #[arg(long, value_name = "TIME")]
    pub as_of: String,
    /// How many days before `--as-of` the profiles look at.
    #[arg(long, value_name = "N", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..))]
    pub lookback_days: u32,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// Output format of `recommend`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RecommendFormat {
    /// Canonical DSL, challenges separated by blank lines.
    Dsl,
    /// JSON Lines, one tree per user.
    Json,
}

/// `challenge recommend`.
#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// A `.chal` file (or JSON tree) holding the template.
    #[arg(value_name = "TEMPLATE.chal")]
    pub template: PathBuf,
    /// Profiles, JSON Lines (as `challenge profile` writes them).
    #[arg(long, value_name = "P.jsonl", required_unless_present = "workouts", conflicts_with_all = ["workouts", "as_of", "lookback_days"])]
    pub profiles: Option<PathBuf>,
    /// Workouts, JSON Lines, to profile the users from (needs `--as-of`).
    #[arg(long, value_name = "W.jsonl", requires = "as_of")]
    pub workouts: Option<PathBuf>,
    /// With `--workouts`: the time the profiles are as of, RFC 3339 with an offset.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// With `--workouts`: how many days before `--as-of` the profiles look at (default 90).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub lookback_days: Option<u32>,
    /// Users, JSON Lines (groups decide who is eligible).
    #[arg(long, value_name = "U.jsonl")]
    pub users: Option<PathBuf>,
    /// Only this user.
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// An expert's override of a param, such as `daily=40` or `pace="9 km/h"` (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RecommendFormat::Dsl)]
    pub format: RecommendFormat,
    /// Show each param's value, its expression and the profile figures it used.
    #[arg(long)]
    pub explain: bool,
    /// Exit 1 when any record was rejected (the output for the accepted ones is still printed).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// What a leaderboard totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LeaderboardMeasure {
    /// Metres.
    Distance,
    /// Seconds.
    Duration,
    /// Kilograms lifted (reps × weight).
    Volume,
    /// Reps.
    Reps,
    /// Workouts.
    Workouts,
    /// Kilocalories.
    Calories,
}

/// `challenge leaderboard`.
#[derive(Debug, Args)]
pub struct LeaderboardArgs {
    #[command(flatten)]
    pub records: RecordArgs,
    /// The calendar month, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM")]
    pub month: String,
    /// What to total.
    #[arg(long, value_enum)]
    pub measure: LeaderboardMeasure,
    /// Only these exercises, as in the DSL: `leg_press`, `cardio`, `(bike | rower)`.
    #[arg(long = "of", value_name = "SELECTOR")]
    pub of: Option<String>,
    /// Only users whose record lists this group.
    #[arg(long, value_name = "G", conflicts_with = "teams")]
    pub group: Option<String>,
    /// A board of teams: each listed group ranked by the sum of its members' totals
    /// (comma-separated group names).
    #[arg(long, value_name = "G1,G2,...")]
    pub teams: Option<String>,
    /// The timezone whose calendar month counts.
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub timezone: String,
    /// Keep every entry ranked N or better (ties at the cut included).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub top: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LeaderboardFormat::Json)]
    pub format: LeaderboardFormat,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// `challenge import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Device files: `.fit`, `.gpx` or `.tcx`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The user the workouts belong to.
    #[arg(long, value_name = "ID")]
    pub user: String,
    /// Print plain workout records (for `eval`, `profile`, `leaderboard`) instead of `workout`
    /// messages (for the pipeline).
    #[arg(long)]
    pub workouts: bool,
    /// A JSON file that extends the sport and exercise-category mapping:
    /// `{"sports": {"transition": "walk"}, "exercise_categories": {"bench_press": "chest_press"}}`.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// `challenge pipeline`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// The pipeline command.
    #[command(subcommand)]
    pub command: PipelineCommand,
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// The store file every pipeline command works on.
#[derive(Debug, Args)]
pub struct DbArg {
    /// The pipeline's SQLite file (created by `ingest`), or a PostgreSQL database
    /// (`postgres://user@host:port/name`, docs/scale-out.md).
    #[arg(long, value_name = "FILE|URL")]
    pub db: PathBuf,
}

/// The pipeline commands.
#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Ingest sensor events (JSON Lines) and keep every view up to date.
    #[command(
        after_help = "Example:\n  challenge pipeline ingest --db gym.db --challenges fixtures/challenges fixtures/events.jsonl\n  gen-events --users 100 --days 7 | challenge pipeline ingest --db gym.db --challenges fixtures/challenges -\n\nA rerun resumes after the last committed line of each input (its offset is kept in the store)."
    )]
    Ingest(IngestArgs),
    /// The periodic job: profiles, the month's leaderboards and every result, as of a time.
    #[command(
        after_help = "Example:\n  challenge pipeline tick --db gym.db --at 2026-08-31T23:59:59+08:00 --timezone Asia/Singapore"
    )]
    Tick(TickArgs),
    /// Print a view as JSON Lines.
    #[command(
        after_help = "Example:\n  challenge pipeline query results --db gym.db --user u-01\n  challenge pipeline query results --db gym.db --team coy-a\n  challenge pipeline query live --db gym.db --challenge streak-7\n  challenge pipeline query rewards --db gym.db --user u-01\n  challenge pipeline query dead-letters --db gym.db"
    )]
    Query(QueryArgs),
    /// Re-derive every view from the sources of truth (the log, compacted workouts, challenges).
    #[command(after_help = "Example:\n  challenge pipeline rebuild --db gym.db")]
    Rebuild(LongRunArgs),
    /// Rebuild into a scratch store and compare each view by content hash (exit 1 on a difference).
    #[command(after_help = "Example:\n  challenge pipeline verify --db gym.db")]
    Verify(LongRunArgs),
    /// Purge the raw events of sessions that ended before a time; their workouts stay.
    #[command(
        after_help = "Example:\n  challenge pipeline compact --db gym.db --before 2026-08-01T00:00:00Z"
    )]
    Compact(CompactArgs),
    /// Counts: events read, accepted and rejected, sessions, workouts, view sizes.
    #[command(after_help = "Example:\n  challenge pipeline stats --db gym.db")]
    Stats(DbOnly),
    /// Write a consistent copy of the file, also while `serve` or `ingest` runs.
    #[command(
        after_help = "Example:\n  challenge pipeline backup --db gym.db --to gym-2026-12-05.db\n  challenge pipeline verify --db gym-2026-12-05.db"
    )]
    Backup(BackupArgs),
}

/// `pipeline backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// The copy (a new file).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

/// `pipeline ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// A folder of challenges (`.chal` or `.json`); added, edited and removed challenges are
    /// re-derived for every user.
    #[arg(long, value_name = "DIR")]
    pub challenges: PathBuf,
    /// Sensor event files, JSON Lines; `-` (or none) reads stdin.
    #[arg(value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Partitions (workers); default: the core count.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub partitions: Option<u32>,
    /// Lines per batch (one transaction each).
    #[arg(long, value_name = "N", default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Show the progress line even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,
    /// Exit 1 when any line was rejected.
    #[arg(long)]
    pub strict: bool,
}

/// `pipeline tick`.
#[derive(Debug, Args)]
pub struct TickArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// The job's time, RFC 3339 with an offset (echoed as `as_of`).
    #[arg(long, value_name = "TIME")]
    pub at: String,
    /// The timezone whose calendar month the leaderboards cover.
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub timezone: String,
}

/// `pipeline query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The view: results, live, workouts, users, sessions, profiles, leaderboard, dead-letters,
    /// or the rewards ledger.
    #[arg(value_name = "VIEW", value_parser = ["results", "live", "workouts", "users", "sessions", "profiles", "leaderboard", "leaderboards", "dead-letters", "rewards"])]
    pub view: String,
    #[command(flatten)]
    pub db: DbArg,
    /// Only this user (results: the user's own rows; rewards: the user's).
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// Only this team's rows (results of team challenges; rewards: the team's).
    #[arg(long, value_name = "NAME", conflicts_with = "user")]
    pub team: Option<String>,
    /// Only this challenge (results and live).
    #[arg(long, value_name = "ID")]
    pub challenge: Option<String>,
}

/// `pipeline compact`.
#[derive(Debug, Args)]
pub struct CompactArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Sessions that ended before this time (RFC 3339 with an offset) are compacted.
    #[arg(long, value_name = "TIME")]
    pub before: String,
    /// Show the progress line even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,
}

/// `pipeline rebuild` and `pipeline verify`.
#[derive(Debug, Args)]
pub struct LongRunArgs {
    #[command(flatten)]
    pub db: DbArg,
    /// Show the progress line even when stderr is not a terminal.
    #[arg(long)]
    pub progress: bool,
}

/// Commands that take only `--db`.
#[derive(Debug, Args)]
pub struct DbOnly {
    #[command(flatten)]
    pub db: DbArg,
}

/// `challenge serve`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    /// `token`: make a token.
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// The database file (created if missing).
    #[arg(long, value_name = "FILE", default_value = "gym.db")]
    pub db: PathBuf,
    /// A folder of `.chal` (or `.json`) challenges to load at start, as `pipeline ingest
    /// --challenges` does: added and edited ones are evaluated, the stored ones not in the
    /// folder are removed. Leave it out to keep the stored challenges (those put through the
    /// API included).
    #[arg(long, value_name = "DIR")]
    pub challenges: Option<PathBuf>,
    /// Where to listen.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// JSON Lines of `{"sha256", "role", "user"}` (make lines with `challenge serve token`).
    /// Without it every request is admin and only a loopback address is allowed.
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,
    /// Run the periodic job at this interval (`30m`, `1h`, `1d`), aligned in `--timezone`.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub tick_every: Option<std::time::Duration>,
    /// The time zone of ticks and leaderboards.
    #[arg(long, value_name = "TZ", default_value = "UTC")]
    pub timezone: String,
    /// Logs on stderr as text or JSON lines.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Keep the raw events of sessions for this long (`30d`): each periodic job (ticks of
    /// `--tick-every` and `POST /v1/tick`) compacts the sessions that ended longer ago than
    /// that before its time; their workouts stay, late events for them are dead letters.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub retain_events: Option<std::time::Duration>,
    /// Changes kept for clients that reconnect with `Last-Event-ID` (older: `reset`).
    #[arg(long, value_name = "N", default_value_t = challenge_server::OUTBOX_KEEP)]
    pub outbox_keep: u64,
    /// The browser console's built files, served at `/` (default: `rules-wasm/web/dist` in the
    /// current folder or in the workspace of the binary, when built with `bash
    /// rules-wasm/build.sh`; without them `/` says how to build them).
    #[arg(long, value_name = "DIR")]
    pub console: Option<PathBuf>,
    /// `POST` every issued reward to this URL (repeatable), with `Idempotency-Key:
    /// <challenge>/<user or team>/<name>`, retried with backoff until a 2xx, across restarts.
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,
    /// How long one webhook attempt may take before it counts as failed (and is retried).
    #[arg(long, value_name = "DURATION", value_parser = parse_interval, default_value = "10s")]
    pub webhook_timeout: std::time::Duration,
    /// Scale-out: serve as a gateway over this PostgreSQL store (with `--broker`); the views
    /// are derived by `challenge worker` (docs/scale-out.md). `--db` is not used then.
    #[arg(long, value_name = "URL", requires = "broker")]
    pub store: Option<String>,
    /// Scale-out: the RabbitMQ broker the gateway publishes to (with `--store`).
    #[arg(long, value_name = "URL", requires = "store")]
    pub broker: Option<String>,
    /// Scale-out: the partition streams' count (the workers' `--partitions`).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub partitions: u32,
    /// Scale-out: the streams' name prefix (the workers' `--streams`).
    #[arg(long, value_name = "NAME", default_value = "challenge")]
    pub streams: String,
    /// The catalog.
    #[command(flatten)]
    pub catalog: CatalogArg,
}

/// `challenge serve` subcommands.
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Print a new random token on stderr and its line for the `--tokens` file on stdout.
    #[command(
        after_help = "Example:\n  challenge serve token --role admin >> tokens.jsonl\n  challenge serve token --role member --user u-01 >> tokens.jsonl"
    )]
    Token(TokenArgs),
}

/// `challenge serve token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// `admin`, `device` or `member`.
    #[arg(long, value_parser = ["admin", "device", "member"])]
    pub role: String,
    /// The member's user (members only).
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
}

/// How the service writes its logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `30s`, `30m`, `1h`, `1d`: a positive whole number and a unit.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` needs a unit: s, m, h or d (such as 30m or 1h)"))?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30m, 1h or 1d"))?;
    let scale: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit `{unit}` in `{text}`: s, m, h or d")),
    };
    let secs = n
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too long a duration"))?;
    if secs == 0 {
        return Err("the interval must be longer than zero".to_owned());
    }
    Ok(std::time::Duration::from_secs(secs))
}
