//! Meetings: create, list, read, edit, delete, join by code, leave, end, and the
//! participants. Only participants see a meeting (404 for anyone else); only its
//! host changes it (403 for the other participants).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use common::domain::double_option;
use common::pagination::{Page, PageQuery};
use common::tokens::AuthUser;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::dto::{ErrorEnvelope, MeetingDto, MeetingPage, ParticipantDto, ParticipantList};
use crate::db;
use crate::db::meetings::{Joined, MeetingChanges, NewMeeting, UserRef};
use crate::db::models::{Meeting, Participant};
use crate::domain::{Description, DurationMinutes, JoinCode, MeetingTitle, ScheduledAt};
use crate::live::Event;
use crate::state::AppState;

pub(crate) fn user_ref(user: &AuthUser) -> UserRef {
    UserRef {
        issuer: user.issuer.clone(),
        subject: user.subject.clone(),
    }
}

pub(crate) fn meeting_not_found() -> ApiError {
    ApiError::not_found("Meeting")
}

pub(crate) fn meeting_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| meeting_not_found())
}

fn meeting_ended() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        "MEETING_ENDED",
        "The meeting has ended",
    )
}

/// The meeting and the caller's place in it; 404 unless the caller takes part.
pub(crate) async fn membership(
    state: &AppState,
    id: Uuid,
    user: &AuthUser,
) -> Result<(Meeting, Participant), ApiError> {
    let who = user_ref(user);
    state
        .db
        .run(move |conn| db::meetings::membership(conn, id, &who))
        .await?
        .ok_or_else(meeting_not_found)
}

fn require_host(participant: &Participant) -> Result<(), ApiError> {
    if participant.is_host() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Only the host can do this".to_owned()))
    }
}

/// Stores the caller in the directory when it does not know them yet, so that
/// others see their name; a failure here does not stop the meeting action.
async fn ensure_profile(state: &AppState, user: &AuthUser) {
    if let Err(e) = super::profile::own_profile(state, user).await {
        tracing::warn!(error = %e, "profile not synced; the caller's name stays unknown");
    }
}

/// Create and edit bodies; `null` clears an optional field on edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeetingRequest {
    /// 1-200 characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    /// Up to 2000 characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub description: Option<Option<String>>,
    /// RFC 3339 date and time.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub scheduled_at: Option<Option<String>>,
    /// 1-1440.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, nullable)]
    pub duration_minutes: Option<Option<i64>>,
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
    request_body = MeetingRequest,
    responses(
        (status = 201, description = "Created; the caller is its host", body = MeetingDto),
        (status = 400, description = "Malformed JSON or wrong types", body = ErrorEnvelope),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid title, description, scheduledAt or durationMinutes", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<MeetingRequest>,
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
    /// scheduled, live or ended.
    pub status: Option<String>,
    pub page: Option<i64>,
    /// 1-100 (default 20).
    pub limit: Option<i64>,
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
    body: web::Json<MeetingRequest>,
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
        )
        .await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequest {
    /// `xxx-xxxx-xxx`; case, dashes and spaces do not matter.
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
    body: web::Json<JoinRequest>,
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
                    .publish(meeting.id, &Event::ParticipantJoined { participant })
                    .await;
            }
            Ok(HttpResponse::Ok().json(MeetingDto::from(*meeting)))
        }
        Joined::UnknownCode => Err(meeting_not_found()),
        Joined::Ended => Err(meeting_ended()),
        Joined::Removed => Err(ApiError::coded(
            StatusCode::FORBIDDEN,
            "REMOVED_FROM_MEETING",
            "The host removed you from this meeting",
        )),
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
        return Err(ApiError::coded(
            StatusCode::CONFLICT,
            "CANNOT_REMOVE_HOST",
            "The host cannot remove themselves; end the meeting instead",
        ));
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
                user_id: removed.subject,
                reason: "removed".into(),
            },
        )
        .await;
    Ok(HttpResponse::NoContent().finish())
}

pub(crate) fn ended_guard(meeting: &Meeting) -> Result<(), ApiError> {
    if meeting.status == "ended" {
        Err(meeting_ended())
    } else {
        Ok(())
    }
}
