//! The JSON error envelope shared by every service:
//! `{"error":{"code","message","details","requestId"}}`.

use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use serde_json::{json, Value};

use crate::context;

/// The stable codes of the shared errors. A service's own codes (`EMAIL_TAKEN`,
/// `MEETING_ENDED`, ...) are constants of that service's `errors` module.
pub mod code {
    pub const BAD_REQUEST: &str = "BAD_REQUEST";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    pub const CONFLICT: &str = "CONFLICT";
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    pub const RANGE_NOT_SATISFIABLE: &str = "RANGE_NOT_SATISFIABLE";
    pub const VALIDATION_FAILED: &str = "VALIDATION_FAILED";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
    pub const BAD_GATEWAY: &str = "BAD_GATEWAY";
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    pub const GATEWAY_TIMEOUT: &str = "GATEWAY_TIMEOUT";
    /// An upstream of the service (TMDB, an identity provider) is down.
    pub const UPSTREAM_UNAVAILABLE: &str = "UPSTREAM_UNAVAILABLE";
    /// An upstream of the service did not answer in time.
    pub const UPSTREAM_TIMEOUT: &str = "UPSTREAM_TIMEOUT";
}

/// Seconds a client is asked to wait after a 503 of our own.
const RETRY_AFTER_UNAVAILABLE: &str = "1";

/// Field name to the list of messages about it, as sent in `details.fields`.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_default().push(message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was added, else the 422 error carrying every field.
    pub fn into_result(self) -> Result<(), ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self))
        }
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }
}

impl From<validator::ValidationErrors> for FieldErrors {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = FieldErrors::new();
        for (field, errs) in errors.field_errors() {
            for err in errs {
                let message = err
                    .message
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| format!("is invalid ({})", err.code));
                out.add(to_camel_case(field.as_ref()), message);
            }
        }
        out
    }
}

fn to_camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for ch in snake.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// Details of a rate-limit refusal, turned into `Retry-After` and `RateLimit-*` headers.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitInfo {
    pub limit: u64,
    pub retry_after_secs: u64,
}

/// Every error a Reelstack handler can answer with. Each variant has one status and
/// one stable code; [`ApiError::Coded`] carries the specific codes (`EMAIL_TAKEN`,
/// `INVALID_CREDENTIALS`, ...) a service names in its contract.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("too many requests")]
    RateLimited(RateLimitInfo),
    #[error("{0}")]
    Unavailable(String),
    /// The database connection was lost or the server is gone (a restart): 503,
    /// and the connection is not returned to the pool.
    #[error("Database unavailable, retry later")]
    DatabaseUnavailable,
    #[error("{message}")]
    Coded {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    /// Anything unexpected: the cause chain is logged, the client gets an opaque 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// An error with a contract-specific code, such as `409 EMAIL_TAKEN`.
    pub fn coded(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self::Coded {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(self, details: Value) -> Self {
        match self {
            Self::Coded {
                status,
                code,
                message,
                ..
            } => Self::Coded {
                status,
                code,
                message,
                details: Some(details),
            },
            other => other,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn validation(field: &str, message: &str) -> Self {
        Self::Validation(FieldErrors::single(field, message))
    }

    pub fn internal(message: impl fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{message}"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => code::BAD_REQUEST,
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::NotFound(_) => code::NOT_FOUND,
            Self::Conflict(_) => code::CONFLICT,
            Self::PayloadTooLarge(_) => code::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => code::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => code::VALIDATION_FAILED,
            Self::RateLimited(_) => code::RATE_LIMITED,
            Self::Unavailable(_) | Self::DatabaseUnavailable => code::SERVICE_UNAVAILABLE,
            Self::Coded { code, .. } => code,
            Self::Internal(_) => code::INTERNAL,
        }
    }

    fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "Internal server error".to_owned(),
            Self::Validation(_) => "Request validation failed".to_owned(),
            Self::RateLimited(_) => "Too many requests, retry later".to_owned(),
            other => other.to_string(),
        }
    }

    fn details(&self) -> Value {
        match self {
            Self::Validation(fields) => json!({ "fields": fields }),
            Self::RateLimited(info) => json!({ "retryAfter": info.retry_after_secs }),
            Self::Coded {
                details: Some(d), ..
            } => d.clone(),
            _ => json!({}),
        }
    }
}

/// The error envelope every route answers with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable code: `BAD_REQUEST`, `UNAUTHENTICATED`, `VALIDATION_FAILED`, `EMAIL_TAKEN`, ...
    pub code: String,
    pub message: String,
    /// `fields` for validation errors, `reason` for token errors.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub request_id: String,
}

/// Builds the envelope body for a status, code and message; used by [`ApiError`] and
/// by the middleware that rewrites any non-JSON error response.
pub fn envelope(code: &str, message: &str, details: Value) -> Value {
    json!({
        "error": {
            "code": code,
            "message": message,
            "details": details,
            "requestId": context::current_request_id().unwrap_or_default(),
        }
    })
}

/// The code used when only a status is known (gateway-like rewrites of foreign errors).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => code::BAD_REQUEST,
        401 => code::UNAUTHENTICATED,
        403 => code::FORBIDDEN,
        404 => code::NOT_FOUND,
        405 => code::METHOD_NOT_ALLOWED,
        409 => code::CONFLICT,
        413 => code::PAYLOAD_TOO_LARGE,
        415 => code::UNSUPPORTED_MEDIA_TYPE,
        422 => code::VALIDATION_FAILED,
        429 => code::RATE_LIMITED,
        502 => code::BAD_GATEWAY,
        503 => code::SERVICE_UNAVAILABLE,
        504 => code::GATEWAY_TIMEOUT,
        s if s >= 500 => code::INTERNAL,
        _ => "ERROR",
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Coded { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let Self::Internal(cause) = self {
            tracing::error!(error.cause_chain = ?cause, "internal error");
        } else if status.is_server_error() {
            tracing::warn!(error.message = %self, "request failed");
        }
        let mut builder = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if matches!(self, Self::Unavailable(_) | Self::DatabaseUnavailable) {
            builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE));
        }
        if let Self::RateLimited(info) = self {
            builder.insert_header((header::RETRY_AFTER, info.retry_after_secs.to_string()));
            builder.insert_header(("RateLimit-Limit", info.limit.to_string()));
            builder.insert_header(("RateLimit-Remaining", "0"));
            builder.insert_header(("RateLimit-Reset", info.retry_after_secs.to_string()));
        }
        builder.json(envelope(
            self.code(),
            &self.public_message(),
            self.details(),
        ))
    }
}

/// One place where diesel errors become API errors.
impl From<DieselError> for ApiError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => ApiError::NotFound("Resource not found".to_owned()),
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::debug!(constraint = ?info.constraint_name(), "unique violation");
                ApiError::Conflict("Resource already exists".to_owned())
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => {
                tracing::warn!(error = info.message(), "database connection lost");
                ApiError::DatabaseUnavailable
            }
            // Text with a NUL character, which PostgreSQL cannot store or compare:
            // the caller's input, whichever field it came in.
            DieselError::DatabaseError(_, info) if holds_nul(info.message()) => {
                ApiError::BadRequest("Text must not contain NUL characters".to_owned())
            }
            DieselError::DatabaseError(_, info) if server_gone(info.message()) => {
                tracing::warn!(error = info.message(), "database server unavailable");
                ApiError::DatabaseUnavailable
            }
            other => ApiError::Internal(anyhow::Error::new(other).context("database error")),
        }
    }
}

fn holds_nul(message: &str) -> bool {
    message.contains("invalid byte sequence for encoding \"UTF8\": 0x00")
        || message.contains("unsupported Unicode escape sequence")
}

/// Messages of a server that is shutting down, starting up or gone, whatever
/// kind diesel gives them (SQLSTATE 57P01-57P03 and libpq's own).
fn server_gone(message: &str) -> bool {
    const GONE: &[&str] = &[
        "terminating connection due to administrator command",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "no connection to the server",
        "server closed the connection unexpectedly",
        "could not receive data from server",
        "could not send data to server",
    ];
    GONE.iter().any(|gone| message.contains(gone))
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %err, "database pool unavailable");
        ApiError::Unavailable("Database unavailable".to_owned())
    }
}

/// Maps a named unique constraint to a specific error, leaving other errors to the
/// generic mapping: `insert(...).on_constraint("users_email_key", || email_taken())`.
pub trait ResultExt<T> {
    fn on_constraint(self, name: &str, f: impl FnOnce() -> ApiError) -> Result<T, ApiError>;
}

impl<T> ResultExt<T> for Result<T, DieselError> {
    fn on_constraint(self, name: &str, f: impl FnOnce() -> ApiError) -> Result<T, ApiError> {
        match self {
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
                if info.constraint_name() == Some(name) =>
            {
                Err(f())
            }
            other => other.map_err(ApiError::from),
        }
    }
}

/// Extractor error handlers: actix's JSON, query, path and payload errors become
/// envelope errors instead of plain text.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            ApiError::PayloadTooLarge("Request body is too large".to_owned())
        }
        E::ContentType => {
            ApiError::UnsupportedMediaType("Content-Type must be application/json".to_owned())
        }
        E::Deserialize(e) if e.is_data() => ApiError::BadRequest(format!(
            "Invalid JSON body: {}",
            strip_location(&e.to_string())
        )),
        E::Deserialize(_) => ApiError::BadRequest("Malformed JSON body".to_owned()),
        _ => ApiError::BadRequest("Could not read the request body".to_owned()),
    };
    api.into()
}

pub(crate) fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(idx) => message[..idx].to_owned(),
        None => message.to_owned(),
    }
}

pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("Invalid query string: {err}")).into()
}

pub fn path_error_handler(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    tracing::debug!(error = %err, "path parameter rejected");
    ApiError::NotFound("Resource not found".to_owned()).into()
}

pub fn payload_error_handler(err: actix_web::error::PayloadError) -> ApiError {
    match err {
        actix_web::error::PayloadError::Overflow => {
            ApiError::PayloadTooLarge("Request body is too large".to_owned())
        }
        _ => ApiError::BadRequest("Could not read the request body".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    async fn body_of(err: ApiError) -> (StatusCode, Value) {
        let resp = err.error_response();
        let status = resp.status();
        let bytes = to_bytes(resp.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn internal_errors_are_opaque() {
        let (status, body) = body_of(ApiError::Internal(anyhow::anyhow!(
            "relation \"users\" does not exist"
        )))
        .await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "INTERNAL");
        assert_eq!(body["error"]["message"], "Internal server error");
        assert!(!body.to_string().contains("relation"));
    }

    #[actix_web::test]
    async fn validation_lists_fields() {
        let mut fields = FieldErrors::new();
        fields.add("email", "is not a valid email");
        let (status, body) = body_of(ApiError::Validation(fields)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            body["error"]["details"]["fields"]["email"][0],
            "is not a valid email"
        );
    }

    #[actix_web::test]
    async fn diesel_errors_map_in_one_place() {
        assert!(matches!(
            ApiError::from(DieselError::NotFound),
            ApiError::NotFound(_)
        ));
        let err: Result<(), DieselError> = Err(DieselError::RollbackTransaction);
        assert!(matches!(
            err.on_constraint("x", || ApiError::Conflict("x".into())),
            Err(ApiError::Internal(_))
        ));
    }

    #[actix_web::test]
    async fn rate_limited_sets_retry_after() {
        let resp = ApiError::RateLimited(RateLimitInfo {
            limit: 5,
            retry_after_secs: 42,
        })
        .error_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers().get("retry-after").unwrap(), "42");
        assert_eq!(resp.headers().get("ratelimit-limit").unwrap(), "5");
    }

    #[test]
    fn camel_cases_field_names() {
        assert_eq!(to_camel_case("image_url"), "imageUrl");
        assert_eq!(to_camel_case("email"), "email");
    }
}
