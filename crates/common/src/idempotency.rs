//! `Idempotency-Key` for creating requests that clients retry
//! (draft-ietf-httpapi-idempotency-key-header): the first successful answer to a
//! key is stored for 24 hours and replayed, with `Idempotent-Replayed: true`, to
//! a retry with the same request; the same key with another request is 422, and
//! a retry while the first is still running is 409. Failed answers are not
//! stored: a retry runs again.
//!
//! The answers live in the service's own database, in a table every service that
//! uses this creates with the same shape (see `migrations/social`):
//! `idempotency_keys (owner, key, fingerprint, state, status, body, resource,
//! created_at)`. An answer's `resource` is the `id` field of its body, if any:
//! deleting that resource forgets the answer ([`forget_resource`]), so a replay
//! never points at something gone (a retry then creates it again).

use std::future::Future;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Integer, Nullable, Text, Timestamptz};
use futures_util::future::{ready, Ready};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Db, Prepared};
use crate::error::ApiError;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
/// A stored answer is replayed this long.
const KEEP_HOURS: i32 = 24;
/// A key still marked running after this long belongs to a request that died:
/// the next retry runs it again.
const RUNNING_LEASE_SECS: i32 = 60;
pub const MAX_KEY_LEN: usize = 255;

/// The request's `Idempotency-Key`, when it has one: 1-255 visible ASCII
/// characters (422 otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    fn parse(req: &HttpRequest) -> Result<Self, ApiError> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(Self(None));
        };
        let key = value.to_str().unwrap_or_default();
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::validation(
                "Idempotency-Key",
                "must be 1-255 visible ASCII characters",
            ));
        }
        Ok(Self(Some(key.to_owned())))
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::parse(req))
    }
}

/// The header, for a route's OpenAPI parameters: `params(IdempotencyHeader)`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Makes retries safe: the same key with the same request within 24 hours
    /// answers what the first did (with `Idempotent-Replayed: true`); another
    /// request with the key is 422, and a retry while the first runs is 409.
    #[param(
        rename = "Idempotency-Key",
        value_type = String,
        required = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    pub idempotency_key: Option<String>,
}

/// [`IdempotencyHeader`] for routes that refuse requests without it (400).
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct RequiredIdempotencyHeader {
    /// Required. Makes retries safe: the same key with the same request within
    /// 24 hours answers what the first did (with `Idempotent-Replayed: true`);
    /// another request with the key is 422, and a retry while the first runs
    /// is 409.
    #[param(
        rename = "Idempotency-Key",
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]+$"
    )]
    pub idempotency_key: String,
}

/// When this request took its key (the key row's `created_at`): a retry that
/// takes over a key whose lease ran out stamps it anew, so the first request,
/// if it still runs, can neither store its answer over the retry's nor release
/// the retry's key.
type Claim = DateTime<Utc>;

enum Begun {
    Fresh(Claim),
    Replay {
        status: u16,
        body: Vec<u8>,
    },
    /// A stored answer whose request is not known yet (streamed bodies).
    Done {
        fingerprint: String,
        status: u16,
        body: Vec<u8>,
    },
    Running,
    OtherRequest,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    fingerprint: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Nullable<Integer>)]
    status: Option<i32>,
    #[diesel(sql_type = Nullable<Bytea>)]
    body: Option<Vec<u8>>,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    stale: bool,
}

/// Takes `(owner, key)` for a request. With `fingerprint` `None` (a body read
/// later) a stored answer comes back as `Done`, for the caller to compare.
fn begin(
    conn: &mut PgConnection,
    owner: &str,
    key: &str,
    fingerprint: Option<&str>,
    lease_secs: i32,
) -> QueryResult<Begun> {
    let pending = fingerprint.unwrap_or("");
    let claim = |conn: &mut PgConnection| {
        Prepared::new(
            "INSERT INTO idempotency_keys (owner, key, fingerprint, state) VALUES ($1, $2, $3, 'running') \
             ON CONFLICT (owner, key) DO NOTHING RETURNING created_at",
        )
        .bind::<Text, _>(owner)
        .bind::<Text, _>(key)
        .bind::<Text, _>(pending)
        .get_result::<Claimed>(conn)
        .optional()
    };
    // A new key, the usual case, in one statement of its own; a key seen
    // before is read and decided on in a transaction.
    if let Some(claimed) = claim(conn)? {
        return Ok(Begun::Fresh(claimed.created_at));
    }
    conn.transaction(|conn| {
        if let Some(claimed) = claim(conn)? {
            return Ok(Begun::Fresh(claimed.created_at));
        }
        let row: Row = diesel::sql_query(format!(
            "SELECT fingerprint, state, status, body, \
               (created_at < now() - interval '{KEEP_HOURS} hours') \
               OR (state = 'running' AND created_at < now() - interval '{lease_secs} seconds') AS stale \
             FROM idempotency_keys WHERE owner = $1 AND key = $2 FOR UPDATE"
        ))
        .bind::<Text, _>(owner)
        .bind::<Text, _>(key)
        .get_result(conn)?;
        if row.stale {
            let claimed = diesel::sql_query(
                "UPDATE idempotency_keys SET fingerprint = $3, state = 'running', status = NULL, \
                   body = NULL, created_at = clock_timestamp() WHERE owner = $1 AND key = $2 \
                 RETURNING created_at",
            )
            .bind::<Text, _>(owner)
            .bind::<Text, _>(key)
            .bind::<Text, _>(pending)
            .get_result::<Claimed>(conn)?;
            return Ok(Begun::Fresh(claimed.created_at));
        }
        let Some(fingerprint) = fingerprint else {
            return match (row.state.as_str(), row.status, row.body) {
                ("done", Some(status), Some(body)) => Ok(Begun::Done {
                    fingerprint: row.fingerprint,
                    status: u16::try_from(status).unwrap_or(200),
                    body,
                }),
                _ => Ok(Begun::Running),
            };
        };
        if row.fingerprint != fingerprint {
            return Ok(Begun::OtherRequest);
        }
        match (row.state.as_str(), row.status, row.body) {
            ("done", Some(status), Some(body)) => Ok(Begun::Replay {
                status: u16::try_from(status).unwrap_or(200),
                body,
            }),
            _ => Ok(Begun::Running),
        }
    })
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

struct Answer<'a> {
    fingerprint: &'a str,
    status: u16,
    body: &'a [u8],
    resource: Option<&'a str>,
}

/// Stores `answer` for the key this request claimed; `false` when a retry has
/// taken the key over since (the key is the retry's now).
fn finish(
    conn: &mut PgConnection,
    owner: &str,
    key: &str,
    claim: Claim,
    answer: &Answer<'_>,
) -> QueryResult<bool> {
    Prepared::new(
        "UPDATE idempotency_keys SET state = 'done', fingerprint = $1, status = $2, body = $3, \
           resource = $4 WHERE owner = $5 AND key = $6 AND state = 'running' AND created_at = $7",
    )
    .bind::<Text, _>(answer.fingerprint)
    .bind::<Integer, _>(i32::from(answer.status))
    .bind::<Bytea, _>(answer.body)
    .bind::<Nullable<Text>, _>(answer.resource)
    .bind::<Text, _>(owner)
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(claim)
    .execute(conn)
    .map(|n| n == 1)
}

/// Forgets the answers that created `resource` (call it where it is deleted, in
/// the same transaction).
pub fn forget_resource(conn: &mut PgConnection, resource: &str) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM idempotency_keys WHERE resource = $1")
        .bind::<Text, _>(resource)
        .execute(conn)
}

/// Releases the key this request claimed (not one a retry took over since).
fn forget(conn: &mut PgConnection, owner: &str, key: &str, claim: Claim) -> QueryResult<()> {
    Prepared::new(
        "DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 AND state = 'running' \
         AND created_at = $3",
    )
    .bind::<Text, _>(owner)
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(claim)
    .execute(conn)
    .map(|_| ())
}

fn taken_over() -> ApiError {
    ApiError::Conflict(
        "This request outlasted its Idempotency-Key's lease and a retry has taken the key; \
         its work was not kept"
            .to_owned(),
    )
}

/// Deletes stored answers past their 24 hours (a maintenance task calls it).
pub fn prune(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "DELETE FROM idempotency_keys WHERE created_at < now() - interval '{KEEP_HOURS} hours'"
    ))
    .execute(conn)
}

/// The fingerprint of a request: what it asks for, as the handler read it, in
/// canonical JSON (object keys sorted), so field order never matters.
pub fn fingerprint(request: &impl Serialize) -> Result<String, ApiError> {
    let canonical = serde_json::to_value(request).map_err(|e| ApiError::Internal(e.into()))?;
    let bytes = serde_json::to_vec(&canonical).map_err(|e| ApiError::Internal(e.into()))?;
    let digest = Sha256::digest(&bytes);
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn json_response(status: u16, body: Vec<u8>, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.content_type("application/json");
    if replayed {
        response.insert_header((REPLAYED, "true"));
    }
    response.body(body)
}

fn still_running() -> ApiError {
    ApiError::Conflict(
        "A request with this Idempotency-Key is still running; retry later".to_owned(),
    )
}

fn used_with_another_request() -> ApiError {
    ApiError::validation("Idempotency-Key", "was used with another request")
}

/// Runs `work` once per `(owner, key)` and request `fingerprint`: a retry of the
/// same request gets the stored answer, another request with the key 422, a
/// retry while the first runs 409. Without a key, `work` just runs. `work`
/// answers a status and a JSON body; an error is answered and not stored.
pub async fn run<T, F, Fut>(
    db: &Db,
    key: &IdempotencyKey,
    owner: &str,
    fingerprint: String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(StatusCode, T), ApiError>>,
{
    let Some(which) = key.0.clone() else {
        let (status, body) = work().await?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let (who, print) = (owner.to_owned(), fingerprint.clone());
    let begun = db
        .run(move |conn| Ok(begin(conn, &who, &which, Some(&print), RUNNING_LEASE_SECS)?))
        .await?;
    let claim = match stored_answer(begun)? {
        Stored::Replay(status, body) => return Ok(json_response(status, body, true)),
        Stored::Claimed(claim) => claim,
    };
    let outcome = work().await;
    store(db, key, owner, &fingerprint, claim, outcome).await
}

/// [`run`] for work that is all database work: taking the key, the work and
/// storing its answer (or releasing the key after an error) run on one pooled
/// connection in one blocking task, instead of three trips through the pool.
/// The key is still taken in a statement of its own, committed before the
/// work, so a retry while the first runs sees it (409). The work runs in a
/// transaction that also stores its answer: what it wrote and the answer a
/// retry replays commit together (a crash in between can no longer leave
/// work done under a key still taken, which a retry after the lease would do
/// again). An error rolls the work back and releases the key. A request that
/// outlasts the lease and finds its key taken over by a retry rolls its work
/// back and answers 409: the retry's work is the one kept.
pub async fn run_with_connection<T, F>(
    db: &Db,
    key: &IdempotencyKey,
    owner: &str,
    fingerprint: String,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut PgConnection) -> Result<(StatusCode, T), ApiError> + Send + 'static,
{
    let Some(which) = key.0.clone() else {
        let (status, body) = db.run(|conn| conn.transaction(work)).await?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let who = owner.to_owned();
    let (status, body, replayed) = db
        .run(move |conn| {
            let begun = begin(conn, &who, &which, Some(&fingerprint), RUNNING_LEASE_SECS)?;
            let claim = match stored_answer(begun)? {
                Stored::Replay(status, body) => return Ok((status, body, true)),
                Stored::Claimed(claim) => claim,
            };
            let done = conn.transaction(|conn| {
                let (status, body) = work(conn)?;
                let (bytes, resource) = answer_of(&body)?;
                let answer = Answer {
                    fingerprint: &fingerprint,
                    status: status.as_u16(),
                    body: &bytes,
                    resource: resource.as_deref(),
                };
                // Taken over: the retry does the work; this work rolls back.
                if !finish(conn, &who, &which, claim, &answer)? {
                    tracing::warn!(idempotency.owner = %who, idempotency.key = %which,
                        "a request outlasted its Idempotency-Key's lease and a retry took the key; its work is rolled back");
                    return Err(taken_over());
                }
                Ok::<_, ApiError>((status.as_u16(), bytes))
            });
            match done {
                Ok((status, bytes)) => Ok((status, bytes, false)),
                Err(e) => {
                    if let Err(forget_error) = forget(conn, &who, &which, claim) {
                        tracing::warn!(error = %forget_error, "idempotency key not released");
                    }
                    Err(e)
                }
            }
        })
        .await?;
    Ok(json_response(status, body, replayed))
}

/// What a request that knows its fingerprint does with its key.
enum Stored {
    /// Answer this, stored by the first request.
    Replay(u16, Vec<u8>),
    /// Run: the key is this request's.
    Claimed(Claim),
}

/// What the key's state says of a request that knows its fingerprint: the
/// stored answer to replay, 409 while the first runs, 422 for another
/// request, or run it.
fn stored_answer(begun: Begun) -> Result<Stored, ApiError> {
    match begun {
        Begun::Replay { status, body } => Ok(Stored::Replay(status, body)),
        Begun::Fresh(claim) => Ok(Stored::Claimed(claim)),
        Begun::Running => Err(still_running()),
        Begun::OtherRequest => Err(used_with_another_request()),
        // Only a request whose fingerprint is not known yet finds this.
        Begun::Done { .. } => Err(ApiError::internal("a stored answer without its request")),
    }
}

/// A successful answer as stored: its JSON bytes and its `id`, if any.
fn answer_of<T: Serialize>(body: &T) -> Result<(Vec<u8>, Option<String>), ApiError> {
    let value = serde_json::to_value(body).map_err(|e| ApiError::Internal(e.into()))?;
    let resource = value
        .get("id")
        .and_then(|id| id.as_str())
        .map(str::to_owned);
    let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((bytes, resource))
}

/// Stores a successful answer for `key` (or forgets the key after an error, so
/// that a retry runs again) and answers it.
async fn store<T: Serialize>(
    db: &Db,
    key: &IdempotencyKey,
    owner: &str,
    fingerprint: &str,
    claim: Claim,
    outcome: Result<(StatusCode, T), ApiError>,
) -> Result<HttpResponse, ApiError> {
    let Some(which) = key.0.clone() else {
        let (status, body) = outcome?;
        return Ok(HttpResponse::build(status).json(body));
    };
    let who = owner.to_owned();
    let key_name = which.clone();
    match outcome {
        Ok((status, body)) => {
            let (bytes, resource) = answer_of(&body)?;
            let (stored, print) = (bytes.clone(), fingerprint.to_owned());
            let kept = db
                .run(move |conn| {
                    let answer = Answer {
                        fingerprint: &print,
                        status: status.as_u16(),
                        body: &stored,
                        resource: resource.as_deref(),
                    };
                    Ok(finish(conn, &who, &which, claim, &answer)?)
                })
                .await?;
            if !kept {
                // The work is done and cannot be undone here; the retry that
                // took the key keeps its own answer.
                tracing::warn!(idempotency.owner = %owner, idempotency.key = %key_name,
                    "a request outlasted its Idempotency-Key's lease and a retry took the key; its answer was not stored");
            }
            Ok(json_response(status.as_u16(), bytes, false))
        }
        Err(e) => {
            // Not stored: a retry runs again. Failing to forget leaves the key
            // running until its lease ends.
            if let Err(forget_error) = db
                .run(move |conn| Ok(forget(conn, &who, &which, claim)?))
                .await
            {
                tracing::warn!(error = %forget_error, "idempotency key not released");
            }
            Err(e)
        }
    }
}

/// `Idempotency-Key` for a request whose body is read as it is handled (an
/// upload): the key is taken before the body is read, so a retry while the
/// first runs is 409 at once; the request's fingerprint is known only after.
pub struct Streamed {
    key: IdempotencyKey,
    owner: String,
    stored: Option<(String, u16, Vec<u8>)>,
    claim: Option<Claim>,
}

impl Streamed {
    /// Takes the key (409 while another request holds it; a holder that died
    /// releases it after `lease_secs`).
    pub async fn begin(
        db: &Db,
        key: &IdempotencyKey,
        owner: &str,
        lease_secs: i32,
    ) -> Result<Self, ApiError> {
        let mut streamed = Self {
            key: key.clone(),
            owner: owner.to_owned(),
            stored: None,
            claim: None,
        };
        let Some(which) = key.0.clone() else {
            return Ok(streamed);
        };
        let who = owner.to_owned();
        match db
            .run(move |conn| Ok(begin(conn, &who, &which, None, lease_secs)?))
            .await?
        {
            Begun::Running => Err(still_running()),
            Begun::Done {
                fingerprint,
                status,
                body,
            } => {
                streamed.stored = Some((fingerprint, status, body));
                Ok(streamed)
            }
            Begun::Fresh(claim) => {
                streamed.claim = Some(claim);
                Ok(streamed)
            }
            Begun::Replay { .. } | Begun::OtherRequest => Ok(streamed),
        }
    }

    /// Whether an answer is stored for the key: the request is only compared.
    pub fn answered(&self) -> bool {
        self.stored.is_some()
    }

    /// The stored answer, for a request that turned out to be `fingerprint`:
    /// replayed when it is the same request, 422 otherwise.
    pub fn replay(self, fingerprint: &str) -> Result<HttpResponse, ApiError> {
        match self.stored {
            Some((stored, status, body)) if stored == fingerprint => {
                Ok(json_response(status, body, true))
            }
            Some(_) => Err(used_with_another_request()),
            None => Err(ApiError::internal("no stored answer to replay")),
        }
    }

    /// Stores the outcome of a request first handled under the key (an error
    /// releases the key) and answers it.
    pub async fn finish<T: Serialize>(
        self,
        db: &Db,
        fingerprint: &str,
        outcome: Result<(StatusCode, T), ApiError>,
    ) -> Result<HttpResponse, ApiError> {
        match self.claim {
            Some(claim) => store(db, &self.key, &self.owner, fingerprint, claim, outcome).await,
            // No key (or an answer already stored: `replay` answers that).
            None => {
                let (status, body) = outcome?;
                Ok(HttpResponse::build(status).json(body))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_field_order_but_not_values() {
        #[derive(Serialize)]
        struct Ab {
            a: u8,
            b: Option<u8>,
        }
        #[derive(Serialize)]
        struct Ba {
            b: Option<u8>,
            a: u8,
        }
        let ab = fingerprint(&Ab { a: 1, b: None }).unwrap();
        assert_eq!(ab, fingerprint(&Ba { b: None, a: 1 }).unwrap());
        assert_ne!(ab, fingerprint(&Ab { a: 2, b: None }).unwrap());
        assert_eq!(ab.len(), 64);
    }
}
