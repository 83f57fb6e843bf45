//! The requests of service.md, one handler each. A handler checks the role first, reads and
//! validates its input (through the front door for challenges, through the pipeline's own
//! readers for records), then either sends a [`Command`] to the writer and answers after the
//! commit, or reads a view through a reader connection.
//!
//! The OpenAPI document is generated from these handlers' `#[utoipa::path]` annotations and
//! their types (`GET /v1/openapi.json`); a test checks it against the router's routes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use challenge_scale::AnyStore;
use pipeline::store::{StoreError, StoredChallenge};
use pipeline::transport::Chunk;
use pipeline::Store;
use rules_core::eval::AsOf;
use rules_core::tree::DeclKind;
use rules_front::{JsonDiagnostic, Source, TreeInput};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::error::{ApiError, ErrorBody};
use crate::writer::Command;
use crate::AppState;

/// The largest request body (service.md): 8 MiB.
pub const MAX_BODY: usize = 8 << 20;

/// The longest line of a JSON Lines body: 1 MiB.
pub const MAX_LINE: usize = 1 << 20;

type Answer = Result<Response, ApiError>;

/// A JSON answer from text that is already JSON (view rows are stored as JSON text).
fn raw_json(status: StatusCode, text: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

/// A JSON array of rows stored as JSON text.
fn rows_array(rows: &[String]) -> Response {
    let mut out = String::with_capacity(rows.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
    out.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(row);
    }
    out.push(']');
    raw_json(StatusCode::OK, out)
}

/// The media type of a request, lower-cased, without parameters (`None` when absent).
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// Reads a request body of at most [`MAX_BODY`] bytes as UTF-8 text; a longer one is read
/// on (up to [`DRAIN_LIMIT`]) and dropped before the `413`.
async fn body_text(mut body: Body) -> Result<String, ApiError> {
    use http_body_util::BodyExt;
    let too_large = || ApiError::too_large(format!("the body is over {MAX_BODY} bytes (8 MiB)"));
    let mut bytes = Vec::new();
    let (mut seen, mut over) = (0usize, false);
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_LIMIT {
            // Past this, the connection is closed under the client rather than read on.
            return Err(too_large());
        }
        if !over && bytes.len() + data.len() > MAX_BODY {
            // Read the rest and drop it, so that the client, still sending, gets the answer
            // rather than a broken pipe.
            over = true;
            bytes = Vec::new();
        }
        if !over {
            bytes.extend_from_slice(&data);
        }
    }
    if over {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        ApiError::bad_request(format!(
            "the body is not UTF-8 (invalid byte at offset {at})"
        ))
    })
}

/// How much of a body over [`MAX_BODY`] is read (and dropped) before the `413`.
const DRAIN_LIMIT: usize = 8 * MAX_BODY;

/// A request body read whole (at most [`MAX_BODY`] bytes) as UTF-8 text, before the handler
/// runs: a request refused for its role or its content type has been read to its end, so the
/// client gets the answer rather than a broken connection.
pub struct BodyText(pub String);

impl<S: Send + Sync> axum::extract::FromRequest<S> for BodyText {
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, _: &S) -> Result<BodyText, ApiError> {
        body_text(request.into_body()).await.map(BodyText)
    }
}

/// Reads a JSON body (`application/json`) into `T`.
fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    text: &str,
) -> Result<T, ApiError> {
    match media_type(headers).as_deref() {
        Some("application/json") | None => {}
        Some(other) => {
            return Err(ApiError::media_type(format!(
                "the body must be `application/json`, not `{other}`"
            )))
        }
    }
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("the body is not the JSON expected: {e}")))
}

/// Sends a command to the writer and waits for its answer (after the commit).
async fn write<T>(
    state: &AppState,
    command: impl FnOnce(oneshot::Sender<Result<T, String>>) -> Command,
) -> Result<T, ApiError> {
    let (reply, answer) = oneshot::channel();
    state
        .commands
        .send(command(reply))
        .await
        .map_err(|_| ApiError::unavailable("the server is shutting down"))?;
    answer
        .await
        .map_err(|_| ApiError::unavailable("the writer stopped before answering"))?
        .map_err(ApiError::internal)
}

/// Runs `f` on a reader connection (off the async threads).
pub(crate) async fn read<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut AnyStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let readers = Arc::clone(&state.readers);
    tokio::task::spawn_blocking(move || readers.with(f))
        .await
        .map_err(|e| ApiError::internal(format!("a reader failed: {e}")))?
        .map_err(ApiError::from)
}

/// The groups of a user's stored record (none when there is no record).
pub(crate) fn groups(s: &mut AnyStore, user: &str) -> Result<Vec<String>, StoreError> {
    let rows = s.query("users", Some(user), None)?;
    Ok(rows
        .first()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .and_then(|v| v.get("groups").cloned())
        .and_then(|g| serde_json::from_value::<Vec<String>>(g).ok())
        .unwrap_or_default())
}

/// `GET /v1/health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    status: &'static str,
    /// The last log position committed.
    log_head: u64,
}

/// Whether the service is up, and how far its log goes.
#[utoipa::path(get, path = "/v1/health", tag = "service",
    responses((status = 200, body = Health)))]
pub async fn health(State(state): State<Arc<AppState>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        log_head: state.shared.log_head.load(Ordering::Acquire),
    })
}

/// What `POST /v1/events` did with the body's lines (`read == accepted + rejected`).
#[derive(Serialize, ToSchema)]
pub struct EventsAnswer {
    /// Non-blank lines read.
    read: u64,
    /// Lines accepted (durable: committed before this answer).
    accepted: u64,
    /// Identical resends among the accepted (no-ops).
    duplicates: u64,
    /// Lines rejected (kept as dead letters).
    rejected: u64,
    /// Each rejected line of the body (1-based) and why.
    rejections: Vec<Rejection>,
    /// The last log position committed.
    log_head: u64,
}

/// A rejected line.
#[derive(Serialize, ToSchema)]
pub struct Rejection {
    /// Its 1-based line number in the body.
    line: u64,
    /// Why.
    reason: String,
}

/// Splits a JSON Lines body into a chunk, numbering lines from 1; a line over [`MAX_LINE`]
/// bytes is `413`.
fn chunk_of(text: &str) -> Result<Chunk, ApiError> {
    let mut chunk = Chunk::default();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > MAX_LINE {
            return Err(ApiError::too_large(format!(
                "line {} is {} bytes, over the 1 MiB a line may have",
                i + 1,
                line.len()
            )));
        }
        if !line.trim().is_empty() {
            chunk.push(i as u64 + 1, line);
        }
    }
    Ok(chunk)
}

/// Sensor events, as JSON Lines (data.md); answered after the batch is committed.
#[utoipa::path(post, path = "/v1/events", tag = "ingest",
    request_body(content = String, content_type = "application/x-ndjson",
        description = "JSON Lines of sensor events (data.md)"),
    responses((status = 200, body = EventsAnswer), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    BodyText(text): BodyText,
) -> Answer {
    let who = state.tokens.principal(&headers)?;
    if who == crate::auth::Principal::Device {
        // Devices may post events, and nothing else.
    } else {
        who.admin()?;
    }
    match media_type(&headers).as_deref() {
        None
        | Some(
            "application/x-ndjson"
            | "application/jsonl"
            | "application/json-lines"
            | "application/json"
            | "text/plain",
        ) => {}
        Some(other) => {
            return Err(ApiError::media_type(format!(
                "the body must be JSON Lines (`application/x-ndjson`), not `{other}`"
            )))
        }
    }
    let chunk = chunk_of(&text)?;
    drop(text);
    let admitted = write(&state, |reply| Command::Lines {
        source: "http",
        chunk,
        reply,
    })
    .await?;
    state.metrics.events(&admitted.counters);
    let c = admitted.counters;
    Ok(Json(EventsAnswer {
        read: c.read,
        accepted: c.accepted,
        duplicates: c.duplicates,
        rejected: c.rejected,
        rejections: admitted
            .rejections
            .into_iter()
            .map(|(line, reason)| Rejection { line, reason })
            .collect(),
        log_head: state.shared.log_head.load(Ordering::Acquire),
    })
    .into_response())
}

/// The user record `id`, `404` if none.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "the user id")),
    responses((status = 200, description = "the user record (data.md)", body = Object),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    state.tokens.principal(&headers)?.admin_or_self(&id)?;
    user_record(&state, id).await
}

async fn user_record(state: &AppState, id: String) -> Answer {
    let key = id.clone();
    let rows = read(state, move |s| s.query("users", Some(&key), None)).await?;
    match rows.into_iter().next() {
        Some(row) => Ok(raw_json(StatusCode::OK, row)),
        None => Err(ApiError::not_found(format!("no user `{id}`"))),
    }
}

/// Stores a user record, logged as a `user_upsert` stamped with the receipt time.
#[utoipa::path(put, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "the user id")),
    request_body(content = Object, description = "the user record (data.md); `id` may be left out"),
    responses((status = 200, description = "the stored record", body = Object),
        (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    BodyText(text): BodyText,
) -> Answer {
    state.tokens.principal(&headers)?.admin()?;
    let mut record: serde_json::Value = json_body(&headers, &text)?;
    let Some(fields) = record.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the user record must be a JSON object",
        ));
    };
    match fields.get("id") {
        None => {
            fields.insert("id".to_owned(), serde_json::Value::String(id.clone()));
        }
        Some(serde_json::Value::String(given)) if *given == id => {}
        Some(given) => {
            return Err(ApiError::bad_request(format!(
                "the record's id {given} is not the path's `{id}`"
            )))
        }
    }
    let line = serde_json::json!({
        "type": "user_upsert",
        "seq": 0,
        "ts": crate::receipt_time(),
        "user": record,
    })
    .to_string();
    let mut chunk = Chunk::default();
    chunk.push(1, &line);
    let admitted = write(&state, |reply| Command::Lines {
        source: "api",
        chunk,
        reply,
    })
    .await?;
    if let Some((_, reason)) = admitted.rejections.into_iter().next() {
        return Err(ApiError::bad_request(format!("the user record: {reason}")));
    }
    user_record(&state, id).await
}

/// `?erase=true`.
#[derive(Deserialize, IntoParams)]
pub struct EraseQuery {
    /// Purge every event, workout, result, live row, profile, reward and leaderboard entry of
    /// the user too.
    #[serde(default)]
    erase: bool,
}

/// Removes a user's record (a logged `user_delete` stamped with the receipt time: the user
/// is in no groups, its workouts and results stay); with `?erase=true`, purges everything of
/// the user.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "the user id"), EraseQuery),
    responses((status = 204, description = "removed (erased)"),
        (status = 404, body = ErrorBody, description = "no record (with erase: nothing of the user)")),
    security(("bearer" = [])))]
pub async fn delete_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<EraseQuery>,
) -> Answer {
    state.tokens.principal(&headers)?.admin()?;
    let missing = if q.erase {
        format!("nothing is known of user `{id}`")
    } else {
        format!("no user `{id}`")
    };
    let at = AsOf::parse(&crate::receipt_time())
        .ok_or_else(|| ApiError::internal("the receipt time does not parse"))?;
    let removed = write(&state, |reply| Command::DeleteUser {
        id,
        erase: q.erase,
        at,
        reply,
    })
    .await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(missing))
    }
}

/// A challenge of the list.
#[derive(Serialize, ToSchema)]
pub struct ChallengeItem {
    /// Its id.
    id: String,
    /// Its title.
    title: serde_json::Value,
    /// Its window, as in the tree.
    #[schema(value_type = Object)]
    window: serde_json::Value,
    /// The content hash of its tree.
    hash: String,
    /// The user a personal challenge is evaluated for (`recommend` with `assign`); absent for
    /// a challenge of everyone.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

/// Whether `who` may see a stored challenge: every challenge of everyone; a personal one, the
/// admins and its owner.
fn may_see(who: &Principal, c: &StoredChallenge) -> bool {
    match (&c.owner, who) {
        (None, _) | (Some(_), Principal::Admin) => true,
        (Some(owner), Principal::Member(me)) => owner == me,
        (Some(_), Principal::Device) => false,
    }
}

/// The challenges, sorted by id.
#[utoipa::path(get, path = "/v1/challenges", tag = "challenges",
    responses((status = 200, body = [ChallengeItem])),
    security(("bearer" = [])))]
pub async fn list_challenges(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Answer {
    let who = state.tokens.principal(&headers)?;
    who.reader()?;
    let stored = read(&state, |s| s.stored_challenges()).await?;
    let items: Vec<ChallengeItem> = stored
        .into_iter()
        .filter(|c| may_see(&who, c))
        .map(|c| {
            let tree: serde_json::Value = serde_json::from_str(&c.tree).unwrap_or_default();
            ChallengeItem {
                id: c.id,
                title: tree.get("title").cloned().unwrap_or_default(),
                window: tree.get("window").cloned().unwrap_or_default(),
                hash: c.hash,
                owner: c.owner,
            }
        })
        .collect();
    Ok(Json(items).into_response())
}

/// Whether the client asked for DSL text.
fn wants_text(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/plain"))
}

/// The challenge's JSON tree; with `Accept: text/plain`, its canonical DSL.
#[utoipa::path(get, path = "/v1/challenges/{id}", tag = "challenges",
    params(("id" = String, Path, description = "the challenge id")),
    responses((status = 200, description = "the JSON tree (language.md §9), or DSL text", body = Object),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_challenge(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let who = state.tokens.principal(&headers)?;
    who.reader()?;
    let stored = read(&state, |s| s.stored_challenges()).await?;
    // Another user's personal challenge is not there for a member.
    let Some(c) = stored.into_iter().find(|c| c.id == id && may_see(&who, c)) else {
        return Err(ApiError::not_found(format!("no challenge `{id}`")));
    };
    if !wants_text(&headers) {
        return Ok(raw_json(StatusCode::OK, c.tree));
    }
    let trees = rules_core::json::read_trees(&c.tree);
    if let Some(d) = trees.diagnostics.first() {
        return Err(ApiError::internal(format!(
            "the stored challenge `{id}` does not read: {}",
            d.message
        )));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        rules_dsl::print_file(&trees.decls),
    )
        .into_response())
}

/// What `PUT /v1/challenges/{id}` answers.
#[derive(Serialize, ToSchema)]
pub struct PutChallengeAnswer {
    /// The id.
    id: String,
    /// The content hash of the stored tree.
    hash: String,
}

/// Adds or replaces a challenge (DSL text or a JSON tree); answered once its results are
/// re-derived.
#[utoipa::path(put, path = "/v1/challenges/{id}", tag = "challenges",
    params(("id" = String, Path, description = "the challenge id")),
    request_body(content = String, description = "DSL text (`text/plain`) or a JSON tree (`application/json`)"),
    responses((status = 200, body = PutChallengeAnswer), (status = 400, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_challenge(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    BodyText(text): BodyText,
) -> Answer {
    state.tokens.principal(&headers)?.admin()?;
    let dsl = match media_type(&headers).as_deref() {
        Some("text/plain") => true,
        Some("application/json") => false,
        other => {
            return Err(ApiError::media_type(format!(
            "a challenge is DSL text (`text/plain`) or a JSON tree (`application/json`), not `{}`",
            other.unwrap_or("a body without a content type")
        )))
        }
    };
    let input = if dsl {
        TreeInput::Dsl(&text)
    } else {
        TreeInput::Json(&text)
    };
    let source = Source::read(input, &state.catalog);
    if source.has_errors() {
        let file = format!("/v1/challenges/{id}");
        let dsl_text = source.dsl.then_some(source.text.as_str());
        let diagnostics: Vec<JsonDiagnostic> = source
            .diagnostics
            .iter()
            .map(|d| JsonDiagnostic::in_file(d, dsl_text, Some(file.clone())))
            .collect();
        return Err(ApiError::unprocessable(
            format!("the challenge `{id}` does not check"),
            diagnostics,
        ));
    }
    let mut decls = source.decls;
    let decl = match (decls.pop(), decls.is_empty()) {
        (Some(decl), true) => decl,
        (None, _) => return Err(ApiError::bad_request("the body holds no challenge")),
        (Some(_), false) => {
            return Err(ApiError::bad_request(
                "the body holds several declarations; put one challenge per request",
            ))
        }
    };
    if decl.kind != DeclKind::Challenge {
        return Err(ApiError::bad_request(
            "the body is a template; only challenges are stored (templates are filled by `recommend`)",
        ));
    }
    if decl.id.as_str() != id {
        return Err(ApiError::bad_request(format!(
            "the challenge's id `{}` is not the path's `{id}`",
            decl.id.as_str()
        )));
    }
    let hash = write(&state, |reply| Command::PutChallenge {
        decl: Box::new(decl),
        owner: None,
        reply,
    })
    .await?;
    Ok(Json(PutChallengeAnswer { id, hash }).into_response())
}

/// Removes a challenge and its results.
#[utoipa::path(delete, path = "/v1/challenges/{id}", tag = "challenges",
    params(("id" = String, Path, description = "the challenge id")),
    responses((status = 204, description = "removed"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_challenge(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    state.tokens.principal(&headers)?.admin()?;
    let missing = format!("no challenge `{id}`");
    let removed = write(&state, |reply| Command::DeleteChallenge { id, reply }).await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(missing))
    }
}

/// `?live=true`.
#[derive(Deserialize, IntoParams)]
pub struct LiveQuery {
    /// The live rows (the sessions under way counted) instead of the results.
    #[serde(default)]
    live: bool,
}

/// The user's result lines (`challenge eval` lines), sorted by challenge.
#[utoipa::path(get, path = "/v1/users/{id}/results", tag = "results",
    params(("id" = String, Path, description = "the user id"), LiveQuery),
    responses((status = 200, description = "`challenge eval` lines", body = [Object])),
    security(("bearer" = [])))]
pub async fn user_results(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LiveQuery>,
) -> Answer {
    state.tokens.principal(&headers)?.admin_or_self(&id)?;
    let view = if q.live { "live" } else { "results" };
    let rows = read(&state, move |s| s.query(view, Some(&id), None)).await?;
    Ok(rows_array(&rows))
}

/// Every user's (or team's) result line for the challenge.
#[utoipa::path(get, path = "/v1/challenges/{id}/results", tag = "results",
    params(("id" = String, Path, description = "the challenge id")),
    responses((status = 200, description = "`challenge eval` lines", body = [Object]),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn challenge_results(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    state.tokens.principal(&headers)?.admin()?;
    let (known, rows) = read(&state, move |s| {
        let known = s.stored_challenges()?.iter().any(|c| c.id == id);
        Ok((known, s.query("results", None, Some(&id))?))
    })
    .await?;
    if !known {
        return Err(ApiError::not_found("no such challenge"));
    }
    Ok(rows_array(&rows))
}

/// A team's result lines, one per team challenge that names the group, sorted by challenge.
#[utoipa::path(get, path = "/v1/teams/{group}/results", tag = "results",
    params(("group" = String, Path, description = "the team: a group named by team challenges")),
    responses((status = 200, description = "`challenge eval` team lines (`[]` when no challenge names the group)", body = [Object]),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn team_results(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(group): Path<String>,
) -> Answer {
    let principal = state.tokens.principal(&headers)?;
    let member = match &principal {
        Principal::Member(me) => Some(me.clone()),
        other => {
            other.admin()?;
            None
        }
    };
    let (allowed, rows) = read(&state, move |s| {
        if let Some(me) = member {
            if !groups(s, &me)?.contains(&group) {
                return Ok((false, Vec::new()));
            }
        }
        Ok((true, s.query("team_results", Some(&group), None)?))
    })
    .await?;
    if !allowed {
        return Err(ApiError::forbidden(
            "a member may read only the results of the teams it is in",
        ));
    }
    Ok(rows_array(&rows))
}

/// The rewards a user earned, with those of the teams it is in now, sorted by challenge, then
/// by holder and name: the ledger's rows (`{"challenge", "user" or "team", "name", "points",
/// "at"}`), as the stream's `reward` events carry them.
#[utoipa::path(get, path = "/v1/users/{id}/rewards", tag = "results",
    params(("id" = String, Path, description = "the user id")),
    responses((status = 200, description = "reward rows", body = [Object])),
    security(("bearer" = [])))]
pub async fn user_rewards(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    state.tokens.principal(&headers)?.admin_or_self(&id)?;
    let rows = read(&state, move |s| {
        let mut rows: Vec<(String, String)> = Vec::new();
        let mut keep = |s: &mut AnyStore, view: &str, holder: &str| -> Result<(), StoreError> {
            for row in s.query(view, Some(holder), None)? {
                let challenge = serde_json::from_str::<serde_json::Value>(&row)
                    .ok()
                    .and_then(|v| v.get("challenge")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                rows.push((challenge, row));
            }
            Ok(())
        };
        keep(s, "rewards", &id)?;
        for group in groups(s, &id)? {
            keep(s, "team_rewards", &group)?;
        }
        // Each query is sorted by (challenge, holder, name); a stable sort by challenge keeps
        // that order within a challenge, the user's own rows first.
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(rows.into_iter().map(|(_, row)| row).collect::<Vec<_>>())
    })
    .await?;
    Ok(rows_array(&rows))
}

/// The user's profile as of the last tick.
#[utoipa::path(get, path = "/v1/users/{id}/profile", tag = "results",
    params(("id" = String, Path, description = "the user id")),
    responses((status = 200, description = "the profile (data.md)", body = Object),
        (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn user_profile(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    state.tokens.principal(&headers)?.admin_or_self(&id)?;
    let key = id.clone();
    let rows = read(&state, move |s| s.query("profiles", Some(&key), None)).await?;
    match rows.into_iter().next() {
        Some(row) => Ok(raw_json(StatusCode::OK, row)),
        None => Err(ApiError::not_found(format!(
            "no profile of `{id}` yet: profiles are made by the periodic job (a tick)"
        ))),
    }
}

/// `?month=YYYY-MM&measure=M`.
#[derive(Deserialize, IntoParams)]
pub struct BoardQuery {
    /// The month, `YYYY-MM`.
    month: String,
    /// The board's measure (`volume`, `reps`, `distance`, `duration`, `calories`, ...).
    measure: String,
}

/// A monthly board's entries (data.md) as of the last tick.
#[utoipa::path(get, path = "/v1/leaderboards", tag = "results",
    params(BoardQuery),
    responses((status = 200, description = "the board's entries, by rank", body = [Object])),
    security(("bearer" = [])))]
pub async fn leaderboards(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<BoardQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    state.tokens.principal(&headers)?.reader()?;
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request(
            "give `?month=YYYY-MM&measure=M`, such as ?month=2026-08&measure=volume",
        )
    })?;
    let board = format!("{}/{}", q.month, q.measure);
    let rows = read(&state, |s| s.query("leaderboards", None, None)).await?;
    let needle = format!("\"board\":{}", serde_json::Value::String(board));
    let rows: Vec<String> = rows
        .into_iter()
        .filter(|r| r.starts_with(&format!("{{{needle},")))
        .collect();
    Ok(rows_array(&rows))
}

/// `{"at": TIME}`.
#[derive(Deserialize, ToSchema)]
pub struct TickBody {
    /// The job's time, RFC 3339 with an offset.
    at: String,
}

/// What `POST /v1/tick` answers.
#[derive(Serialize, ToSchema)]
pub struct TickAnswer {
    /// The job's time, as given.
    at: String,
    /// The last log position committed (the tick's).
    log_head: u64,
}

/// The periodic job as of `at`, as `pipeline tick --at`.
#[utoipa::path(post, path = "/v1/tick", tag = "ingest",
    request_body = TickBody,
    responses((status = 200, body = TickAnswer), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post_tick(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    BodyText(text): BodyText,
) -> Answer {
    state.tokens.principal(&headers)?.admin()?;
    let TickBody { at } = json_body(&headers, &text)?;
    let time = rules_front::as_of(&at, "at").map_err(|e| ApiError::bad_request(e.message))?;
    write(&state, |reply| Command::Tick { at: time, reply }).await?;
    Ok(Json(TickAnswer {
        at,
        log_head: state.shared.log_head.load(Ordering::Acquire),
    })
    .into_response())
}

/// An unknown route.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such request: see /v1/openapi.json")
}

/// A known route with another method.
pub async fn method_not_allowed() -> Response {
    let mut r =
        ApiError::bad_request("this request does not take that method: see /v1/openapi.json")
            .into_response();
    *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    r
}

/// `POST /v1/users/{id}/recommend`.
#[derive(Deserialize, ToSchema)]
pub struct RecommendBody {
    /// The template, as DSL text (one `template` declaration).
    template: String,
    /// The expert's overrides of params: `{"daily": "40", "pace": "9 km/h"}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    set: std::collections::BTreeMap<String, serde_json::Value>,
    /// Store the personal challenge and evaluate it for this user alone.
    #[serde(default)]
    assign: bool,
}

/// The personal challenge of a user: the template filled from the user's profile (as of the
/// last tick), as DSL and as a tree, with each param's value and where it came from.
#[utoipa::path(post, path = "/v1/users/{id}/recommend", tag = "users",
    params(("id" = String, Path, description = "the user id")),
    request_body = RecommendBody,
    responses((status = 200, description = "`{\"dsl\", \"challenge\", \"explain\", \"assigned\"}`", body = Object),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn recommend(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    BodyText(text): BodyText,
) -> Answer {
    use rules_core::template::{self, Recommender};
    state.tokens.principal(&headers)?.admin()?;
    let body: RecommendBody = json_body(&headers, &text)?;
    let source = Source::read(TreeInput::Dsl(&body.template), &state.catalog);
    if source.has_errors() {
        let diagnostics = source
            .diagnostics
            .iter()
            .map(|d| JsonDiagnostic::in_file(d, Some(&source.text), Some("template".to_owned())))
            .collect();
        return Err(ApiError::unprocessable(
            "the template does not check",
            diagnostics,
        ));
    }
    let Some(template) = source.decls.iter().find(|d| d.kind == DeclKind::Template) else {
        return Err(ApiError::bad_request(
            "`template` holds no template (`template \"id\" { ... }`)",
        ));
    };
    let mut overrides = std::collections::BTreeMap::new();
    for (name, value) in &body.set {
        let value = match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            other => {
                return Err(ApiError::bad_request(format!(
                    "set.{name}: {other} is not a value such as 40 or \"9 km/h\""
                )))
            }
        };
        let (name, q) = template::parse_override(&format!("{name}={value}"))
            .map_err(|e| ApiError::bad_request(format!("set: {e}")))?;
        overrides.insert(name, q);
    }
    let recommender = Recommender::new(template, &state.catalog, overrides)
        .map_err(|e| ApiError::bad_request(format!("set: {e}")))?;
    let key = id.clone();
    let (profile, user) = read(&state, move |s| {
        Ok((
            s.query("profiles", Some(&key), None)?.into_iter().next(),
            s.query("users", Some(&key), None)?.into_iter().next(),
        ))
    })
    .await?;
    let object = |text: &str| match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(ApiError::internal("a stored row is not a JSON object")),
    };
    let Some(profile) = profile else {
        return Err(ApiError::conflict(format!(
            "no profile of `{id}` yet: profiles are made by the periodic job (POST /v1/tick)"
        )));
    };
    let profile = rules_core::profile::parse_profile(&object(&profile)?)
        .map_err(|e| ApiError::internal(format!("the stored profile of `{id}`: {e}")))?;
    let user = match user {
        Some(text) => rules_core::records::parse_user(&object(&text)?)
            .map_err(|e| ApiError::internal(format!("the stored record of `{id}`: {e}")))?,
        None => rules_core::records::User::unknown(&id),
    };
    if !recommender.is_eligible(&user) {
        return Err(ApiError::conflict(format!(
            "`{id}` is not in the groups of template `{}`",
            template.id.as_str()
        )));
    }
    let rec = recommender
        .recommend(&profile)
        .map_err(|e| ApiError::conflict(e.to_string()))?;
    let explained = rules_front::recommend::explain(&rec.bindings, template);
    let answer = serde_json::json!({
        "dsl": rules_dsl::print(&rec.challenge),
        "challenge": &rec.challenge,
        "explain": explained,
        "assigned": body.assign,
    });
    if body.assign {
        if !rec.challenge.teams.is_empty() {
            return Err(ApiError::bad_request(
                "a team challenge is evaluated for its teams: it cannot be assigned to one user",
            ));
        }
        let decl = Box::new(rec.challenge);
        write(&state, |reply| Command::PutChallenge {
            decl,
            owner: Some(id),
            reply,
        })
        .await?;
    }
    Ok(Json(answer).into_response())
}
