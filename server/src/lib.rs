//! `challenge serve`: the pipeline as a long-lived service (service.md). Devices post sensor
//! events, admins manage users and challenges, members read their results, and every change to
//! a derived view is pushed to the clients that watch it over server-sent events.
//!
//! ```text
//! HTTP (axum, tokio) ──► api handlers ──roles (auth)──► front door (rules-front) for challenges
//!        │                    │ changes: Command ──► writer thread (owns the Engine and the file)
//!        │                    │                        └─ Store::commit: views + outbox, one transaction
//!        │                    │                              └─► Hub ring ──► stream subscribers (SSE)
//!        │                    └ reads: reader connections (WAL readers beside the writer)
//!        └ /v1/stream ─── cursor over the Hub, or over the outbox when behind
//! ```
//!
//! The stages are the pipeline's (`pipeline::engine`); this crate only moves requests to them
//! and answers. A request that changes a source of truth becomes a logged message stamped with
//! the receipt time (a user `PUT` is a `user_upsert`, a tick is a tick), so `pipeline verify`
//! on the server's file stays green whatever was done through the API.
//!
//! **Invariants:** an answer that accepts a change is sent after its commit (durable); an event
//! of the stream is sent after its commit; one process owns the database file (the store's
//! owner lock); the only clock reads are the receipt stamps, the scheduler and the metrics.

pub mod api;
pub mod auth;
pub mod console;
pub mod error;
pub mod gateway;
pub mod hub;
pub mod metrics;
pub mod schedule;
pub mod stream;
pub mod webhooks;
pub mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::Router;
use challenge_scale::AnyStore;
use pipeline::engine::{Engine, Options};
use pipeline::store::StoreError;
use pipeline::SqliteStore;
use rules_core::{Catalog, Challenge};
use tokio::sync::{mpsc, watch};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Tokens;
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::writer::{Command, Shared};

/// Changes the outbox keeps by default for clients that reconnect (older ones get `reset`).
pub const OUTBOX_KEEP: u64 = 1_000_000;

/// How the server runs.
pub struct Config {
    /// The database file (created if missing).
    pub db: PathBuf,
    /// Challenges to load at start, as `pipeline ingest --challenges` does (`None`: keep the
    /// stored ones).
    pub challenges: Option<Vec<Challenge>>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The known tokens (or none: every request is admin, loopback only).
    pub tokens: Tokens,
    /// The time zone of ticks and leaderboards.
    pub timezone: String,
    /// The exercise catalog.
    pub catalog: Catalog,
    /// The periodic job's interval (`--tick-every`), if any.
    pub tick_every: Option<std::time::Duration>,
    /// Changes the outbox keeps for reconnecting clients (`--outbox-keep`).
    pub outbox_keep: u64,
    /// `--retain-events`: each periodic job compacts the sessions that ended longer ago than
    /// this before its time.
    pub retain_events: Option<std::time::Duration>,
    /// The built console (`--console`; `None`: `GET /` says how to build it).
    pub console: Option<PathBuf>,
    /// Where every issued reward is `POST`ed (`--webhook`, repeatable).
    pub webhooks: Vec<String>,
    /// Scale-out (`--store`, `--broker`): a gateway over PostgreSQL and RabbitMQ instead of the
    /// embedded writer (docs/scale-out.md).
    pub scale: Option<gateway::Scale>,
    /// How long one delivery attempt may take.
    pub webhook_timeout: std::time::Duration,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A bad setting (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The store or the network failed.
    #[error("{0}")]
    Failed(String),
}

/// Reader connections to the database file, beside the writer (WAL lets them read the last
/// committed state while it writes). Each request takes one for the duration of its read.
pub struct Readers {
    /// The SQLite file, or the PostgreSQL URL in scale-out.
    db: String,
    idle: Mutex<Vec<AnyStore>>,
}

impl Drop for Readers {
    fn drop(&mut self) {
        // A PostgreSQL connection closes by blocking on its own runtime, which may not happen
        // on an async thread: the idle connections are closed on a thread of their own.
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

impl Readers {
    /// Runs `f` on an idle connection (or a new one), then keeps the connection for reuse.
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut AnyStore) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let mut store = match idle {
            Some(s) => s,
            None => AnyStore::open_reader(&self.db)?,
        };
        let out = f(&mut store);
        if let Ok(mut v) = self.idle.lock() {
            v.push(store);
        }
        out
    }
}

/// What every handler shares.
pub struct AppState {
    /// To the writer.
    pub commands: mpsc::Sender<Command>,
    /// Reader connections.
    pub readers: Arc<Readers>,
    /// The stream's fan-out.
    pub hub: Arc<Hub>,
    /// What the writer publishes (log head, batches).
    pub shared: Arc<Shared>,
    /// Known tokens.
    pub tokens: Tokens,
    /// The catalog challenges are checked against.
    pub catalog: Catalog,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Turns true when the server stops: streams end.
    pub shutdown: watch::Receiver<bool>,
    /// The console's folder, if built.
    pub console: Option<PathBuf>,
}

/// The API's OpenAPI document (paths come from the router, below).
#[derive(OpenApi)]
#[openapi(
    info(title = "challenge service", description = "The challenge service of service.md: ingest, users, challenges, results, the stream."),
    modifiers(&BearerAuth),
    tags((name = "service"), (name = "ingest"), (name = "users"), (name = "challenges"),
        (name = "results"), (name = "stream"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's routes with their OpenAPI document.
pub fn routes() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::health))
        .routes(routes!(api::post_events))
        .routes(routes!(api::get_user, api::put_user, api::delete_user))
        .routes(routes!(api::recommend))
        .routes(routes!(api::list_challenges))
        .routes(routes!(
            api::get_challenge,
            api::put_challenge,
            api::delete_challenge
        ))
        .routes(routes!(api::user_results))
        .routes(routes!(api::challenge_results))
        .routes(routes!(api::team_results))
        .routes(routes!(api::user_rewards))
        .routes(routes!(api::user_profile))
        .routes(routes!(api::leaderboards))
        .routes(routes!(api::post_tick))
        .routes(routes!(stream::stream))
        .split_for_parts()
}

/// The whole application: the API, its document, `/metrics`, the console (`/` and its files,
/// public), and the JSON answers for unknown routes and methods.
pub fn app(state: Arc<AppState>) -> Router {
    let (router, doc) = routes();
    let doc = Arc::new(doc);
    router
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = Arc::clone(&doc);
                async move { axum::Json((*doc).clone()) }
            }),
        )
        .route("/metrics", get(metrics::handler))
        .fallback(console::fallback)
        .method_not_allowed_fallback(api::method_not_allowed)
        .with_state(state)
}

/// The receipt time of a request (RFC 3339, UTC, milliseconds): the stamp a logged message
/// gets. One of the service's only clock reads.
pub fn receipt_time() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs the server until SIGTERM or SIGINT: opens the file as its one writer, loads the
/// challenges, listens, and on a signal stops accepting, answers the requests under way,
/// commits, ends the streams and returns.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    if !config.tokens.required() && !config.listen.ip().is_loopback() {
        return Err(ServeError::Usage(format!(
            "without --tokens every request is admin: `serve` listens only on a loopback address, not {} (make tokens with `challenge serve token`)",
            config.listen
        )));
    }
    let (commands, inbox) = mpsc::channel::<Command>(1024);
    let (hub, shared, writer) = match &config.scale {
        Some(scale) => start_gateway(&config, scale.clone(), inbox)?,
        None => start_writer(&config, inbox)?,
    };
    let (stop, shutdown) = watch::channel(false);
    if let Some(every) = config.tick_every {
        let zone =
            rules_core::leaderboard::parse_timezone(&config.timezone).map_err(ServeError::Usage)?;
        tokio::spawn(schedule::ticks(
            commands.clone(),
            every,
            zone,
            shutdown.clone(),
        ));
    }
    let state = Arc::new(AppState {
        commands,
        readers: Arc::new(Readers {
            db: match &config.scale {
                Some(scale) => scale.store.clone(),
                None => config.db.to_string_lossy().into_owned(),
            },
            idle: Mutex::new(Vec::new()),
        }),
        hub,
        shared,
        tokens: config.tokens,
        catalog: config.catalog,
        metrics: Metrics::default(),
        shutdown,
        console: config.console,
    });
    tokio::spawn(webhooks::run(
        Arc::clone(&state),
        state.commands.clone(),
        config.webhook_timeout,
        state.shutdown.clone(),
    ));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Usage(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Failed(e.to_string()))?;
    match &config.scale {
        Some(scale) => eprintln!(
            "challenge serve: listening on http://{addr}/ (gateway: store {}, broker {}, {} partitions)",
            challenge_scale::postgres::redact(&scale.store),
            challenge_scale::postgres::redact(&scale.broker),
            scale.partitions
        ),
        None => eprintln!(
            "challenge serve: listening on http://{addr}/ (database {})",
            config.db.display()
        ),
    }
    tracing::info!(%addr, "listening");
    // Small writes (one event to a subscriber) go out at once, not after the peer's ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp: &mut tokio::net::TcpStream| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "TCP_NODELAY not set");
        }
    });
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        signal().await;
        tracing::info!("stopping: answering the requests under way");
        let _ = stop.send(true);
    })
    .await;
    // Every handler (and so every command sender) is gone: the writer drains and stops.
    if writer.join().is_err() {
        return Err(ServeError::Failed("the writer thread failed".to_owned()));
    }
    served.map_err(|e| ServeError::Failed(e.to_string()))
}

/// What starting the writer (or the gateway) gives: the stream's hub, what it shares with the
/// handlers, and its thread.
type Started = (Arc<Hub>, Arc<Shared>, std::thread::JoinHandle<()>);

/// The embedded writer: the engine over the SQLite file, on a thread of its own.
fn start_writer(config: &Config, inbox: mpsc::Receiver<Command>) -> Result<Started, ServeError> {
    let store = SqliteStore::open_owner(&config.db).map_err(|e| match e {
        StoreError::Owned(_) => ServeError::Usage(e.to_string()),
        other => ServeError::Failed(format!("{}: {other}", config.db.display())),
    })?;
    let options = Options {
        catalog: config.catalog.clone(),
        feed: true,
        webhooks: config.webhooks.clone(),
        ..Options::default()
    };
    let mut engine =
        Engine::open(store, options.clone()).map_err(|e| ServeError::Failed(e.to_string()))?;
    engine
        .store()
        .enable_feed(config.outbox_keep)
        .map_err(|e| ServeError::Failed(e.to_string()))?;
    if let Some(decls) = &config.challenges {
        let changes = engine
            .set_challenges(decls)
            .map_err(|e| ServeError::Failed(e.to_string()))?;
        tracing::info!(
            added = changes.added.len(),
            edited = changes.edited.len(),
            removed = changes.removed.len(),
            "challenges loaded"
        );
    }
    // What `--challenges` committed is in the outbox; clients start after it.
    engine.store().take_committed();
    let (_, outbox_head) = engine
        .store()
        .change_bounds()
        .map_err(|e| ServeError::Failed(e.to_string()))?;
    let ring = usize::try_from(config.outbox_keep).unwrap_or(usize::MAX);
    let hub = Arc::new(Hub::new(outbox_head, ring));
    let shared = Arc::new(Shared {
        log_head: AtomicU64::new(engine.head()),
        batches: AtomicU64::new(0),
        reload: AtomicBool::new(false),
        open_sessions: AtomicU64::new(0),
        commit_seconds: writer::Histogram::default(),
    });
    let writer = {
        let hub = Arc::clone(&hub);
        let shared = Arc::clone(&shared);
        let timezone = config.timezone.clone();
        let retain = config.retain_events;
        std::thread::Builder::new()
            .name("writer".to_owned())
            .spawn(move || writer::run(engine, options, inbox, hub, shared, timezone, retain))
            .map_err(|e| ServeError::Failed(format!("cannot start the writer: {e}")))?
    };
    Ok((hub, shared, writer))
}

/// The gateway of scale-out: commands become messages on the partition streams; nothing is
/// derived here (`challenge worker` does it); the stream follows the store's outbox.
fn start_gateway(
    config: &Config,
    scale: gateway::Scale,
    inbox: mpsc::Receiver<Command>,
) -> Result<Started, ServeError> {
    // Clients start after what the outbox holds now.
    // (The blocking PostgreSQL client runs on a thread of its own, off the async runtime.)
    let url = scale.store.clone();
    let (_, head) = std::thread::spawn(move || {
        challenge_scale::PgStore::connect(&url).and_then(|mut s| s.change_bounds())
    })
    .join()
    .map_err(|_| ServeError::Failed("the store's first read failed".to_owned()))?
    .map_err(|e| ServeError::Failed(e.to_string()))?;
    let ring = usize::try_from(config.outbox_keep).unwrap_or(usize::MAX);
    let hub = Arc::new(Hub::new(head, ring));
    {
        let hub = Arc::clone(&hub);
        let store = scale.store.clone();
        std::thread::Builder::new()
            .name("outbox".to_owned())
            .spawn(move || gateway::follow(store, hub, head))
            .map_err(|e| ServeError::Failed(format!("cannot follow the outbox: {e}")))?;
    }
    let shared = Arc::new(Shared {
        log_head: AtomicU64::new(0),
        batches: AtomicU64::new(0),
        reload: AtomicBool::new(false),
        open_sessions: AtomicU64::new(0),
        commit_seconds: writer::Histogram::default(),
    });
    let timezone = config.timezone.clone();
    let writer = std::thread::Builder::new()
        .name("gateway".to_owned())
        .spawn(move || gateway::run(scale, inbox, timezone))
        .map_err(|e| ServeError::Failed(format!("cannot start the gateway: {e}")))?;
    Ok((hub, shared, writer))
}

/// Runs [`serve`] on a runtime of its own (what `challenge serve` calls), with logs on stderr
/// as text or JSON lines.
pub fn run(config: Config, log_json: bool) -> Result<(), ServeError> {
    init_logs(log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| ServeError::Failed(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(serve(config))
}

/// Structured logs on stderr (`RUST_LOG` filters; `info` by default). Requests are logged by
/// method, route and status only: never a token, a body or a user id.
fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}

/// SIGTERM or SIGINT.
async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document is made from the router's own routes: every request the router serves is
    /// in it, with its method, and nothing else.
    #[test]
    fn the_openapi_document_lists_the_routes() {
        let (_, doc) = routes();
        let mut listed: Vec<String> = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
            ] {
                if op.is_some() {
                    listed.push(format!("{method} {path}"));
                }
            }
        }
        listed.sort();
        let mut want = vec![
            "GET /v1/health",
            "POST /v1/events",
            "GET /v1/users/{id}",
            "PUT /v1/users/{id}",
            "DELETE /v1/users/{id}",
            "GET /v1/challenges",
            "GET /v1/challenges/{id}",
            "PUT /v1/challenges/{id}",
            "DELETE /v1/challenges/{id}",
            "GET /v1/users/{id}/results",
            "GET /v1/challenges/{id}/results",
            "GET /v1/teams/{group}/results",
            "GET /v1/users/{id}/rewards",
            "GET /v1/users/{id}/profile",
            "POST /v1/users/{id}/recommend",
            "GET /v1/leaderboards",
            "POST /v1/tick",
            "GET /v1/stream",
        ];
        want.sort_unstable();
        assert_eq!(listed, want);
        let json = serde_json::to_value(&doc).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(json["components"]["securitySchemes"]["bearer"].is_object());
    }
}
