//! The caller's notifications: a list grouped while unread, the unread count,
//! marking read, and a server-sent-event stream of new ones across replicas.

use std::collections::VecDeque;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use common::tokens::AuthUser;
use common::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db;
use crate::db::notifications::TYPES;
use crate::domain::Person;
use crate::dto::{ErrorEnvelope, NotificationDto, NotificationPage, UnreadCount};
use crate::present;
use crate::state::AppState;

/// A stream that sent nothing for this long sends a comment, so proxies and
/// clients keep it open.
const HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Opaque cursor from the previous page's `nextCursor`.
    #[param(max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Comma-separated types to include: `like`, `comment`, `reply`, `follow`
    /// (default: all).
    #[param(
        max_length = 100,
        pattern = "^(like|comment|reply|follow)(,(like|comment|reply|follow))*$"
    )]
    pub types: Option<String>,
}

fn types_of(raw: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let types: Vec<String> = raw.split(',').map(|t| t.trim().to_owned()).collect();
    if raw.len() > 100 || types.iter().any(|t| !TYPES.contains(&t.as_str())) {
        return Err(ApiError::validation(
            "types",
            "must list like, comment, reply or follow, comma-separated (at most 100 characters)",
        ));
    }
    Ok(types)
}

#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "Latest change first; unread ones on the same target grouped (`actors`: the latest three, `actorCount`: all)", body = NotificationPage),
        (status = 422, description = "Invalid cursor, limit or types", body = ErrorEnvelope),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let types = types_of(query.types.as_deref())?;
    let (before, limit) = common::pagination::CursorQuery {
        cursor: query.cursor,
        limit: query.limit,
    }
    .validate::<i64>()?;
    let me = Person::of(&user);
    let who = me.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::notifications::list(conn, &who, &types, before, limit)?))
        .await?;
    let next = super::next_cursor(&rows, limit, |n| n.seq);
    Ok(HttpResponse::Ok().json(NotificationPage {
        items: present::notifications(&state, rows).await?,
        next_cursor: next,
    }))
}

#[utoipa::path(get, path = "/api/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "Unread notifications (groups)", body = UnreadCount)))]
pub async fn unread_count(
    state: web::Data<AppState>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let me = Person::of(&user);
    let count = state
        .db
        .run(move |conn| Ok(db::notifications::unread_count(conn, &me)?))
        .await?;
    Ok(HttpResponse::Ok().json(UnreadCount { count }))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadRequest {
    /// A notification of the caller's: it and every older one are read. Absent:
    /// all.
    #[schema(value_type = Option<Uuid>)]
    pub up_to: Option<String>,
}

#[utoipa::path(post, path = "/api/notifications/read", tag = "notifications", security(("bearer" = [])),
    request_body = ReadRequest,
    responses(
        (status = 200, description = "Marked read; the unread count left", body = UnreadCount),
        (status = 422, description = "upTo is not one of the caller's notifications", body = ErrorEnvelope),
    ))]
pub async fn read(
    state: web::Data<AppState>,
    user: AuthUser,
    body: common::Json<ReadRequest>,
) -> Result<HttpResponse, ApiError> {
    let not_theirs = || ApiError::validation("upTo", "is not one of your notifications");
    let up_to = match body.into_inner().up_to {
        None => None,
        Some(raw) => Some(Uuid::parse_str(raw.trim()).map_err(|_| not_theirs())?),
    };
    let me = Person::of(&user);
    let count = state
        .db
        .run(move |conn| {
            db::notifications::mark_read(conn, &me, up_to)?.ok_or_else(not_theirs)?;
            Ok(db::notifications::unread_count(conn, &me)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(UnreadCount { count }))
}

fn event(id: Option<i64>, name: &str, data: &impl Serialize) -> Bytes {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    let id = id.map(|i| format!("id: {i}\n")).unwrap_or_default();
    Bytes::from(format!("{id}event: {name}\ndata: {data}\n\n"))
}

struct Stream {
    state: web::Data<AppState>,
    me: Person,
    ids: tokio::sync::mpsc::Receiver<Uuid>,
    queue: VecDeque<Bytes>,
    last_seq: i64,
    heartbeat: tokio::time::Interval,
    ends: tokio::time::Instant,
    ended: bool,
}

impl Stream {
    /// The notification `id` and the unread count, unless it was sent already.
    async fn queue_notice(&mut self, id: Uuid) -> Result<(), ApiError> {
        let found = self
            .state
            .db
            .run(move |conn| Ok(db::notifications::find(conn, id)?))
            .await?;
        let Some(n) = found.filter(|n| n.recipient() == self.me && n.seq > self.last_seq) else {
            return Ok(());
        };
        self.queue_rows(vec![n]).await
    }

    async fn queue_rows(
        &mut self,
        rows: Vec<crate::db::notifications::Notification>,
    ) -> Result<(), ApiError> {
        let seqs: Vec<i64> = rows.iter().map(|n| n.seq).collect();
        let dtos: Vec<NotificationDto> = present::notifications(&self.state, rows).await?;
        for (seq, dto) in seqs.into_iter().zip(dtos) {
            self.last_seq = self.last_seq.max(seq);
            self.queue.push_back(event(Some(seq), "notification", &dto));
        }
        let me = self.me.clone();
        let count = self
            .state
            .db
            .run(move |conn| Ok(db::notifications::unread_count(conn, &me)?))
            .await?;
        self.queue
            .push_back(event(None, "unread", &UnreadCount { count }));
        Ok(())
    }

    async fn next(mut self) -> Option<(Result<Bytes, actix_web::Error>, Self)> {
        loop {
            if let Some(chunk) = self.queue.pop_front() {
                self.heartbeat.reset();
                return Some((Ok(chunk), self));
            }
            if self.ended {
                return None;
            }
            tokio::select! {
                id = self.ids.recv() => match id {
                    Some(id) => {
                        if let Err(e) = self.queue_notice(id).await {
                            tracing::warn!(error = %e, "notification not streamed; the client catches up on reconnect");
                            self.ended = true;
                        }
                    }
                    // Dropped as too slow: end, the client reconnects.
                    None => self.ended = true,
                },
                _ = self.heartbeat.tick() => {
                    self.queue.push_back(Bytes::from_static(b": keep-alive\n\n"));
                }
                _ = tokio::time::sleep_until(self.ends) => {
                    // The token expired: the client reconnects with a new one.
                    self.queue.push_back(event(None, "token.expired", &serde_json::json!({})));
                    self.ended = true;
                }
            }
        }
    }
}

#[utoipa::path(get, path = "/api/notifications/stream", tag = "notifications", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<i64>, Header, description = "The `id` of the last event received: what came after it is sent first")),
    responses(
        (status = 200, description = "`text/event-stream`: `notification` events (id: the change's sequence number), each followed by `unread {count}`; a comment every 15 s; `token.expired` then the end when the token expires", content_type = "text/event-stream", body = String),
    ))]
pub async fn stream(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let me = Person::of(&user);
    let last: Option<i64> = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    // Subscribed before the backlog is read: nothing falls between the two.
    let ids = state.notifier.subscribe(&me);
    let now = chrono::Utc::now().timestamp();
    let left = u64::try_from(user.expires_at.saturating_sub(now)).unwrap_or(0);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.reset();
    let mut stream = Stream {
        state: state.clone(),
        me: me.clone(),
        ids,
        queue: VecDeque::from([Bytes::from_static(b"retry: 3000\n\n")]),
        last_seq: last.unwrap_or(i64::MAX),
        heartbeat,
        ends: tokio::time::Instant::now() + Duration::from_secs(left),
        ended: false,
    };
    match last {
        Some(last) => {
            let who = me.clone();
            let missed = state
                .db
                .run(move |conn| Ok(db::notifications::since(conn, &who, last, 100)?))
                .await?;
            stream.last_seq = last;
            stream.queue_rows(missed).await?;
        }
        None => {
            // New notifications only; the current unread count first.
            let who = me.clone();
            let (count, top) = state
                .db
                .run(move |conn| {
                    let count = db::notifications::unread_count(conn, &who)?;
                    let top = db::notifications::list(conn, &who, &[], None, 1)?;
                    Ok((count, top.first().map(|n| n.seq).unwrap_or(0)))
                })
                .await?;
            stream.last_seq = top;
            stream
                .queue
                .push_back(event(None, "unread", &UnreadCount { count }));
        }
    }
    let body = futures_util::stream::unfold(stream, Stream::next);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
