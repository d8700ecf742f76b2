//! A meeting's chat: posting (present participants, while the meeting has not
//! ended) and its history, newest first by keyset.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use common::pagination::{encode_cursor, CursorQuery};
use common::tokens::AuthUser;
use common::ApiError;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::domain::ChatText;
use crate::dto::{ErrorEnvelope, MessageDto, MessagePage};
use crate::live::Event;
use crate::meetings::{ended_guard, meeting_id, membership, require_present, user_ref};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageRequest {
    /// Up to 2000 characters, line breaks allowed, not blank.
    #[schema(value_type = String, required = true, format = "multiline", max_length = 2000)]
    pub text: Option<String>,
}

#[utoipa::path(post, path = "/api/meetings/{id}/messages", tag = "chat", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    request_body = MessageRequest,
    responses(
        (status = 201, description = "Posted; live sockets get message.created", body = MessageDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 403, description = "The caller left the meeting (NOT_PRESENT)", body = ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's", body = ErrorEnvelope),
        (status = 409, description = "The meeting has ended (MEETING_ENDED)", body = ErrorEnvelope),
        (status = 422, description = "Missing, empty or too long text", body = ErrorEnvelope),
    ))]
pub async fn post(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: common::Json<MessageRequest>,
) -> Result<HttpResponse, ApiError> {
    let text = match body.into_inner().text {
        Some(raw) => ChatText::parse(&raw).map_err(|e| ApiError::validation("text", &e))?,
        None => return Err(ApiError::validation("text", "is required")),
    };
    let (meeting, me) = membership(&state, meeting_id(&path)?, &user).await?;
    ended_guard(&meeting)?;
    require_present(&me, "chat")?;
    let (id, sender) = (meeting.id, user_ref(&user));
    let (message, profile) = state
        .db
        .run(move |conn| {
            let message = db::meetings::add_message(conn, id, &sender, &text.into_inner())?;
            let profile = db::meetings::profile_of(conn, &sender)?;
            Ok((message, profile))
        })
        .await?;
    let message = MessageDto::new(message, profile);
    state
        .live
        .publish(
            id,
            &Event::MessageCreated {
                message: message.clone(),
            },
            None,
        )
        .await;
    Ok(HttpResponse::Created().json(message))
}

#[utoipa::path(get, path = "/api/meetings/{id}/messages", tag = "chat", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"), CursorQuery),
    responses(
        (status = 200, description = "Newest first", body = MessagePage),
        (status = 404, description = "No such meeting among the caller's", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn history(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let (before, limit) = query.validate::<(DateTime<Utc>, Uuid)>()?;
    let (meeting, _) = membership(&state, meeting_id(&path)?, &user).await?;
    let id = meeting.id;
    let rows = state
        .db
        .run(move |conn| db::meetings::messages_of(conn, id, before, limit))
        .await?;
    let next_cursor = (rows.len() as i64 == limit)
        .then(|| {
            rows.last()
                .map(|(m, _)| encode_cursor(&(m.created_at, m.id)))
        })
        .flatten();
    Ok(HttpResponse::Ok().json(MessagePage {
        items: rows
            .into_iter()
            .map(|(m, profile)| MessageDto::new(m, profile))
            .collect(),
        next_cursor,
    }))
}
