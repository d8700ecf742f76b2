//! First-party analytics: events, hourly rollups, admin reports.
//!
//! Anyone may report events (rate-limited per address); the reports read only
//! the hourly rollups, which a background job keeps within a rollup interval
//! (`ANALYTICS_ROLLUP_SECS`) of the raw events and orders.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use common::net::ClientIp;
use common::ratelimit::Limit;
use common::tokens::AdminUser;
use common::{ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::db;
use crate::db::analytics::{Counts, Kind, Metric, NewEvent, MAX_QUERY_CHARS};
use crate::dto::ErrorEnvelope;
use crate::errors::product_not_found;
use crate::routes::uuid_of;
use crate::state::AppState;

/// The most events of one request.
pub const MAX_EVENTS: usize = 100;
pub const MAX_SESSION_CHARS: usize = 100;
/// Ingestion requests per address per minute (`ANALYTICS_EVENTS_PER_IP_PER_MIN`,
/// 6,000 by default: 100 a second, twice the 5,000 events/s in batches of 100
/// that one load generator sends).
fn events_limit(state: &AppState) -> Limit {
    Limit::per_minute(
        "commerce-analytics-events",
        state.settings.analytics_events_per_ip_per_min,
    )
}
/// Reports cover at most this many days; hourly ones at most 31.
pub const MAX_RANGE_DAYS: i64 = 366;
pub const MAX_HOURLY_DAYS: i64 = 31;
/// Ranges default to the last this many days.
pub const DEFAULT_RANGE_DAYS: i64 = 7;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/analytics/events", web::post().to(ingest))
        .route(
            "/api/analytics/products/{id}",
            web::get().to(product_report),
        )
        .route("/api/analytics/top-products", web::get().to(top_products))
        .route("/api/analytics/searches", web::get().to(searches));
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(ingest, product_report, top_products, searches))]
pub struct ApiDoc;

/// Rolls events and orders up every `analytics_rollup_secs`. Every replica
/// runs it; a transaction-level advisory lock lets one run at a time.
pub fn spawn_rollups(
    tasks: &mut common::tasks::Tasks,
    db: common::db::Db,
    settings: &crate::config::CommerceSettings,
) {
    let every = Duration::from_secs(settings.analytics_rollup_secs.max(1));
    tasks.every("analytics-rollup", every, move || {
        let db = db.clone();
        async move {
            match db.run(|conn| Ok(db::analytics::rollup(conn)?)).await {
                Ok(Some(run)) if run.product_cells + run.search_cells > 0 => tracing::debug!(
                    analytics.product_cells = run.product_cells,
                    analytics.search_cells = run.search_cells,
                    "analytics rolled up"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "analytics rollup failed; retried next tick")
                }
            }
        }
    });
}

/// One event as sent (validated by [`event_of`]). `product_view` and
/// `add_to_cart` name a product; `search` names a query.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRequest {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub product_id: Option<String>,
    pub query: Option<String>,
    pub session_id: Option<String>,
}

/// One event, or `{events: [...]}` with 1-100 of them (not both); the
/// document's schema is [`IngestSchema`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestRequest {
    #[serde(flatten)]
    pub single: EventRequest,
    pub events: Option<Vec<EventRequest>>,
}

/// The schema of `POST /api/analytics/events`, written out because the rules
/// depend on `type` (a product or a query) and on the form (one event, whose
/// `events` may only be null, or a batch, whose event fields may only be null):
/// what the handler accepts (it also takes a `productId` in the other spellings
/// of a UUID: braces, no hyphens, surrounding spaces).
pub struct IngestSchema;

impl utoipa::PartialSchema for IngestSchema {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let null = || ObjectBuilder::new().schema_type(Type::Null);
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let kinds = |kinds: &[&str], description: &str| {
            string()
                .enum_values(Some(kinds.iter().copied()))
                .description(Some(description))
        };
        let session = || {
            string()
                .pattern(Some(format!("^[!-~]{{1,{MAX_SESSION_CHARS}}}$")))
                .description(Some("The client's session: 1-100 visible ASCII characters"))
        };
        // An event of either kind; `extra` adds what the form allows besides.
        let event = |extra: &dyn Fn(ObjectBuilder) -> ObjectBuilder| {
            let product = ObjectBuilder::new()
                .property(
                    "type",
                    kinds(&["product_view", "add_to_cart"], "A product was seen or put in a cart"),
                )
                .property(
                    "productId",
                    string()
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                        .description(Some(
                            "Events of products that do not exist are dropped (not counted in accepted)",
                        )),
                )
                .property("query", null())
                .property("sessionId", session())
                .required("type")
                .required("productId")
                .required("sessionId");
            let search = ObjectBuilder::new()
                .property("type", kinds(&["search"], "A search was made"))
                .property("productId", null())
                .property(
                    "query",
                    string()
                        .max_length(Some(MAX_QUERY_CHARS))
                        .format(Some(SchemaFormat::Custom("words".to_owned())))
                        .description(Some("What was searched, at most 200 characters")),
                )
                .property("sessionId", session())
                .required("type")
                .required("query")
                .required("sessionId");
            OneOfBuilder::new().item(extra(product)).item(extra(search))
        };
        let batch = ObjectBuilder::new()
            .property(
                "events",
                ArrayBuilder::new()
                    .items(event(&|o| o))
                    .min_items(Some(1))
                    .max_items(Some(MAX_EVENTS)),
            )
            .property("type", null())
            .property("productId", null())
            .property("query", null())
            .property("sessionId", null())
            .required("events");
        OneOfBuilder::new()
            .item(event(&|o| o.property("events", null())))
            .item(batch)
            .description(Some(
                "One event, or `{events: [...]}` with 1-100 of them (not both). A product view counts once per session and product per 30 minutes.",
            ))
            .into()
    }
}

impl ToSchema for IngestSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "IngestRequest".into()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Events stored (those of unknown products are dropped; duplicate views
    /// are stored but not counted).
    pub accepted: usize,
}

/// How many messages `errors` holds (to tell whether a check added one).
fn messages(errors: &FieldErrors) -> usize {
    errors.0.values().map(Vec::len).sum()
}

/// A validated event, or its errors under `prefix`.
fn event_of(raw: EventRequest, prefix: &str, errors: &mut FieldErrors) -> Option<NewEvent> {
    let field = |name: &str| format!("{prefix}{name}");
    let before = messages(errors);
    let kind = match raw.kind.as_deref() {
        None => {
            errors.add(field("type"), "is required");
            None
        }
        Some(k) => match Kind::parse(k) {
            Some(kind) => Some(kind),
            None => {
                errors.add(
                    field("type"),
                    format!("must be one of {}", Kind::ALL.join(", ")),
                );
                None
            }
        },
    };
    let session_id = match raw.session_id {
        None => {
            errors.add(field("sessionId"), "is required");
            None
        }
        Some(s) if s.is_empty() || s.chars().count() > MAX_SESSION_CHARS => {
            errors.add(
                field("sessionId"),
                format!("must be 1-{MAX_SESSION_CHARS} characters"),
            );
            None
        }
        Some(s) if !s.bytes().all(|b| b.is_ascii_graphic()) => {
            errors.add(field("sessionId"), "must be visible ASCII characters");
            None
        }
        Some(s) => Some(s),
    };
    let wants_product = matches!(kind, Some(Kind::ProductView | Kind::AddToCart));
    let product_id = match (raw.product_id, kind) {
        (None, _) if wants_product => {
            errors.add(field("productId"), "is required");
            None
        }
        (None, _) => None,
        (Some(_), Some(Kind::Search)) => {
            errors.add(field("productId"), "must be absent for search");
            None
        }
        (Some(p), _) => match Uuid::parse_str(p.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add(field("productId"), "must be a product id (UUID)");
                None
            }
        },
    };
    let query = match (raw.query, kind) {
        (None, Some(Kind::Search)) => {
            errors.add(field("query"), "is required");
            None
        }
        (None, _) => None,
        (Some(_), Some(Kind::ProductView | Kind::AddToCart)) => {
            errors.add(
                field("query"),
                "must be absent for product_view and add_to_cart",
            );
            None
        }
        // The rule of the document's `words` format; stored normalised.
        (Some(q), _) => match common::domain::words(&q, MAX_QUERY_CHARS) {
            Ok(words) => db::analytics::normalize_query(&words),
            Err(e) => {
                errors.add(field("query"), e);
                None
            }
        },
    };
    if messages(errors) != before {
        return None;
    }
    Some(NewEvent {
        kind: kind?,
        product_id,
        session_id: session_id?,
        query,
    })
}

#[utoipa::path(post, path = "/api/analytics/events", operation_id = "recordAnalyticsEvents", tag = "analytics",
    request_body = IngestSchema,
    responses(
        (status = 202, description = "Stored (a product view counts once per session and product per 30 minutes)", body = Accepted),
        (status = 422, description = "Invalid event (details.fields, e.g. events[3].productId), no events or more than 100", body = ErrorEnvelope),
        (status = 429, description = "RATE_LIMITED: too many requests from this address; retry after Retry-After", body = ErrorEnvelope),
    ))]
pub async fn ingest(
    state: web::Data<AppState>,
    client: ClientIp,
    body: common::Json<IngestRequest>,
) -> Result<HttpResponse, ApiError> {
    state
        .limiter
        .check(&events_limit(&state), client.as_str())
        .await?;
    let body = body.into_inner();
    let mut errors = FieldErrors::new();
    let single = &body.single;
    let has_single = single.kind.is_some()
        || single.product_id.is_some()
        || single.query.is_some()
        || single.session_id.is_some();
    let events = match body.events {
        Some(_) if has_single => {
            errors.add("events", "cannot be sent with a single event's fields");
            Vec::new()
        }
        Some(list) if list.is_empty() || list.len() > MAX_EVENTS => {
            errors.add("events", format!("must hold 1-{MAX_EVENTS} events"));
            Vec::new()
        }
        Some(list) => list
            .into_iter()
            .enumerate()
            .filter_map(|(i, raw)| event_of(raw, &format!("events[{i}]."), &mut errors))
            .collect(),
        None => event_of(body.single, "", &mut errors).into_iter().collect(),
    };
    errors.into_result()?;
    let accepted = state
        .db
        .run(move |conn| Ok(db::analytics::ingest(conn, &events)?))
        .await?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED).json(Accepted { accepted }))
}

/// A report's range, validated.
struct Range {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

fn instant(raw: Option<&str>, field: &str, errors: &mut FieldErrors) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.add(field, "must be an RFC 3339 time");
            None
        }
    }
}

/// `from`/`to`: RFC 3339, default the last 7 days, `to` after `from`, at most
/// `max_days` apart.
fn range_of(
    from: Option<&str>,
    to: Option<&str>,
    max_days: i64,
    errors: &mut FieldErrors,
) -> Option<Range> {
    let before = messages(errors);
    let from_given = instant(from, "from", errors);
    let to_given = instant(to, "to", errors);
    if messages(errors) != before {
        return None;
    }
    let to = to_given.unwrap_or_else(Utc::now);
    let from = from_given.unwrap_or(to - chrono::Duration::days(DEFAULT_RANGE_DAYS));
    if to <= from {
        errors.add("to", "must be after from");
        return None;
    }
    if to - from > chrono::Duration::days(max_days) {
        errors.add("to", format!("must be at most {max_days} days after from"));
        return None;
    }
    Some(Range { from, to })
}

/// The counts of a bucket, a product or a range, with its conversion.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MetricsDto {
    /// Counted product views (once per session per 30 minutes).
    pub views: i64,
    /// Sessions with a counted view, per hour (a day sums its hours).
    pub sessions: i64,
    pub add_to_cart: i64,
    /// Orders with the product placed in the period, not cancelled or expired.
    pub orders: i64,
    pub units: i64,
    /// `quantity × unitPrice` of those orders' lines, in minor units.
    pub revenue_minor: i64,
    /// `orders / sessions`; null without sessions (it can exceed 1 when orders
    /// come from sessions that reported no views).
    pub conversion: Option<f64>,
}

impl From<&Counts> for MetricsDto {
    fn from(c: &Counts) -> Self {
        Self {
            views: c.views,
            sessions: c.sessions,
            add_to_cart: c.add_to_cart,
            orders: c.orders,
            units: c.units,
            revenue_minor: c.revenue_minor,
            conversion: (c.sessions > 0).then(|| c.orders as f64 / c.sessions as f64),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketDto {
    /// The bucket's first hour (UTC).
    pub start: DateTime<Utc>,
    #[serde(flatten)]
    pub metrics: MetricsDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductReportDto {
    pub product_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[schema(example = "hour")]
    pub interval: String,
    /// The currency of `revenueMinor`.
    pub currency: String,
    pub totals: MetricsDto,
    /// Every bucket of the range, oldest first, empty ones with zeros.
    pub items: Vec<BucketDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductReportQuery {
    /// RFC 3339; default 7 days before `to` (rounded down to its hour).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339; default now.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
    /// `hour` (default; at most 31 days) or `day` (UTC days; at most 366 days).
    #[param(inline, value_type = Option<String>, pattern = "^(hour|day)$", example = "day")]
    pub interval: Option<String>,
}

#[utoipa::path(get, path = "/api/analytics/products/{id}", operation_id = "productAnalytics", tag = "analytics", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"), ProductReportQuery),
    responses(
        (status = 200, description = "The product's counts per hour or day", body = ProductReportDto),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product", body = ErrorEnvelope),
        (status = 422, description = "Invalid from, to or interval", body = ErrorEnvelope),
    ))]
pub async fn product_report(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<String>,
    query: web::Query<ProductReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, product_not_found)?;
    let query = query.into_inner();
    let mut errors = FieldErrors::new();
    let daily = match query.interval.as_deref() {
        None | Some("hour") => Some(false),
        Some("day") => Some(true),
        Some(_) => {
            errors.add("interval", "must be hour or day");
            None
        }
    };
    let max_days = if daily == Some(true) {
        MAX_RANGE_DAYS
    } else {
        MAX_HOURLY_DAYS
    };
    let range = range_of(
        query.from.as_deref(),
        query.to.as_deref(),
        max_days,
        &mut errors,
    );
    errors.into_result()?;
    let (Some(daily), Some(Range { from, to })) = (daily, range) else {
        return Err(ApiError::internal("validated report query missing"));
    };
    let buckets = state
        .db
        .run(move |conn| {
            if !db::analytics::product_exists(conn, id)? {
                return Ok(None);
            }
            Ok(Some(db::analytics::product_buckets(
                conn, id, from, to, daily,
            )?))
        })
        .await?
        .ok_or_else(product_not_found)?;
    let mut totals = Counts::default();
    for bucket in &buckets {
        totals.add(&bucket.counts);
    }
    Ok(HttpResponse::Ok().json(ProductReportDto {
        product_id: id,
        from,
        to,
        interval: if daily { "day" } else { "hour" }.to_owned(),
        currency: state.settings.shop_currency.clone(),
        totals: MetricsDto::from(&totals),
        items: buckets
            .iter()
            .map(|b| BucketDto {
                start: b.start,
                metrics: MetricsDto::from(&b.counts),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopProductsQuery {
    /// RFC 3339; default 7 days before `to` (rounded down to its hour).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339; default now; at most 366 days after `from`.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
    /// `views` (default), `orders` or `revenue`.
    #[param(inline, value_type = Option<String>, pattern = "^(views|orders|revenue)$", example = "revenue")]
    pub metric: Option<String>,
    /// How many, 1-100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopProductDto {
    pub product_id: Uuid,
    pub slug: String,
    pub title: String,
    #[serde(flatten)]
    pub metrics: MetricsDto,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopProductsDto {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub metric: String,
    pub currency: String,
    /// Most first; products without any of the metric are left out.
    pub items: Vec<TopProductDto>,
}

fn limit_of(raw: Option<i64>, default: i64, errors: &mut FieldErrors) -> i64 {
    match raw {
        None => default,
        Some(n) if (1..=100).contains(&n) => n,
        Some(_) => {
            errors.add("limit", "must be between 1 and 100");
            default
        }
    }
}

#[utoipa::path(get, path = "/api/analytics/top-products", operation_id = "topProducts", tag = "analytics", security(("bearer" = [])),
    params(TopProductsQuery),
    responses(
        (status = 200, description = "The products with the most views, orders or revenue", body = TopProductsDto),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 422, description = "Invalid from, to, metric or limit", body = ErrorEnvelope),
    ))]
pub async fn top_products(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<TopProductsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let mut errors = FieldErrors::new();
    let metric = match query.metric.as_deref() {
        None => Some(Metric::Views),
        Some(m) => Metric::parse(m).or_else(|| {
            errors.add(
                "metric",
                format!("must be one of {}", Metric::ALL.join(", ")),
            );
            None
        }),
    };
    let limit = limit_of(query.limit, 10, &mut errors);
    let range = range_of(
        query.from.as_deref(),
        query.to.as_deref(),
        MAX_RANGE_DAYS,
        &mut errors,
    );
    errors.into_result()?;
    let (Some(metric), Some(Range { from, to })) = (metric, range) else {
        return Err(ApiError::internal("validated report query missing"));
    };
    let ranked = state
        .db
        .run(move |conn| Ok(db::analytics::top_products(conn, from, to, metric, limit)?))
        .await?;
    Ok(HttpResponse::Ok().json(TopProductsDto {
        from,
        to,
        metric: metric.as_str().to_owned(),
        currency: state.settings.shop_currency.clone(),
        items: ranked
            .into_iter()
            .map(|r| TopProductDto {
                metrics: MetricsDto::from(&r.counts),
                product_id: r.product_id,
                slug: r.slug,
                title: r.title,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchesQuery {
    /// RFC 3339; default 7 days before `to` (rounded down to its hour).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// RFC 3339; default now; at most 366 days after `from`.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
    /// How many of each list, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueryCountsDto {
    /// Normalised: trimmed, lower case, single spaces.
    pub query: String,
    /// `search` events clients reported.
    pub searches: i64,
    /// Searches of the shop's search route that found nothing.
    pub zero_results: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchesDto {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The most frequent queries, most first.
    pub top: Vec<QueryCountsDto>,
    /// The queries that most often found nothing, most first.
    pub zero_results: Vec<QueryCountsDto>,
}

#[utoipa::path(get, path = "/api/analytics/searches", operation_id = "searchAnalytics", tag = "analytics", security(("bearer" = [])),
    params(SearchesQuery),
    responses(
        (status = 200, description = "Top queries and queries without results", body = SearchesDto),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 422, description = "Invalid from, to or limit", body = ErrorEnvelope),
    ))]
pub async fn searches(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<SearchesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let mut errors = FieldErrors::new();
    let limit = limit_of(query.limit, 20, &mut errors);
    let range = range_of(
        query.from.as_deref(),
        query.to.as_deref(),
        MAX_RANGE_DAYS,
        &mut errors,
    );
    errors.into_result()?;
    let Some(Range { from, to }) = range else {
        return Err(ApiError::internal("validated report query missing"));
    };
    let (top, zero) = state
        .db
        .run(move |conn| Ok(db::analytics::searches(conn, from, to, limit)?))
        .await?;
    let dto = |rows: Vec<db::analytics::QueryCounts>| {
        rows.into_iter()
            .map(|r| QueryCountsDto {
                query: r.query,
                searches: r.searches,
                zero_results: r.zero_results,
            })
            .collect()
    };
    Ok(HttpResponse::Ok().json(SearchesDto {
        from,
        to,
        top: dto(top),
        zero_results: dto(zero),
    }))
}
