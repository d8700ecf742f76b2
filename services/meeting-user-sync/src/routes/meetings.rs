//! Meetings: create, list, read, edit, delete, join by code, leave, end, and the
//! participants. Only participants see a meeting (404 for anyone else); only its
//! host changes it (403 for the other participants).

use actix_web::{web, HttpResponse};
use common::domain::{double_option, double_option_whole_number};
use common::pagination::{Page, PageQuery};
use common::tokens::AuthUser;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db;
use crate::db::meetings::{Joined, MeetingChanges, NewMeeting, UserRef};
use crate::domain::{Description, DurationMinutes, JoinCode, MeetingTitle, ScheduledAt};
use crate::dto::{ErrorEnvelope, MeetingDto, MeetingPage, ParticipantDto, ParticipantList};
use crate::errors;
use crate::live::Event;
use crate::meetings::{meeting_id, meeting_not_found, membership, require_host, user_ref};
use crate::state::AppState;

/// Stores the caller in the directory when it does not know them yet, so that
/// others see their name; a failure here does not stop the meeting action.
async fn ensure_profile(state: &AppState, user: &AuthUser) {
    if let Err(e) = crate::directory::sync::own_profile(state, user).await {
        tracing::warn!(error = %e, "profile not synced; the caller's name stays unknown");
    }
}

/// Create and edit bodies; `null` clears an optional field on edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingRequest {
    /// Up to 200 characters, not only white space.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = "text", max_length = 200)]
    pub title: Option<Option<String>>,
    /// Up to 2000 characters, line breaks allowed; blank or `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "multiline-or-blank", max_length = 2000)]
    pub description: Option<Option<String>>,
    /// An RFC 3339 date and time; blank or `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_at: Option<Option<String>>,
    /// 1-1440; `null` clears it.
    #[serde(default, deserialize_with = "double_option_whole_number")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1440)]
    pub duration_minutes: Option<Option<i64>>,
}

/// `POST /api/meetings`: the title is required.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "documentation only")]
pub struct NewMeetingRequest {
    /// Up to 200 characters, not only white space.
    #[schema(format = "text", max_length = 200)]
    title: String,
    /// Up to 2000 characters, line breaks allowed; blank means none.
    #[schema(value_type = Option<String>, format = "multiline-or-blank", max_length = 2000)]
    description: Option<String>,
    /// An RFC 3339 date and time; blank means none.
    #[schema(value_type = Option<String>, format = DateTime)]
    scheduled_at: Option<String>,
    /// 1-1440.
    #[schema(minimum = 1, maximum = 1440)]
    duration_minutes: Option<i64>,
}

/// Checks a body; `creating` requires the title.
fn changes_of(body: MeetingRequest, creating: bool) -> Result<MeetingChanges, ApiError> {
    let mut errors = FieldErrors::new();
    let mut changes = MeetingChanges::default();
    match body.title {
        Some(Some(raw)) => match MeetingTitle::parse(&raw) {
            Ok(t) => changes.title = Some(t.into_inner()),
            Err(e) => errors.add("title", e),
        },
        Some(None) => errors.add("title", "must not be null"),
        None if creating => errors.add("title", "is required"),
        None => {}
    }
    match body.description {
        Some(Some(raw)) => match Description::parse(&raw) {
            Ok(d) => changes.description = Some(d.into_inner()),
            Err(e) => errors.add("description", e),
        },
        Some(None) => changes.description = Some(None),
        None => {}
    }
    match body.scheduled_at {
        Some(Some(raw)) if raw.trim().is_empty() => changes.scheduled_at = Some(None),
        Some(Some(raw)) => match ScheduledAt::parse(&raw) {
            Ok(t) => changes.scheduled_at = Some(Some(t.get())),
            Err(e) => errors.add("scheduledAt", e),
        },
        Some(None) => changes.scheduled_at = Some(None),
        None => {}
    }
    match body.duration_minutes {
        Some(Some(raw)) => match DurationMinutes::parse(raw) {
            Ok(d) => changes.duration_minutes = Some(Some(d.get())),
            Err(e) => errors.add("durationMinutes", e),
        },
        Some(None) => changes.duration_minutes = Some(None),
        None => {}
    }
    errors.into_result()?;
    Ok(changes)
}

#[utoipa::path(post, path = "/api/meetings", tag = "meetings", security(("bearer" = [])),
    request_body = NewMeetingRequest,
    responses(
        (status = 201, description = "Created; the caller is its host", body = MeetingDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid title, description, scheduledAt or durationMinutes", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: common::Json<MeetingRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = changes_of(body.into_inner(), true)?;
    ensure_profile(&state, &user).await;
    let new = NewMeeting {
        title: changes.title.unwrap_or_default(),
        description: changes.description.flatten(),
        scheduled_at: changes.scheduled_at.flatten(),
        duration_minutes: changes.duration_minutes.flatten(),
    };
    let host = user_ref(&user);
    let meeting = state
        .db
        .run(move |conn| db::meetings::create(conn, &new, &host))
        .await?;
    Ok(HttpResponse::Created().json(MeetingDto::from(meeting)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(value_type = Option<MeetingStatus>, inline)]
    pub status: Option<String>,
    /// Page number, 1-10000 (default 1).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
    /// 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Where a meeting is in its life.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code, reason = "documentation only")]
pub enum MeetingStatus {
    Scheduled,
    Live,
    Ended,
}

#[utoipa::path(get, path = "/api/meetings", tag = "meetings", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "Meetings the caller hosts or joined, newest first", body = MeetingPage),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 422, description = "Invalid status, page or limit", body = ErrorEnvelope),
    ))]
pub async fn list(
    state: web::Data<AppState>,
    user: AuthUser,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let mut errors = FieldErrors::new();
    let page = PageQuery {
        page: params.page,
        limit: params.limit,
    }
    .validate_into(&mut errors);
    let status = match params.status.as_deref() {
        None => None,
        Some(s @ ("scheduled" | "live" | "ended")) => Some(s.to_owned()),
        Some(_) => {
            errors.add("status", "must be scheduled, live or ended");
            None
        }
    };
    errors.into_result()?;
    let who = user_ref(&user);
    let (rows, total) = state
        .db
        .run(move |conn| db::meetings::list_for(conn, &who, status.as_deref(), page))
        .await?;
    let items = rows.into_iter().map(MeetingDto::from).collect();
    Ok(HttpResponse::Ok().json(Page::new(items, page, total)))
}

#[utoipa::path(get, path = "/api/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "The meeting", body = MeetingDto),
        (status = 401, description = "Missing or invalid token", body = ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (meeting, _) = membership(&state, meeting_id(&path)?, &user).await?;
    Ok(HttpResponse::Ok().json(MeetingDto::from(meeting)))
}

#[utoipa::path(patch, path = "/api/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    request_body = MeetingRequest,
    responses(
        (status = 200, description = "Updated", body = MeetingDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 403, description = "A participant who is not the host", body = ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's", body = ErrorEnvelope),
        (status = 422, description = "Invalid fields", body = ErrorEnvelope),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: common::Json<MeetingRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = changes_of(body.into_inner(), false)?;
    let (meeting, me) = membership(&state, meeting_id(&path)?, &user).await?;
    require_host(&me)?;
    let id = meeting.id;
    let updated = state
        .db
        .run(move |conn| db::meetings::update(conn, id, &changes))
        .await?;
    Ok(HttpResponse::Ok().json(MeetingDto::from(updated)))
}

#[utoipa::path(delete, path = "/api/meetings/{id}", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses(
        (status = 204, description = "Deleted with its participants and chat; live sockets are closed"),
        (status = 403, description = "A participant who is not the host", body = ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (meeting, me) = membership(&state, meeting_id(&path)?, &user).await?;
    require_host(&me)?;
    let id = meeting.id;
    state
        .db
        .run(move |conn| db::meetings::delete(conn, id))
        .await?;
    state
        .live
        .publish(
            id,
            &Event::MeetingEnded {
                reason: "deleted".into(),
            },
            None,
        )
        .await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequest {
    /// `xxx-xxxx-xxx`; case, dashes and spaces do not matter.
    #[schema(value_type = String, required = true, max_length = 64)]
    pub join_code: Option<String>,
}

#[utoipa::path(post, path = "/api/meetings/join", tag = "meetings", security(("bearer" = [])),
    request_body = JoinRequest,
    responses(
        (status = 200, description = "Joined (or already in); a scheduled meeting goes live", body = MeetingDto),
        (status = 403, description = "The host removed the caller from this meeting", body = ErrorEnvelope),
        (status = 404, description = "No meeting has this code", body = ErrorEnvelope),
        (status = 409, description = "The meeting has ended (MEETING_ENDED)", body = ErrorEnvelope),
        (status = 422, description = "Missing join code", body = ErrorEnvelope),
    ))]
pub async fn join(
    state: web::Data<AppState>,
    user: AuthUser,
    body: common::Json<JoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let raw = body
        .into_inner()
        .join_code
        .ok_or_else(|| ApiError::validation("joinCode", "is required"))?;
    // A code that cannot exist is as unknown as one that does not.
    let code = JoinCode::parse(&raw).ok_or_else(meeting_not_found)?;
    ensure_profile(&state, &user).await;
    let who = user_ref(&user);
    let joined = state
        .db
        .run(move |conn| db::meetings::join(conn, &code, &who))
        .await?;
    match joined {
        Joined::In { meeting, newly } => {
            if newly {
                let participant = participant_dto(&state, meeting.id, &user).await?;
                state
                    .live
                    .publish(meeting.id, &Event::ParticipantJoined { participant }, None)
                    .await;
            }
            Ok(HttpResponse::Ok().json(MeetingDto::from(*meeting)))
        }
        Joined::UnknownCode => Err(meeting_not_found()),
        Joined::Ended => Err(errors::meeting_ended()),
        Joined::Removed => Err(errors::removed_from_meeting()),
    }
}

/// The caller as a participant of `meeting`, with their directory name.
async fn participant_dto(
    state: &AppState,
    meeting: Uuid,
    user: &AuthUser,
) -> Result<ParticipantDto, ApiError> {
    let who = user_ref(user);
    let (participant, profile) = state
        .db
        .run(move |conn| {
            let membership = db::meetings::membership(conn, meeting, &who)?;
            let profile = db::meetings::profile_of(conn, &who)?;
            Ok((membership, profile))
        })
        .await?;
    let (_, participant) = participant.ok_or_else(meeting_not_found)?;
    Ok(ParticipantDto::new(participant, profile))
}

#[utoipa::path(post, path = "/api/meetings/{id}/leave", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses(
        (status = 204, description = "Left (joining again with the code is possible)"),
        (status = 404, description = "No such meeting among the caller's, or not present", body = ErrorEnvelope),
    ))]
pub async fn leave(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (meeting, _) = membership(&state, meeting_id(&path)?, &user).await?;
    let (id, who) = (meeting.id, user_ref(&user));
    let left = state
        .db
        .run(move |conn| db::meetings::leave(conn, id, &who))
        .await?;
    if !left {
        return Err(ApiError::NotFound("You are not in this meeting".to_owned()));
    }
    state
        .live
        .publish(
            id,
            &Event::ParticipantLeft {
                user_id: user.subject.clone(),
                reason: "left".into(),
            },
            Some(&user_ref(&user)),
        )
        .await;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/meetings/{id}/end", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "Ended (ending again changes nothing); live sockets are closed", body = MeetingDto),
        (status = 403, description = "A participant who is not the host", body = ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's", body = ErrorEnvelope),
    ))]
pub async fn end(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (meeting, me) = membership(&state, meeting_id(&path)?, &user).await?;
    require_host(&me)?;
    let id = meeting.id;
    match state
        .db
        .run(move |conn| db::meetings::end(conn, id))
        .await?
    {
        Some(ended) => {
            state
                .live
                .publish(
                    id,
                    &Event::MeetingEnded {
                        reason: "ended".into(),
                    },
                    None,
                )
                .await;
            Ok(HttpResponse::Ok().json(MeetingDto::from(ended)))
        }
        None => Ok(HttpResponse::Ok().json(MeetingDto::from(meeting))),
    }
}

#[utoipa::path(get, path = "/api/meetings/{id}/participants", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id")),
    responses(
        (status = 200, description = "Everyone who joined and was not removed, with directory names and avatars", body = ParticipantList),
        (status = 404, description = "No such meeting among the caller's", body = ErrorEnvelope),
    ))]
pub async fn participants(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (meeting, _) = membership(&state, meeting_id(&path)?, &user).await?;
    let id = meeting.id;
    let rows = state
        .db
        .run(move |conn| db::meetings::participants_of(conn, id))
        .await?;
    Ok(HttpResponse::Ok().json(ParticipantList {
        items: rows
            .into_iter()
            .map(|(p, profile)| ParticipantDto::new(p, profile))
            .collect(),
    }))
}

#[utoipa::path(delete, path = "/api/meetings/{id}/participants/{userId}", tag = "meetings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Meeting id"), ("userId" = String, Path, description = "The participant's user id")),
    responses(
        (status = 204, description = "Removed; they cannot join again and their live socket is closed"),
        (status = 403, description = "A participant who is not the host", body = ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's, or no such participant", body = ErrorEnvelope),
        (status = 409, description = "The host cannot remove themselves (CANNOT_REMOVE_HOST)", body = ErrorEnvelope),
    ))]
pub async fn remove_participant(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (raw_id, subject) = path.into_inner();
    let (meeting, me) = membership(&state, meeting_id(&raw_id)?, &user).await?;
    require_host(&me)?;
    if subject == me.subject {
        return Err(errors::cannot_remove_host());
    }
    let id = meeting.id;
    let target = subject.clone();
    let removed = state
        .db
        .run(move |conn| db::meetings::remove_participant(conn, id, &target))
        .await?
        .ok_or_else(|| ApiError::not_found("Participant"))?;
    state
        .live
        .publish(
            id,
            &Event::ParticipantLeft {
                user_id: removed.subject.clone(),
                reason: "removed".into(),
            },
            Some(&UserRef {
                issuer: removed.issuer,
                subject: removed.subject,
            }),
        )
        .await;
    Ok(HttpResponse::NoContent().finish())
}
