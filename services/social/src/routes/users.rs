//! People: a profile with its counters, follows, followers and followings, and
//! the videos one liked (visible to them only).

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use common::pagination::CursorQuery;
use common::tokens::{AuthUser, MaybeUser};
use common::ApiError;

use super::{next_cursor, TimeKey};
use crate::db;
use crate::db::follows::PersonKey;
use crate::directory::{Lookup, Profile};
use crate::domain::Person;
use crate::dto::{ErrorEnvelope, FollowState, UserPage, UserProfile, VideoPage};
use crate::errors::{cannot_follow_self, directory_unavailable, user_not_found};
use crate::present;
use crate::state::AppState;

/// The person a path names by subject, and what the directory says of them:
/// someone the directory knows, or (when it does not, or cannot be asked)
/// someone this service has seen. `fresh` asks the directory even when this
/// replica remembers it did not know them. `Ok(None)`: nobody.
pub async fn resolve_subject(
    state: &AppState,
    raw: &str,
    fresh: bool,
) -> Result<Option<(Person, Option<Profile>)>, ApiError> {
    let subject = raw.trim().to_owned();
    if subject.is_empty() || subject.len() > 128 {
        return Ok(None);
    }
    let lookup = state.directory.lookup(&subject, fresh).await;
    let seen = {
        let subject = subject.clone();
        state
            .db
            .run(move |conn| Ok(db::follows::person_by_subject(conn, &subject)?))
            .await?
    };
    Ok(match lookup {
        Lookup::Known(profiles) => {
            // The issuer this service already knows them by, else first-party first.
            let chosen = seen
                .as_ref()
                .and_then(|p| profiles.iter().find(|q| q.issuer == p.issuer))
                .or_else(|| {
                    profiles
                        .iter()
                        .find(|q| q.issuer == common::issuer::FIRST_PARTY)
                })
                .or(profiles.first())
                .cloned();
            chosen.map(|profile| (profile.person(), Some(profile)))
        }
        Lookup::Unknown | Lookup::Unavailable => seen.map(|person| (person, None)),
    })
}

#[utoipa::path(get, path = "/api/users/{id}", tag = "users", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "User id (token subject)")),
    responses(
        (status = 200, description = "The profile and its counters", body = UserProfile),
        (status = 404, description = "Neither the directory nor this service knows them", body = ErrorEnvelope),
    ))]
pub async fn profile(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.as_ref().map(Person::of);
    let (person, profile) = resolve_subject(&state, &path, false)
        .await?
        .ok_or_else(user_not_found)?;
    let (stats, following, follows_you) = {
        let (person, viewer) = (person.clone(), viewer.clone());
        state
            .db
            .run(move |conn| {
                let stats = db::follows::stats_of(conn, &person)?;
                let (following, follows_you) = match &viewer {
                    Some(v) if *v != person => (
                        db::follows::follows(conn, v, &person)?,
                        db::follows::follows(conn, &person, v)?,
                    ),
                    _ => (false, false),
                };
                Ok((stats, following, follows_you))
            })
            .await?
    };
    Ok(HttpResponse::Ok().json(UserProfile {
        id: person.subject,
        name: profile.as_ref().and_then(|p| p.name.clone()),
        image_url: profile.as_ref().and_then(|p| p.image_url.clone()),
        bio: profile.and_then(|p| p.bio),
        follower_count: stats.follower_count,
        following_count: stats.following_count,
        video_count: stats.video_count,
        like_count: stats.like_count,
        following,
        follows_you,
    }))
}

async fn set_follow(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    follow: bool,
) -> Result<HttpResponse, ApiError> {
    let me = Person::of(&user);
    if path.trim() == me.subject {
        return Err(cannot_follow_self());
    }
    let followee = if follow {
        // Following needs someone the directory knows (or, while it cannot be
        // asked, someone this service has seen).
        let missing = match state.directory.lookup(path.trim(), true).await {
            Lookup::Unknown => return Err(user_not_found()),
            Lookup::Unavailable => directory_unavailable,
            Lookup::Known(_) => user_not_found,
        };
        resolve_subject(&state, &path, false)
            .await?
            .ok_or_else(missing)?
            .0
    } else {
        resolve_subject(&state, &path, false)
            .await?
            .ok_or_else(user_not_found)?
            .0
    };
    if followee == me {
        return Err(cannot_follow_self());
    }
    let (following, follower_count, notice) = state
        .db
        .run(move |conn| db::follows::set_follow(conn, &me, &followee, follow))
        .await?;
    state.notifier.announce(notice.as_slice()).await;
    Ok(HttpResponse::Ok().json(FollowState {
        following,
        follower_count,
    }))
}

#[utoipa::path(put, path = "/api/users/{id}/follow", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Following (again: no change)", body = FollowState),
        (status = 404, description = "The directory does not know this user", body = ErrorEnvelope),
        (status = 422, description = "CANNOT_FOLLOW_SELF", body = ErrorEnvelope),
    ))]
pub async fn follow(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_follow(state, user, path, true).await
}

#[utoipa::path(delete, path = "/api/users/{id}/follow", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Not following (again: no change)", body = FollowState),
        (status = 404, description = "No such user", body = ErrorEnvelope),
        (status = 422, description = "CANNOT_FOLLOW_SELF", body = ErrorEnvelope),
    ))]
pub async fn unfollow(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    set_follow(state, user, path, false).await
}

async fn people(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
    followers: bool,
) -> Result<HttpResponse, ApiError> {
    let (before, limit) = query.validate::<PersonKey>()?;
    let viewer = user.0.as_ref().map(Person::of);
    let (person, _) = resolve_subject(&state, &path, false)
        .await?
        .ok_or_else(user_not_found)?;
    let rows = state
        .db
        .run(move |conn| Ok(db::follows::list(conn, &person, followers, before, limit)?))
        .await?;
    let next = next_cursor(&rows, limit, |(p, at): &(Person, DateTime<Utc>)| {
        (*at, p.issuer.clone(), p.subject.clone())
    });
    let people: Vec<Person> = rows.into_iter().map(|(p, _)| p).collect();
    Ok(HttpResponse::Ok().json(UserPage {
        items: present::people(&state, viewer.as_ref(), people).await?,
        next_cursor: next,
    }))
}

#[utoipa::path(get, path = "/api/users/{id}/followers", tag = "users", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "User id"), CursorQuery),
    responses(
        (status = 200, description = "Who follows them, newest first; `following`: whether the caller follows each", body = UserPage),
        (status = 404, description = "No such user", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn followers(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    people(state, user, path, query, true).await
}

#[utoipa::path(get, path = "/api/users/{id}/following", tag = "users", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "User id"), CursorQuery),
    responses(
        (status = 200, description = "Whom they follow, newest first; `following`: whether the caller follows each", body = UserPage),
        (status = 404, description = "No such user", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn following(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    people(state, user, path, query, false).await
}

#[utoipa::path(get, path = "/api/users/{id}/likes", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id: the caller's own"), CursorQuery),
    responses(
        (status = 200, description = "Videos the caller liked, newest like first", body = VideoPage),
        (status = 404, description = "Anyone but the caller", body = ErrorEnvelope),
        (status = 422, description = "Invalid cursor or limit", body = ErrorEnvelope),
    ))]
pub async fn likes(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<CursorQuery>,
) -> Result<HttpResponse, ApiError> {
    let me = Person::of(&user);
    if path.trim() != me.subject {
        return Err(user_not_found());
    }
    let (before, limit) = query.validate::<TimeKey>()?;
    let who = me.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::videos::liked_by(conn, &who, before, limit)?))
        .await?;
    let next = next_cursor(&rows, limit, |(v, at): &(_, DateTime<Utc>)| (*at, v.id));
    let videos = rows.into_iter().map(|(v, _)| v).collect();
    Ok(HttpResponse::Ok().json(VideoPage {
        items: present::videos(&state, Some(&me), videos).await?,
        next_cursor: next,
    }))
}
