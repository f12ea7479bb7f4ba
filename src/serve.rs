//! The HTTP face over `query`, for programs that cannot link the crate (a web
//! app, a notebook, a bot): `GET /search`, `/history`, `/stats` and `/health`, answered in
//! the CLI's JSON contract, with every error as `{"error": "..."}`.
//!
//! The index is opened lazily, so the server may start before `claimsearch
//! index` has run (503 until it has), and once open it follows new commits by
//! itself. Searches are CPU-bound: they run on the blocking pool, at most a few
//! at a time, so the async workers stay free to accept and answer.

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{RawQuery, Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, CONTENT_TYPE, TRANSFER_ENCODING,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::Semaphore;
use tower_http::timeout::TimeoutLayer;

mod stalled;
mod unparsable;

use crate::browse::PageView;
use crate::error::Error;
use crate::history::History;
use crate::index::Index;
use crate::model::{Date, Kind};
use crate::query::{Front, SearchRequest, SearchResponse, Similar};
use crate::stats::Stats;
use crate::storage;
use crate::web;

/// A request that takes longer is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client has to send a request head before its connection is
/// closed (a client that stalls mid-request holds nothing longer).
pub use stalled::HEAD_TIMEOUT;
/// After the shutdown signal, how long requests in flight may take before
/// the connections still open are dropped.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);
/// The longest raw query string accepted (a `q` of the longest allowed text,
/// percent-encoded, fits).
const MAX_QUERY_STRING_BYTES: usize = 32 * 1024;
/// Every endpoint is a GET: a body is never read, and a large one is refused.
const MAX_BODY_BYTES: u64 = 1024;
/// Parameters that may be repeated (their values combine with OR).
const LIST_PARAMETERS: [&str; 4] = ["source", "topic", "kind", "author"];
const PARAMETERS: &str =
    "q, source, topic, kind, author, thread, since, until, limit, offset, date_bucket, all_versions, verified, collapse, exact_facets";

/// How a server searches, beyond the index it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Facets are counted exactly over each segment's first this many
    /// matches, and estimated past them
    /// ([`Index::count_facets_exactly_up_to`]; `u64::MAX`: never estimated).
    pub facets_exact_up_to: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            facets_exact_up_to: crate::query::FACETS_EXACT_UP_TO,
        }
    }
}

/// The routes, middleware and shared state, to mount in another axum app or to
/// serve with [`serve`].
pub fn router(index_dir: impl Into<PathBuf>) -> Router {
    router_with(index_dir, Options::default())
}

/// [`router`], searching as `options` say.
pub fn router_with(index_dir: impl Into<PathBuf>, options: Options) -> Router {
    let shared = Arc::new(Shared::new(index_dir.into(), options));
    let mut routes = Router::new();
    for path in web::PATHS {
        routes = routes.route(path, get(page));
    }
    routes
        .route("/search", get(search))
        .route("/records", get(records))
        .route("/history", get(history))
        .route("/stats", get(stats))
        .route("/similar", get(similar))
        .route("/health", get(health))
        .fallback(not_found)
        .with_state(shared)
        .layer(middleware::from_fn(refuse_bodies))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(log_request))
}

/// Serves searches over HTTP on `listener` until `shutdown` resolves, then
/// lets the requests in flight finish, for at most [`SHUTDOWN_GRACE`]. A
/// connection that does not send a request head within [`HEAD_TIMEOUT`] is
/// closed. Each request is logged through
/// `tracing` (method, path, status, latency): the program that calls this
/// installs the subscriber and the runtime.
pub async fn serve(
    listener: tokio::net::TcpListener,
    index_dir: impl Into<PathBuf>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, index_dir, Options::default(), shutdown).await
}

/// [`serve`], searching as `options` say.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    index_dir: impl Into<PathBuf>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let index_dir = index_dir.into();
    tracing::info!(index = %index_dir.display(), "serving");
    let (signalled, signal) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = signalled.send(());
    };
    let listener = stalled::HeadDeadlines(unparsable::JsonListener(listener));
    let served =
        axum::serve(listener, router_with(index_dir, options)).with_graceful_shutdown(shutdown);
    // Graceful, but bounded: a connection that neither finishes a request
    // nor closes does not hold the process.
    let grace = async {
        match signal.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = served => served?,
        () = grace => tracing::warn!(
            "connections still open {} s after the signal: closing them",
            SHUTDOWN_GRACE.as_secs()
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// What every request shares: the index, once it exists, and the slots that
/// bound how many searches run at once.
struct Shared {
    dir: PathBuf,
    options: Options,
    index: OnceLock<Index>,
    slots: Arc<Semaphore>,
}

impl Shared {
    fn new(dir: PathBuf, options: Options) -> Shared {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Shared {
            dir,
            options,
            index: OnceLock::new(),
            slots: Arc::new(Semaphore::new(cores * 2)),
        }
    }

    /// The open index, opening it on first use; [`Error::IndexMissing`] until
    /// `meta.json` appears. Blocking: call on the blocking pool.
    fn index(&self) -> Result<&Index, Error> {
        if let Some(index) = self.index.get() {
            return Ok(index);
        }
        // Two requests may race to open it; the loser's handle is dropped.
        let opened = Index::open(&self.dir)?;
        opened.count_facets_exactly_up_to(self.options.facets_exact_up_to);
        Ok(self.index.get_or_init(|| opened))
    }

    fn has_index(&self) -> bool {
        self.index.get().is_some() || storage::exists(&self.dir)
    }

    /// Runs `work` on the open index on the blocking pool, once a slot is free.
    async fn with_index<T, F>(self: &Arc<Self>, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Index) -> crate::Result<T> + Send + 'static,
    {
        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal("the server is shutting down"))?;
        let shared = Arc::clone(self);
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(shared.index()?)
        })
        .await;
        match joined {
            Ok(result) => result.map_err(ApiError::from),
            Err(e) => Err(ApiError::internal(format!("the search failed: {e}"))),
        }
    }
}

async fn search(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResponse>, ApiError> {
    let request = search_request(raw.as_deref().unwrap_or(""))?;
    let response = shared
        .with_index(move |index| index.search(&request))
        .await?;
    Ok(Json(response))
}

/// `GET /records?path=P[&item=N]`: every record of one page (all versions),
/// or of item N of a JSON Lines page; the threads they belong to; and, for a
/// thread history page, the thread's saved versions. The item view's data.
async fn records(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageView>, ApiError> {
    let (path, item) = records_request(raw.as_deref().unwrap_or(""))?;
    let at = match item {
        Some(item) => format!("{path}, item {item}"),
        None => path.clone(),
    };
    let view = shared
        .with_index(move |index| index.page(&path, item))
        .await?;
    match view {
        Some(view) => Ok(Json(view)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("nothing is indexed at {at}"),
        )),
    }
}

/// `GET /history?thread=TITLE-OR-SLUG`: the thread's versions and what changed
/// between them; 404 when the index holds no such thread.
async fn history(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<History>, ApiError> {
    let thread = thread_parameter(raw.as_deref().unwrap_or(""))?;
    let asked = thread.clone();
    let found = shared
        .with_index(move |index| index.history(&asked))
        .await?;
    match found {
        Some(history) => Ok(Json(history)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no thread titled or slugged '{thread}'"),
        )),
    }
}

/// The `path` (required) and `item` (a JSON Lines line number) of `/records`.
fn records_request(raw: &str) -> Result<(String, Option<u64>), ApiError> {
    let (mut path, mut item) = (None, None);
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        let slot = match name.as_ref() {
            "path" => &mut path,
            "item" => &mut item,
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (known: path, item)"
                )))
            }
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(ApiError::bad_request(format!(
                "parameter '{name}' is given more than once"
            )));
        }
    }
    let path = path
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("parameter 'path' is required"))?;
    let item = match item {
        Some(item) => Some(item.trim().parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("item must be a line number, not '{item}'"))
        })?),
        None => None,
    };
    Ok((path, item))
}

/// The search page's files (see [`web`]).
async fn page(uri: axum::http::Uri) -> Response {
    let Some(asset) = web::asset(uri.path()) else {
        return not_found().await.into_response();
    };
    let headers = [
        (CONTENT_TYPE, asset.content_type),
        (CACHE_CONTROL, "no-cache"),
        (CONTENT_SECURITY_POLICY, web::CONTENT_SECURITY_POLICY),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    (headers, asset.body).into_response()
}

/// The one `thread` parameter of `/history`, or a 400 saying what is wrong.
fn thread_parameter(raw: &str) -> Result<String, ApiError> {
    if raw.len() > MAX_QUERY_STRING_BYTES {
        return Err(ApiError::bad_request(format!(
            "the query string is longer than {MAX_QUERY_STRING_BYTES} bytes"
        )));
    }
    let mut thread = None;
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        match name.as_ref() {
            "thread" if thread.is_some() => {
                return Err(ApiError::bad_request(
                    "parameter 'thread' is given more than once",
                ))
            }
            "thread" if value.trim().is_empty() => {
                return Err(ApiError::bad_request("parameter 'thread' has no value"))
            }
            "thread" => thread = Some(value.trim().to_string()),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (known: thread)"
                )))
            }
        }
    }
    thread.ok_or_else(|| ApiError::bad_request("parameter 'thread' is required"))
}

/// `GET /similar?id=RECORD_ID`: the `similar --json` object.
async fn similar(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Similar>, ApiError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY_STRING_BYTES {
        return Err(ApiError::bad_request(format!(
            "the query string is longer than {MAX_QUERY_STRING_BYTES} bytes"
        )));
    }
    let mut id = None;
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        match name.as_ref() {
            "id" if id.is_none() => id = Some(value.into_owned()),
            "id" => {
                return Err(ApiError::bad_request(
                    "parameter 'id' is given more than once",
                ))
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter '{other}' (known: id)"
                )))
            }
        }
    }
    let id = id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("parameter 'id' is required (a record id)"))?;
    Ok(Json(
        shared.with_index(move |index| index.similar(&id)).await?,
    ))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Result<Json<Stats>, ApiError> {
    Ok(Json(shared.with_index(Index::stats).await?))
}

/// 200 whenever the process is up, so a supervisor can tell "alive, no index
/// yet" from "down".
async fn health(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "index": shared.has_index() }))
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not found: the endpoints are GET /search, /history, /records, /similar, /stats and /health, and the page at /",
    )
}

/// Turns the query string into a validated request, or a 400 saying why not.
fn search_request(raw: &str) -> Result<SearchRequest, ApiError> {
    if raw.len() > MAX_QUERY_STRING_BYTES {
        return Err(ApiError::bad_request(format!(
            "the query string is longer than {MAX_QUERY_STRING_BYTES} bytes"
        )));
    }
    let mut request = SearchRequest::default();
    let mut seen = HashSet::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        apply_parameter(&mut request, &name, &value).map_err(ApiError::bad_request)?;
        if !LIST_PARAMETERS.contains(&name.as_ref()) && !seen.insert(name.clone()) {
            return Err(ApiError::bad_request(format!(
                "parameter '{name}' is given more than once"
            )));
        }
    }
    if !seen.contains("q") {
        return Err(ApiError::bad_request(
            "parameter 'q' is required (use q=* to match everything)",
        ));
    }
    request.validate_for(Front::Http)?;
    Ok(request)
}

/// Sets one parameter on `request`; the error says what is wrong with it.
fn not_a_date(value: &str) -> String {
    format!("'{value}' is not a date (YYYY-MM-DD, YYYY-MM or YYYY)")
}

fn apply_parameter(request: &mut SearchRequest, name: &str, value: &str) -> Result<(), String> {
    if name != "q" && value.trim().is_empty() {
        return Err(format!("parameter '{name}' has no value"));
    }
    let text = || value.trim().to_string();
    let invalid = |e: String| format!("{name}: {e}");
    match name {
        "q" => request.query = value.to_string(),
        "source" => request.sources.push(text()),
        "topic" => request.topics.push(text()),
        "kind" => request.kinds.push(value.parse::<Kind>().map_err(invalid)?),
        "author" => request.authors.push(text()),
        "thread" => request.thread = Some(text()),
        "since" => {
            request.since = Some(Date::first_of(value).ok_or_else(|| invalid(not_a_date(value)))?)
        }
        "until" => {
            request.until = Some(Date::last_of(value).ok_or_else(|| invalid(not_a_date(value)))?)
        }
        "limit" => request.limit = whole_number(name, value)?,
        "offset" => request.offset = whole_number(name, value)?,
        "date_bucket" => request.date_bucket = value.parse().map_err(invalid)?,
        "all_versions" => request.all_versions = boolean(name, value)?,
        "verified" => request.verified = boolean(name, value)?,
        "collapse" => request.collapse = boolean(name, value)?,
        "exact_facets" => request.exact_facets = boolean(name, value)?,
        other => return Err(format!("unknown parameter '{other}' (known: {PARAMETERS})")),
    }
    Ok(())
}

fn whole_number(name: &str, value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{name} must be a whole number, not '{value}'"))
}

fn boolean(name: &str, value: &str) -> Result<bool, String> {
    match value.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("{name} must be true, false, 1 or 0, not '{other}'")),
    }
}

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        let status = match &error {
            e if e.is_user_error() => StatusCode::BAD_REQUEST,
            Error::IndexMissing(_) | Error::IndexBusy(_) | Error::IndexVersion(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(%error, "request failed");
        }
        ApiError::new(status, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// One log line per request: method, path, status and latency.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    tracing::info!(%method, %path, status = response.status().as_u16(), latency_ms, "request");
    response
}

/// Gives the error answers made outside the handlers (405 from routing, 503
/// from the timeout) the same `{"error": ...}` body, keeping their headers.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed: every endpoint is GET".to_string(),
        StatusCode::SERVICE_UNAVAILABLE => format!(
            "the request took longer than {} s",
            REQUEST_TIMEOUT.as_secs()
        ),
        other => other.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = json!({ "error": message }).to_string();
    Response::from_parts(parts, Body::from(body))
}

/// Refuses request bodies over [`MAX_BODY_BYTES`] (and streamed ones) before
/// anything reads them.
async fn refuse_bodies(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) || headers.contains_key(TRANSFER_ENCODING) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request bodies are not accepted (at most {MAX_BODY_BYTES} bytes)"),
        )
        .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<SearchRequest, String> {
        search_request(raw).map_err(|e| format!("{} {}", e.status.as_u16(), e.message))
    }

    #[test]
    fn every_parameter_lands_in_the_request() {
        let r = parse(
            "q=uniform+convergence&source=arXiv&source=LessWrong&topic=a&topic=b&kind=claim&kind=quote\
             &author=Ada&author=Bubeck&thread=T&since=2019-01-01&until=2020-12-31&limit=5&offset=10\
             &date_bucket=month&all_versions=1",
        )
        .unwrap();
        assert_eq!(r.query, "uniform convergence");
        assert_eq!(r.sources, ["arXiv", "LessWrong"]);
        assert_eq!(r.topics, ["a", "b"]);
        assert_eq!(r.kinds, [Kind::Claim, Kind::Quote]);
        assert_eq!(r.authors, ["Ada", "Bubeck"]);
        assert_eq!(r.thread.as_deref(), Some("T"));
        assert_eq!(r.since.unwrap().to_string(), "2019-01-01");
        assert_eq!(r.until.unwrap().to_string(), "2020-12-31");
        assert_eq!((r.limit, r.offset), (5, 10));
        assert_eq!(r.date_bucket, crate::query::DateBucket::Month);
        assert!(r.all_versions);
        assert_eq!(parse("q=x").unwrap().limit, crate::query::DEFAULT_LIMIT);
    }

    #[test]
    fn bad_parameters_are_400_saying_which() {
        for (raw, says) in [
            ("", "'q' is required"),
            ("q=x&limit=0", "limit must be between 1 and 100"),
            ("q=x&limit=101", "limit must be between 1 and 100"),
            ("q=x&limit=ten", "whole number"),
            ("q=x&since=2020-13-01", "since:"),
            ("q=x&kind=claims", "unknown kind"),
            ("q=x&date_bucket=week", "unknown date bucket"),
            ("q=x&all_versions=yes", "all_versions must be"),
            ("q=x&colour=red", "unknown parameter 'colour'"),
            ("q=x&q=y", "more than once"),
            ("q=x&author=", "has no value"),
            ("q=", "empty"),
            (
                "q=x&since=2021-01-01&until=2020-01-01",
                "since 2021-01-01 is after until 2020-01-01",
            ),
        ] {
            let err = parse(raw).unwrap_err();
            assert!(
                err.starts_with("400 ") && err.contains(says),
                "{raw}: {err}"
            );
        }
    }
}
