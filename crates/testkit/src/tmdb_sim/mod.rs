//! tmdb-sim: a fake of TMDB's v3 API that speaks its wire format, over a
//! deterministic synthetic catalog. Used by the tests (in process, on port 0) and
//! by `make run` (the `tmdb-sim` binary on port 8090) when no TMDB credentials are
//! configured.
//!
//! Besides `/3/...` it serves placeholder images at `/t/p/{size}/{file}` (TMDB's
//! image CDN path) and has control endpoints for tests and benchmarks:
//! `GET /__sim/requests` (counts per path), `POST /__sim/reset`,
//! `POST /__sim/latency {"ms"}`, `POST /__sim/failure {"mode", "times", "retryAfter"}`
//! with mode `error` (500), `timeout` (no answer for a minute), `rate_limit` (429 with
//! `Retry-After`) or `unauthorized` (401), and `DELETE /__sim/failure`.

pub mod catalog;
mod routes;

use std::collections::{BTreeMap, HashMap};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};
use serde_json::json;

use catalog::Catalog;

pub const DEFAULT_API_KEY: &str = "tmdb-sim-key";
pub const DEFAULT_READ_TOKEN: &str = "tmdb-sim-read-token";

/// How an injected failure answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// 500 with TMDB's error body.
    Error,
    /// Holds the request for a minute before answering.
    Timeout,
    /// 429 with `Retry-After`.
    RateLimit,
    /// 401, as for a revoked key.
    Unauthorized,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub mode: FailureMode,
    /// How many requests fail; `None`: every request until cleared.
    #[serde(default)]
    pub times: Option<u32>,
    /// Seconds in the `Retry-After` of a 429.
    #[serde(default = "default_retry_after")]
    pub retry_after: u64,
}

fn default_retry_after() -> u64 {
    1
}

#[derive(Debug, Default)]
struct Faults {
    latency: Duration,
    failure: Option<Failure>,
}

/// Shared by the handlers and by the in-process handle.
pub struct SimState {
    catalog: Catalog,
    api_key: String,
    read_token: String,
    total: AtomicU64,
    counts: Mutex<HashMap<String, u64>>,
    faults: Mutex<Faults>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SimState {
    pub fn new(api_key: &str, read_token: &str) -> Self {
        Self {
            catalog: Catalog::new(),
            api_key: api_key.to_owned(),
            read_token: read_token.to_owned(),
            total: AtomicU64::new(0),
            counts: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
        }
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn record(&self, path: &str) {
        self.total.fetch_add(1, Ordering::SeqCst);
        *lock(&self.counts).entry(path.to_owned()).or_default() += 1;
    }

    /// Requests received under `/3` for `path` (without the query string).
    pub fn requests(&self, path: &str) -> u64 {
        lock(&self.counts).get(path).copied().unwrap_or(0)
    }

    pub fn total_requests(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    pub fn set_latency(&self, latency: Duration) {
        lock(&self.faults).latency = latency;
    }

    pub fn set_failure(&self, failure: Option<Failure>) {
        lock(&self.faults).failure = failure;
    }

    /// Counts and faults back to a fresh start.
    pub fn reset(&self) {
        self.total.store(0, Ordering::SeqCst);
        lock(&self.counts).clear();
        *lock(&self.faults) = Faults::default();
    }

    /// The latency to apply and the failure this request gets, if any.
    fn take_fault(&self) -> (Duration, Option<Failure>) {
        let mut faults = lock(&self.faults);
        let latency = faults.latency;
        let failure = match faults.failure.as_mut() {
            None => None,
            Some(f) => match f.times {
                None => Some(f.clone()),
                Some(0) => None,
                Some(n) => {
                    f.times = Some(n - 1);
                    Some(f.clone())
                }
            },
        };
        if faults.failure.as_ref().is_some_and(|f| f.times == Some(0)) {
            faults.failure = None;
        }
        (latency, failure)
    }

    fn authorized(&self, api_key: Option<&str>, bearer: Option<&str>) -> bool {
        api_key == Some(self.api_key.as_str()) || bearer == Some(self.read_token.as_str())
    }
}

/// The sim's routes, for an `App` of its own or of a test.
pub fn configure(state: Arc<SimState>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |cfg| {
        cfg.app_data(web::Data::from(state.clone()))
            .route("/3/{tail:.*}", web::get().to(routes::api))
            .route("/t/p/{size}/{file}", web::get().to(placeholder_image))
            .route("/__sim/requests", web::get().to(control_requests))
            .route("/__sim/reset", web::post().to(control_reset))
            .route("/__sim/latency", web::post().to(control_latency))
            .route("/__sim/failure", web::post().to(control_failure))
            .route("/__sim/failure", web::delete().to(control_heal))
            .route(
                "/health",
                web::get().to(|| async { HttpResponse::Ok().json(json!({"status": "ok"})) }),
            );
    }
}

/// A placeholder for TMDB's image CDN, so that `make run` shows posters: an SVG in
/// a colour derived from the file name, at the width the size names.
async fn placeholder_image(path: web::Path<(String, String)>) -> HttpResponse {
    let (size, file) = path.into_inner();
    let width: u32 = size
        .trim_start_matches(['w', 'h'])
        .parse()
        .unwrap_or(500)
        .clamp(45, 1280);
    let height = width * 3 / 2;
    let hue = file
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360;
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="hsl({hue},45%,35%)"/><text x="50%" y="50%" fill="#fff" font-family="sans-serif" font-size="{}" text-anchor="middle">tmdb-sim</text></svg>"##,
        width / 8
    );
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(svg)
}

async fn control_requests(state: web::Data<SimState>) -> HttpResponse {
    let paths: BTreeMap<String, u64> = lock(&state.counts)
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    HttpResponse::Ok().json(json!({ "total": state.total_requests(), "paths": paths }))
}

async fn control_reset(state: web::Data<SimState>) -> HttpResponse {
    state.reset();
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct LatencyBody {
    ms: u64,
}

async fn control_latency(state: web::Data<SimState>, body: web::Json<LatencyBody>) -> HttpResponse {
    state.set_latency(Duration::from_millis(body.ms));
    HttpResponse::NoContent().finish()
}

async fn control_failure(state: web::Data<SimState>, body: web::Json<Failure>) -> HttpResponse {
    state.set_failure(Some(body.into_inner()));
    HttpResponse::NoContent().finish()
}

async fn control_heal(state: web::Data<SimState>) -> HttpResponse {
    state.set_failure(None);
    HttpResponse::NoContent().finish()
}

/// A running sim, in this process.
pub struct TmdbSim {
    /// `http://127.0.0.1:<port>`, where the control endpoints are.
    pub url: String,
    /// `{url}/3`, what a TMDB client is pointed at.
    pub api_base: String,
    pub api_key: String,
    pub read_token: String,
    state: Arc<SimState>,
    handle: ServerHandle,
}

impl TmdbSim {
    /// Starts a sim on a free loopback port with the default credentials.
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0", DEFAULT_API_KEY, DEFAULT_READ_TOKEN, 1)
    }

    pub fn start_on(
        addr: &str,
        api_key: &str,
        read_token: &str,
        workers: usize,
    ) -> anyhow::Result<Self> {
        let state = Arc::new(SimState::new(api_key, read_token));
        let listener = TcpListener::bind(addr)?;
        let port = listener.local_addr()?.port();
        let routes = configure(state.clone());
        let server = HttpServer::new(move || App::new().configure(routes.clone()))
            .workers(workers.max(1))
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)?
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        let url = format!("http://127.0.0.1:{port}");
        Ok(Self {
            api_base: format!("{url}/3"),
            url,
            api_key: api_key.to_owned(),
            read_token: read_token.to_owned(),
            state,
            handle,
        })
    }

    pub fn state(&self) -> &SimState {
        &self.state
    }

    pub fn requests(&self, path: &str) -> u64 {
        self.state.requests(path)
    }

    pub fn total_requests(&self) -> u64 {
        self.state.total_requests()
    }

    pub fn set_latency(&self, latency: Duration) {
        self.state.set_latency(latency);
    }

    /// Fails the next `times` requests (every request when `None`).
    pub fn fail(&self, mode: FailureMode, times: Option<u32>) {
        self.state.set_failure(Some(Failure {
            mode,
            times,
            retry_after: 1,
        }));
    }

    /// Answers 429 with `Retry-After: retry_after` to the next `times` requests.
    pub fn rate_limit(&self, retry_after: u64, times: Option<u32>) {
        self.state.set_failure(Some(Failure {
            mode: FailureMode::RateLimit,
            times,
            retry_after,
        }));
    }

    pub fn heal(&self) {
        self.state.set_failure(None);
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
