//! The catalog: a TMDB call, its TTL class and the shape of its answer, fetched
//! through the cache and served with `ETag`, `Cache-Control` and `Cache-Status`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use bytes::Bytes;
use common::error::RateLimitInfo;
use common::net::ClientIp;
use common::ratelimit::{Limit, RateLimiter};
use common::ApiError;
use serde::Serialize;
use serde_json::{json, Value};

use crate::cache::{now_ms, CacheStatus, CatalogCache, Lookup, Outcome};
use crate::config::CatalogSettings;
use crate::domain::params::DEFAULT_POSTER_SIZE;
use crate::domain::MediaType;
use crate::tmdb::normalize::{self, Images};
use crate::tmdb::{TmdbClient, UpstreamError};

/// The TTL policy's classes (each one a setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlClass {
    /// trending
    Trending,
    /// now playing, upcoming, on the air, airing today
    Current,
    /// popular, top rated, discover
    Lists,
    Search,
    /// details, credits, videos, recommendations, similar, seasons
    Details,
    /// genres, configuration
    Reference,
}

#[derive(Debug, Clone)]
pub struct TtlPolicy {
    pub trending: Duration,
    pub current: Duration,
    pub lists: Duration,
    pub search: Duration,
    pub details: Duration,
    pub reference: Duration,
}

impl TtlPolicy {
    pub fn from_settings(s: &CatalogSettings) -> Self {
        Self {
            trending: Duration::from_secs(s.catalog_ttl_trending_secs),
            current: Duration::from_secs(s.catalog_ttl_current_secs),
            lists: Duration::from_secs(s.catalog_ttl_lists_secs),
            search: Duration::from_secs(s.catalog_ttl_search_secs),
            details: Duration::from_secs(s.catalog_ttl_details_secs),
            reference: Duration::from_secs(s.catalog_ttl_reference_secs),
        }
    }

    pub fn ttl(&self, class: TtlClass) -> Duration {
        match class {
            TtlClass::Trending => self.trending,
            TtlClass::Current => self.current,
            TtlClass::Lists => self.lists,
            TtlClass::Search => self.search,
            TtlClass::Details => self.details,
            TtlClass::Reference => self.reference,
        }
    }
}

/// What the TMDB answer is turned into.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// A page of items; the media type when TMDB's items do not carry one.
    List(Option<MediaType>),
    Details(MediaType),
    Videos,
    Credits,
    Season,
    Genres,
    Config,
}

/// One catalog request, normalized: the cache key is derived from it.
#[derive(Debug, Clone)]
pub struct CatalogQuery {
    path: String,
    params: Vec<(&'static str, String)>,
    class: TtlClass,
    shape: Shape,
    image_size: &'static str,
    /// What a 404 from TMDB is called ("Movie", "Season"...).
    subject: &'static str,
}

impl CatalogQuery {
    pub fn new(path: impl Into<String>, class: TtlClass, shape: Shape) -> Self {
        Self {
            path: path.into(),
            params: Vec::new(),
            class,
            shape,
            image_size: DEFAULT_POSTER_SIZE,
            subject: "Resource",
        }
    }

    pub fn param(mut self, name: &'static str, value: impl ToString) -> Self {
        self.params.push((name, value.to_string()));
        self
    }

    pub fn param_opt(self, name: &'static str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    pub fn image_size(mut self, size: &'static str) -> Self {
        self.image_size = size;
        self
    }

    pub fn subject(mut self, subject: &'static str) -> Self {
        self.subject = subject;
        self
    }

    /// `path?a=1&b=2|w500`: parameters sorted, so equal requests share one entry.
    pub fn cache_key(&self) -> String {
        let mut params = self.params.clone();
        params.sort();
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}?{}|{}", self.path, query.join("&"), self.image_size)
    }
}

pub struct Catalog {
    cache: Arc<CatalogCache>,
    tmdb: Arc<TmdbClient>,
    ttl: TtlPolicy,
    image_base: Arc<str>,
    /// Misses per client address: what anonymous traffic may cost in TMDB calls.
    limiter: Arc<RateLimiter>,
    misses: Limit,
}

impl Catalog {
    pub fn new(
        cache: CatalogCache,
        tmdb: TmdbClient,
        ttl: TtlPolicy,
        image_base: &str,
        limiter: RateLimiter,
        misses_per_ip_per_min: u64,
    ) -> Self {
        Self {
            cache: Arc::new(cache),
            tmdb: Arc::new(tmdb),
            ttl,
            image_base: Arc::from(image_base.trim_end_matches('/')),
            limiter: Arc::new(limiter),
            misses: Limit::per_minute("catalog_miss_ip", misses_per_ip_per_min),
        }
    }

    /// The answer to `query`, from the cache or from TMDB. A miss that would cost
    /// a TMDB call of its own counts against `client`'s budget (429 beyond it);
    /// hits, and requests that join a fetch under way, do not.
    pub async fn fetch(&self, query: CatalogQuery, client: &ClientIp) -> Result<Outcome, ApiError> {
        let ttl = self.ttl.ttl(query.class);
        let key = query.cache_key();
        let stale = match self.cache.lookup(&key).await {
            Lookup::Hit(outcome) => return Ok(outcome),
            Lookup::Miss(stale) => stale,
        };
        let (limiter, misses, client) = (self.limiter.clone(), self.misses, client.0.clone());
        let admit = move || async move {
            limiter.check(&misses, &client).await.map_err(|e| match e {
                ApiError::RateLimited(info) => UpstreamError::NotAdmitted {
                    limit: info.limit,
                    retry_after_secs: info.retry_after_secs,
                },
                other => UpstreamError::Unavailable(other.to_string()),
            })
        };
        let subject = query.subject;
        let tmdb = self.tmdb.clone();
        let image_base = self.image_base.clone();
        self.cache
            .fetch_missing(key, ttl, stale, admit, move || async move {
                let raw = tmdb.get(&query.path, &query.params).await?;
                let images = Images {
                    base: &image_base,
                    poster_size: query.image_size,
                };
                shape(&raw, query.shape, &images)
            })
            .await
            .map_err(|e| upstream_error(e, subject))
    }

    /// Serves `query` with the cache headers, or 304 when the client's copy is current.
    pub async fn respond(&self, req: &HttpRequest, query: CatalogQuery) -> HttpResponse {
        match self.fetch(query, &ClientIp::of(req)).await {
            Ok(outcome) => cached_response(req, &outcome),
            Err(error) => error_response(&error),
        }
    }

    /// The title and poster of a movie or show, for watchlist snapshots.
    pub async fn title_snapshot(
        &self,
        media: MediaType,
        id: i64,
        client: &ClientIp,
    ) -> Result<(String, Option<String>), ApiError> {
        let outcome = self.fetch(details_query(media, id, &[]), client).await?;
        let doc: Value = serde_json::from_slice(&outcome.entry.body)
            .map_err(|e| ApiError::internal(format!("cached details unreadable: {e}")))?;
        let title = doc["title"].as_str().unwrap_or_default().to_owned();
        let poster = doc["posterPath"].as_str().map(str::to_owned);
        Ok((title, poster))
    }

    pub fn image_base(&self) -> &str {
        &self.image_base
    }
}

/// `/movie/{id}` or `/tv/{id}` with the sections to append.
pub fn details_query(media: MediaType, id: i64, sections: &[&str]) -> CatalogQuery {
    let query = CatalogQuery::new(
        format!("{}/{id}", media.as_str()),
        TtlClass::Details,
        Shape::Details(media),
    )
    .subject(media.noun());
    if sections.is_empty() {
        query
    } else {
        query.param("append_to_response", sections.join(","))
    }
}

fn to_bytes<T: Serialize>(value: &T) -> Result<Bytes, UpstreamError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| UpstreamError::Unavailable(format!("could not encode the answer: {e}")))
}

fn shape(raw: &Value, shape: Shape, images: &Images) -> Result<Bytes, UpstreamError> {
    let unexpected = || UpstreamError::Unavailable("TMDB answered an unexpected document".into());
    match shape {
        Shape::List(media) => to_bytes(&normalize::list(raw, media, images)),
        Shape::Details(media) => {
            to_bytes(&normalize::details(raw, media, images).ok_or_else(unexpected)?)
        }
        Shape::Videos => to_bytes(&json!({ "items": normalize::videos(raw) })),
        Shape::Credits => to_bytes(&normalize::credits(raw, images)),
        Shape::Season => to_bytes(&normalize::season(raw, images).ok_or_else(unexpected)?),
        Shape::Genres => to_bytes(&json!({ "items": normalize::genres(raw) })),
        Shape::Config => to_bytes(&normalize::config(raw, images.base)),
    }
}

/// TMDB's failure as the client sees it.
pub fn upstream_error(error: UpstreamError, subject: &str) -> ApiError {
    match error {
        UpstreamError::NotFound => ApiError::NotFound(format!("{subject} not found")),
        UpstreamError::NotAdmitted {
            limit,
            retry_after_secs,
        } => ApiError::RateLimited(RateLimitInfo {
            limit,
            retry_after_secs,
        }),
        UpstreamError::Unauthorized => ApiError::coded(
            StatusCode::BAD_GATEWAY,
            "BAD_GATEWAY",
            "The movie database refused this service's request",
        ),
        UpstreamError::Timeout => ApiError::coded(
            StatusCode::GATEWAY_TIMEOUT,
            "UPSTREAM_TIMEOUT",
            "The movie database did not answer in time",
        ),
        UpstreamError::RateLimited { retry_after_secs } => ApiError::coded(
            StatusCode::SERVICE_UNAVAILABLE,
            "UPSTREAM_UNAVAILABLE",
            "The movie database is busy, retry later",
        )
        .with_details(json!({ "retryAfter": retry_after_secs })),
        UpstreamError::Status(status) if status < 500 => ApiError::coded(
            StatusCode::BAD_GATEWAY,
            "BAD_GATEWAY",
            "The movie database refused this service's request",
        ),
        UpstreamError::Status(_) | UpstreamError::Unavailable(_) => ApiError::coded(
            StatusCode::SERVICE_UNAVAILABLE,
            "UPSTREAM_UNAVAILABLE",
            "The movie database is unavailable, retry later",
        ),
    }
}

/// The envelope, plus `Retry-After` when the error says when to come back.
pub fn error_response(error: &ApiError) -> HttpResponse {
    let mut response = error.error_response();
    if let ApiError::Coded {
        details: Some(details),
        ..
    } = error
    {
        if let Some(secs) = details.get("retryAfter").and_then(Value::as_u64) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    response
}

/// Whether the client's `If-None-Match` names `etag` (or `*`).
pub fn etag_matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

fn cached_response(req: &HttpRequest, outcome: &Outcome) -> HttpResponse {
    let now = now_ms();
    let entry = &outcome.entry;
    let max_age = match outcome.status {
        CacheStatus::StaleOnError { .. } => 0,
        _ => entry.fresh_secs(now),
    };
    let not_modified = etag_matches(req, &entry.etag);
    let mut builder = if not_modified {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, entry.etag.as_str()))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .insert_header(("Cache-Status", outcome.status.header(entry, now)));
    if not_modified {
        builder.finish()
    } else {
        builder
            .content_type("application/json")
            .body(entry.body.clone())
    }
}
