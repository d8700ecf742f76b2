//! The HTTP defaults every listener gets from one call: request context and access
//! log, metrics, the error envelope for everything (including actix's own errors),
//! 405 with `Allow` for a known path's other methods, CORS, security headers, body
//! limits, the client address behind trusted proxies, health, metrics and
//! OpenAPI routes, and graceful shutdown (readiness turns 503 first, then
//! in-flight requests finish).

use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_cors::Cors;
use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer, ResponseError};
use serde_json::json;
use tracing::Instrument;

use crate::config::CommonSettings;
use crate::context::{self, RequestContext, TraceParent};
use crate::error::{self, ApiError};
use crate::health::HealthState;
use crate::metrics::{self, MetricsState};
use crate::net::TrustedProxies;
use crate::openapi::MethodTable;

/// A service's routes, as the server's app factory takes them.
pub type Configure = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// What every listener of a service is served with.
#[derive(Clone)]
pub struct ServerOptions {
    pub allowed_origins: Vec<String>,
    pub behind_tls: bool,
    pub json_limit_bytes: usize,
    pub workers: Option<usize>,
    pub shutdown_timeout: Duration,
    pub keep_alive: Duration,
    pub trusted_proxies: TrustedProxies,
}

impl ServerOptions {
    pub fn from_settings(settings: &CommonSettings) -> anyhow::Result<Self> {
        Ok(Self {
            allowed_origins: settings.allowed_origins(),
            behind_tls: settings.behind_tls,
            json_limit_bytes: settings.json_limit_bytes,
            workers: settings.workers,
            shutdown_timeout: Duration::from_secs(settings.shutdown_timeout_secs),
            keep_alive: Duration::from_secs(settings.keep_alive_secs.max(1)),
            trusted_proxies: settings.trusted_proxies()?,
        })
    }
}

/// One listener: its socket, its routes, and the table of the methods they
/// answer (for 405 with `Allow`).
pub struct Listener {
    pub tcp: TcpListener,
    pub routes: Configure,
    pub methods: MethodTable,
    /// Served at `GET /openapi.json` when set.
    pub openapi: Option<Arc<str>>,
    /// Worker threads; `None`: [`ServerOptions::workers`].
    pub workers: Option<usize>,
}

/// Builds the server of one listener with the common defaults around its
/// routes. Signals are handled by [`run_until_stopped`], not by actix.
pub fn serve(
    listener: Listener,
    options: &ServerOptions,
    health: HealthState,
) -> std::io::Result<Server> {
    let health = web::Data::new(health);
    let metrics_state = web::Data::new(MetricsState {
        db: health.db.clone(),
    });
    metrics::handle();
    let proxies = web::Data::new(options.trusted_proxies.clone());
    let methods = Arc::new(listener.methods);
    let openapi = listener.openapi;
    let routes = listener.routes;
    let options_for_app = options.clone();
    let mut server = HttpServer::new(move || {
        let options = &options_for_app;
        let json_limit = options.json_limit_bytes;
        let methods = methods.clone();
        let mut app = App::new()
            .wrap(cors(&options.allowed_origins))
            .wrap(security_headers(options.behind_tls))
            .wrap(actix_web::middleware::from_fn(request_middleware))
            .app_data(
                web::JsonConfig::default()
                    .limit(json_limit)
                    .error_handler(error::json_error_handler),
            )
            .app_data(web::QueryConfig::default().error_handler(error::query_error_handler))
            .app_data(web::PathConfig::default().error_handler(error::path_error_handler))
            .app_data(web::PayloadConfig::new(json_limit))
            .app_data(health.clone())
            .app_data(metrics_state.clone())
            .app_data(proxies.clone())
            .configure(crate::health::configure)
            .configure(metrics::configure);
        if let Some(document) = openapi.clone() {
            app = app.route(
                "/openapi.json",
                web::get().to(move || {
                    let document = document.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(document.to_string())
                    }
                }),
            );
        }
        let routes = routes.clone();
        app.configure(move |cfg| routes(cfg))
            .default_service(web::to(move |req: HttpRequest| {
                let methods = methods.clone();
                async move { unrouted(&req, &methods) }
            }))
    })
    .listen(listener.tcp)?
    .disable_signals()
    .keep_alive(options.keep_alive)
    .shutdown_timeout(options.shutdown_timeout.as_secs());
    if let Some(workers) = listener.workers.or(options.workers) {
        server = server.workers(workers.max(1));
    }
    Ok(server.run())
}

/// No route took the request: 405 with `Allow` when the path is known with
/// other methods only, else 404.
fn unrouted(req: &HttpRequest, methods: &MethodTable) -> HttpResponse {
    let allowed = methods.allowed(req.path());
    // No such path, or one whose method the router turned down for a value it
    // does not take (a malformed id): either way there is nothing here.
    if allowed.is_empty() || allowed.contains(req.method()) {
        return ApiError::NotFound("No such route".to_owned()).error_response();
    }
    let allow = allowed
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = ApiError::coded(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{} is not allowed here; use {allow}", req.method()),
    )
    .with_details(json!({ "allow": allowed.iter().map(Method::as_str).collect::<Vec<_>>() }))
    .error_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_NONE_MATCH,
            header::IF_MATCH,
            header::IF_RANGE,
            header::RANGE,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("last-event-id"),
            // tus 1.0.0 (resumable uploads).
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("upload-metadata"),
            HeaderName::from_static("upload-offset"),
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("cache-status"),
            HeaderName::from_static("idempotent-replayed"),
            header::RETRY_AFTER,
            header::ETAG,
            header::LOCATION,
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            HeaderName::from_static("tus-resumable"),
            HeaderName::from_static("tus-version"),
            HeaderName::from_static("tus-extension"),
            HeaderName::from_static("tus-max-size"),
            HeaderName::from_static("upload-offset"),
            HeaderName::from_static("upload-length"),
            HeaderName::from_static("upload-expires"),
            HeaderName::from_static("video-id"),
        ])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

fn security_headers(behind_tls: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"));
    if behind_tls {
        headers.add((
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}

/// Request id, trace context, span, access log, metrics, and the envelope for any
/// error response that is not JSON yet (actix's own 404/405/400 texts, CORS refusals).
async fn request_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(context::sanitize_request_id)
        .unwrap_or_else(context::new_request_id);
    let incoming = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse);
    let trace = incoming
        .as_ref()
        .map(TraceParent::child)
        .unwrap_or_else(TraceParent::new_root);
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "http.request",
        http.method = %method,
        http.path = %req.path(),
        http.route = tracing::field::Empty,
        http.status = tracing::field::Empty,
        request_id = %request_id,
        trace_id = %trace.trace_id_hex(),
    );
    if crate::telemetry::otel_enabled() {
        link_remote_parent(&span, req.headers());
    }
    let ctx = RequestContext {
        request_id: request_id.clone(),
        trace: trace.clone(),
    };
    context::scope(ctx, async move {
        // The request cannot be kept aside (routing needs sole ownership), so an
        // error from an inner middleware goes up as it is; actix renders it with
        // its `ResponseError`, which for ours is the envelope.
        let response = match next.call(req).instrument(span.clone()).await {
            Ok(res) => res.map_into_boxed_body(),
            Err(err) => {
                tracing::warn!(parent: &span, error = %err, "request failed in middleware");
                return Err(err);
            }
        };
        let mut response = ensure_envelope(response).await;
        let status = response.status();
        let route = response
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let headers = response.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert(HeaderName::from_static("x-request-id"), v);
        }
        if let Ok(v) = HeaderValue::from_str(&trace.header_value()) {
            headers.insert(HeaderName::from_static("traceparent"), v);
        }
        let elapsed = started.elapsed();
        metrics::record_request(&method, &route, status.as_u16(), elapsed);
        span.record("http.route", route.as_str());
        span.record("http.status", status.as_u16());
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::warn!(parent: &span, http.status = status.as_u16(), duration_ms, "request failed");
        } else {
            tracing::info!(parent: &span, http.status = status.as_u16(), duration_ms, "request completed");
        }
        Ok(response)
    })
    .await
}

fn link_remote_parent(span: &tracing::Span, headers: &actix_web::http::header::HeaderMap) {
    use opentelemetry::propagation::Extractor;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    struct HeaderExtractor<'a>(&'a actix_web::http::header::HeaderMap);
    impl Extractor for HeaderExtractor<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|v| v.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(HeaderName::as_str).collect()
        }
    }
    let parent =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    span.set_parent(parent);
}

/// Rewrites an error response whose body is not JSON into the envelope.
async fn ensure_envelope(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (request, old) = response.into_parts();
    let original_headers = old.headers().clone();
    let text = to_bytes(old.into_body())
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .unwrap_or_default();
    let message = if status.is_server_error() || text.is_empty() || text.len() > 200 {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    let mut new = HttpResponse::build(status).json(error::envelope(
        error::code_for_status(status),
        &message,
        json!({}),
    ));
    for (name, value) in original_headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            new.headers_mut().append(name.clone(), value.clone());
        }
    }
    if status == StatusCode::UNAUTHORIZED && !new.headers().contains_key(header::WWW_AUTHENTICATE) {
        new.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    ServiceResponse::new(request, new)
}

/// Serves until SIGTERM or Ctrl-C, then: readiness 503, wait `delay` so load
/// balancers stop sending, stop accepting and let in-flight requests finish.
pub async fn run_until_stopped(
    servers: Vec<Server>,
    health: &HealthState,
    delay: Duration,
) -> std::io::Result<()> {
    let handles: Vec<ServerHandle> = servers.iter().map(Server::handle).collect();
    let flag = health.shutting_down.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received; readiness now reports 503");
        flag.store(true, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        futures_util::future::join_all(handles.iter().map(|h| h.stop(true))).await;
    });
    let results = futures_util::future::join_all(servers).await;
    results.into_iter().collect()
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
