//! Orders: placed from the cart or from explicit lines with a required
//! `Idempotency-Key`, holding their stock (reserved) until they are fulfilled,
//! cancelled or expired. Customers see and cancel their own; admins list all,
//! record payment (as a payment integration's service token may) and
//! fulfilment. A sweeper expires orders left unpaid past
//! `ORDER_PAYMENT_TIMEOUT_SECS`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use common::idempotency::{self, IdempotencyKey, RequiredIdempotencyHeader};
use common::pagination::{Page, PageMeta, PageQuery};
use common::tokens::{AdminUser, AuthUser, Role};
use common::{ApiError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use crate::db;
use crate::db::orders::{Actor, OrderLine, OrderView, Owner, Refusal, Transition, Wanted};
use crate::dto::ErrorEnvelope;
use crate::errors::{insufficient_stock, order_not_found};
use crate::routes::cart::quantity_of;
use crate::routes::uuid_of;
use crate::state::AppState;

/// The most lines of one order.
pub const MAX_LINES: usize = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/orders", web::post().to(place))
        .route("/api/orders", web::get().to(list_mine))
        .route("/api/orders/{id}", web::get().to(get_one))
        .route("/api/orders/{id}/cancel", web::post().to(cancel))
        .route("/api/admin/orders", web::get().to(list_all))
        .route("/api/admin/orders/{id}/paid", web::post().to(paid))
        .route("/api/admin/orders/{id}/fulfil", web::post().to(fulfil));
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(place, list_mine, get_one, cancel, list_all, paid, fulfil))]
pub struct ApiDoc;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineDto {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    /// As it was when the order was placed.
    pub sku: String,
    /// As it was when the order was placed.
    pub title: String,
    pub quantity: i64,
    /// As it was when the order was placed.
    pub unit_price_minor: i64,
    pub line_total_minor: i64,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Placed,
    Paid,
    Fulfilled,
    Cancelled,
    Expired,
}

impl OrderStatus {
    fn parse(raw: &str) -> Result<Self, ApiError> {
        Ok(match raw {
            db::orders::PLACED => Self::Placed,
            db::orders::PAID => Self::Paid,
            db::orders::FULFILLED => Self::Fulfilled,
            db::orders::CANCELLED => Self::Cancelled,
            db::orders::EXPIRED => Self::Expired,
            other => return Err(ApiError::internal(format!("stored order status {other}"))),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderDto {
    pub id: Uuid,
    pub status: OrderStatus,
    /// The customer's id (the token's subject).
    pub customer_id: String,
    pub lines: Vec<OrderLineDto>,
    pub total_minor: i64,
    pub currency: String,
    pub placed_at: DateTime<Utc>,
    /// An order still `placed` then expires and its stock is released.
    pub expires_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    /// When it was cancelled or expired.
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

fn line_dto(line: OrderLine) -> OrderLineDto {
    OrderLineDto {
        variant_id: line.variant_id,
        product_id: line.product_id,
        line_total_minor: line.quantity.saturating_mul(line.unit_price_minor),
        sku: line.sku,
        title: line.title,
        quantity: line.quantity,
        unit_price_minor: line.unit_price_minor,
    }
}

impl OrderDto {
    fn new(view: OrderView) -> Result<Self, ApiError> {
        let OrderView { order, lines } = view;
        Ok(Self {
            id: order.id,
            status: OrderStatus::parse(&order.status)?,
            customer_id: order.owner_subject,
            lines: lines.into_iter().map(line_dto).collect(),
            total_minor: order.total_minor,
            currency: order.currency,
            placed_at: order.placed_at,
            expires_at: order.expires_at,
            paid_at: order.paid_at,
            fulfilled_at: order.fulfilled_at,
            closed_at: order.closed_at,
            updated_at: order.updated_at,
        })
    }
}

/// `{items, meta}` of orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderDto>,
    pub meta: PageMeta,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineRequest {
    #[schema(value_type = Uuid, required = true)]
    pub variant_id: Option<Uuid>,
    /// 1-1000; lines of one variant are summed.
    #[serde(default, deserialize_with = "common::domain::whole_number")]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 1000)]
    pub quantity: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct PlaceOrder {
    /// What to order; absent (or no body at all): the cart.
    #[schema(max_items = 100, min_items = 1)]
    pub lines: Option<Vec<LineRequest>>,
}

fn key_of(owner: &Owner) -> String {
    format!("{}:{}", owner.issuer, owner.subject)
}

/// The lines asked for, checked: every problem named by its field.
fn wanted_of(lines: Vec<LineRequest>) -> Result<Wanted, ApiError> {
    if lines.is_empty() {
        return Err(ApiError::validation(
            "lines",
            "must name at least one variant",
        ));
    }
    if lines.len() > MAX_LINES {
        return Err(ApiError::validation(
            "lines",
            &format!("must have at most {MAX_LINES} lines"),
        ));
    }
    let mut errors = FieldErrors::new();
    let mut checked = Vec::with_capacity(lines.len());
    for (n, line) in lines.into_iter().enumerate() {
        let variant = match line.variant_id {
            Some(id) => Some(id),
            None => {
                errors.add(format!("lines[{n}].variantId"), "is required");
                None
            }
        };
        let quantity = quantity_of(
            line.quantity,
            1,
            &format!("lines[{n}].quantity"),
            &mut errors,
        );
        if let (Some(v), Some(q)) = (variant, quantity) {
            checked.push((v, q));
        }
    }
    errors.into_result()?;
    Wanted::summed(checked).ok_or_else(|| ApiError::validation("lines", "quantities are too large"))
}

#[utoipa::path(post, path = "/api/orders", operation_id = "placeOrder", tag = "orders", security(("bearer" = [])),
    params(RequiredIdempotencyHeader),
    request_body(content = Option<PlaceOrder>, description = "Explicit lines, or nothing (or `{}`) to order the cart"),
    responses(
        (status = 201, description = "Placed: its stock is reserved until it is paid and fulfilled, cancelled or expired; a replay of the Idempotency-Key carries `Idempotent-Replayed: true`", body = OrderDto),
        (status = 400, description = "No Idempotency-Key, or a body that is not a JSON object of this shape", body = ErrorEnvelope),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 409, description = "INSUFFICIENT_STOCK (details: variantId, sku, requested, available), a request with this Idempotency-Key still running, or one that outlasted the key's 60 s lease after a retry took the key (nothing of it is kept)", body = ErrorEnvelope),
        (status = 422, description = "Invalid lines, an empty cart, a line naming no variant, or an Idempotency-Key used with another request", body = ErrorEnvelope),
    ))]
pub async fn place(
    state: web::Data<AppState>,
    user: AuthUser,
    key: IdempotencyKey,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if key.0.is_none() {
        return Err(ApiError::BadRequest(
            "An Idempotency-Key header is required to place an order".to_owned(),
        ));
    }
    let request: PlaceOrder = common::json::optional_object(&body)?.unwrap_or_default();
    let owner = Owner::of(&user);
    let fingerprint = idempotency::fingerprint(&request)?;
    let explicit = match request.lines {
        Some(lines) => Some(wanted_of(lines)?),
        None => None,
    };
    let currency = state.settings.shop_currency.clone();
    let timeout = chrono::Duration::seconds(
        i64::try_from(state.settings.order_payment_timeout_secs).unwrap_or(i64::MAX / 1000),
    );
    let key_owner = key_of(&owner);
    // All database work: the key, the placement and the stored answer on one
    // connection.
    idempotency::run_with_connection(&state.db, &key, &key_owner, fingerprint, move |conn| {
        let from_cart = explicit.is_none();
        let wanted = match explicit {
            Some(w) => w,
            None => {
                let lines = db::carts::lines(conn, &owner)?;
                if lines.is_empty() {
                    return Err(ApiError::validation("lines", "the cart is empty"));
                }
                Wanted::summed(lines.iter().map(|l| (l.variant.id, l.quantity)))
                    .ok_or_else(|| ApiError::validation("lines", "quantities are too large"))?
            }
        };
        match db::orders::place(conn, &owner, &wanted, &currency, timeout, from_cart)? {
            Ok(view) => {
                tracing::info!(order.id = %view.order.id, order.total_minor = view.order.total_minor, "order placed");
                Ok((StatusCode::CREATED, OrderDto::new(view)?))
            }
            Err(Refusal::Unknown(n)) => Err(ApiError::validation(
                &format!("lines[{n}].variantId"),
                "names no variant",
            )),
            Err(Refusal::Short {
                variant_id,
                sku,
                requested,
                available,
            }) => Err(insufficient_stock(variant_id, &sku, requested, available)),
        }
    })
    .await
}

#[utoipa::path(get, path = "/api/orders", operation_id = "listMyOrders", tag = "orders", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "The caller's orders, newest first", body = OrderPage),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 422, description = "Invalid page or limit", body = ErrorEnvelope),
    ))]
pub async fn list_mine(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let params = query.into_inner().validate()?;
    let owner = Owner::of(&user);
    let (views, total) = state
        .db
        .run(move |conn| {
            Ok(db::orders::list(
                conn,
                Some(&owner),
                None,
                params.offset(),
                params.limit,
            )?)
        })
        .await?;
    page_of(views, params, total)
}

fn page_of(
    views: Vec<OrderView>,
    params: common::pagination::PageParams,
    total: i64,
) -> Result<HttpResponse, ApiError> {
    let items = views
        .into_iter()
        .map(OrderDto::new)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page::new(items, params, total)))
}

#[utoipa::path(get, path = "/api/orders/{id}", operation_id = "getOrder", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "The caller's order", body = OrderDto),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 404, description = "No such order of the caller's", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, order_not_found)?;
    let owner = Owner::of(&user);
    let view = state
        .db
        .run(move |conn| Ok(db::orders::find(conn, id)?))
        .await?
        .filter(|v| v.order.owner_issuer == owner.issuer && v.order.owner_subject == owner.subject)
        .ok_or_else(order_not_found)?;
    Ok(HttpResponse::Ok().json(OrderDto::new(view)?))
}

async fn apply(
    state: &AppState,
    id: Uuid,
    owner: Option<Owner>,
    transition: Transition,
    actor: &AuthUser,
) -> Result<HttpResponse, ApiError> {
    let (issuer, subject) = (actor.issuer.clone(), actor.subject.clone());
    let view = state
        .db
        .run(move |conn| {
            let actor = Actor {
                issuer: &issuer,
                subject: &subject,
            };
            db::orders::transition(conn, id, owner.as_ref(), transition, &actor)
        })
        .await?
        .ok_or_else(order_not_found)?;
    tracing::info!(order.id = %id, order.status = %view.order.status, by = %actor.subject, "order status changed");
    Ok(HttpResponse::Ok().json(OrderDto::new(view)?))
}

#[utoipa::path(post, path = "/api/orders/{id}/cancel", operation_id = "cancelOrder", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "Cancelled; its stock is released", body = OrderDto),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 404, description = "No such order of the caller's", body = ErrorEnvelope),
        (status = 409, description = "INVALID_TRANSITION: fulfilled, cancelled or expired already", body = ErrorEnvelope),
    ))]
pub async fn cancel(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, order_not_found)?;
    apply(
        &state,
        id,
        Some(Owner::of(&user)),
        Transition::Cancel,
        &user,
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOrdersQuery {
    /// Only orders in this status.
    #[param(inline, value_type = Option<OrderStatus>)]
    pub status: Option<String>,
    /// Page number, 1-10000 (default 1).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/admin/orders", operation_id = "listAllOrders", tag = "orders", security(("bearer" = [])),
    params(AdminOrdersQuery),
    responses(
        (status = 200, description = "Every customer's orders, newest first", body = OrderPage),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 422, description = "Invalid status, page or limit", body = ErrorEnvelope),
    ))]
pub async fn list_all(
    state: web::Data<AppState>,
    _admin: AdminUser,
    query: web::Query<AdminOrdersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let mut errors = FieldErrors::new();
    let params = PageQuery {
        page: query.page,
        limit: query.limit,
    }
    .validate_into(&mut errors);
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => match OrderStatus::parse(s) {
            Ok(_) => Some(s.to_owned()),
            Err(_) => {
                errors.add(
                    "status",
                    "must be one of placed, paid, fulfilled, cancelled, expired",
                );
                None
            }
        },
    };
    errors.into_result()?;
    let (views, total) = state
        .db
        .run(move |conn| {
            Ok(db::orders::list(
                conn,
                None,
                status.as_deref(),
                params.offset(),
                params.limit,
            )?)
        })
        .await?;
    page_of(views, params, total)
}

#[utoipa::path(post, path = "/api/admin/orders/{id}/paid", operation_id = "markOrderPaid", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "Paid", body = OrderDto),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 403, description = "FORBIDDEN: neither an admin nor a service token", body = ErrorEnvelope),
        (status = 404, description = "No such order", body = ErrorEnvelope),
        (status = 409, description = "INVALID_TRANSITION: not placed (paid already, fulfilled, cancelled or expired)", body = ErrorEnvelope),
    ))]
pub async fn paid(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !matches!(user.role, Role::Admin | Role::Service) {
        return Err(ApiError::Forbidden(
            "Admin role or a service token required".to_owned(),
        ));
    }
    let id = uuid_of(&path, order_not_found)?;
    apply(&state, id, None, Transition::Pay, &user).await
}

#[utoipa::path(post, path = "/api/admin/orders/{id}/fulfil", operation_id = "fulfilOrder", tag = "orders", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, description = "Fulfilled: its quantities are taken off on hand and reserved (one ledger entry per line)", body = OrderDto),
        (status = 401, description = "No valid token", body = ErrorEnvelope),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such order", body = ErrorEnvelope),
        (status = 409, description = "INVALID_TRANSITION: not paid", body = ErrorEnvelope),
    ))]
pub async fn fulfil(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, order_not_found)?;
    apply(&state, id, None, Transition::Fulfil, &admin.0).await
}

/// Expires orders left unpaid past their deadline, releasing their stock,
/// every `ORDER_SWEEP_SECS`. Replicas may sweep at once: each order is moved
/// under its row lock and an order no longer placed is skipped.
pub fn spawn_sweeper(
    tasks: &mut common::tasks::Tasks,
    db: common::db::Db,
    settings: &crate::config::CommerceSettings,
) {
    let every = std::time::Duration::from_secs(settings.order_sweep_secs.max(1));
    tasks.every("order-sweeper", every, move || {
        let db = db.clone();
        async move {
            match db.run(sweep).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(orders.expired = n, "unpaid orders expired"),
                Err(e) => tracing::warn!(error = %e, "order sweep failed; retried next tick"),
            }
        }
    });
}

/// One sweep: how many orders it expired.
fn sweep(conn: &mut diesel::PgConnection) -> Result<usize, ApiError> {
    let sweeper = Actor {
        issuer: "commerce",
        subject: "order-sweeper",
    };
    let mut expired = 0;
    for id in db::orders::overdue(conn, 500)? {
        match db::orders::transition(conn, id, None, Transition::Expire, &sweeper) {
            Ok(Some(_)) => expired += 1,
            // Paid or cancelled meanwhile.
            Ok(None) | Err(ApiError::Coded { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(expired)
}
