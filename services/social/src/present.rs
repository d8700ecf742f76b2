//! Rows made into what clients see: display data from the directory (one call
//! per page) and the caller's likes and follows (one query per page).

use std::collections::HashSet;

use common::ApiError;
use uuid::Uuid;

use crate::db;
use crate::db::models::{Comment, Video};
use crate::db::notifications::Notification;
use crate::domain::Person;
use crate::dto::{
    Author, CommentDto, CommentSummary, NotificationDto, UserCard, VideoDto, VideoSummary,
};
use crate::state::AppState;

pub async fn videos(
    state: &AppState,
    viewer: Option<&Person>,
    videos: Vec<Video>,
) -> Result<Vec<VideoDto>, ApiError> {
    let ids: Vec<Uuid> = videos.iter().map(|v| v.id).collect();
    let liked = match viewer {
        Some(viewer) => {
            let viewer = viewer.clone();
            state
                .db
                .run(move |conn| Ok(db::videos::liked_among(conn, &viewer, &ids)?))
                .await?
        }
        None => HashSet::new(),
    };
    let authors: Vec<Person> = videos.iter().map(Video::author).collect();
    let profiles = state.directory.profiles(&authors).await;
    Ok(videos
        .into_iter()
        .zip(authors)
        .map(|(video, author)| {
            let liked = liked.contains(&video.id);
            VideoDto::new(
                video,
                Author::new(&author, profiles.of(&author)),
                liked,
                state.settings.media_base(),
            )
        })
        .collect())
}

pub async fn video(
    state: &AppState,
    viewer: Option<&Person>,
    video: Video,
) -> Result<VideoDto, ApiError> {
    let mut one = videos(state, viewer, vec![video]).await?;
    one.pop()
        .ok_or_else(|| ApiError::internal("a presented video went missing"))
}

pub async fn comments(
    state: &AppState,
    viewer: Option<&Person>,
    comments: Vec<Comment>,
) -> Result<Vec<CommentDto>, ApiError> {
    let ids: Vec<Uuid> = comments.iter().map(|c| c.id).collect();
    let liked = match viewer {
        Some(viewer) => {
            let viewer = viewer.clone();
            state
                .db
                .run(move |conn| Ok(db::comments::liked_among(conn, &viewer, &ids)?))
                .await?
        }
        None => HashSet::new(),
    };
    let authors: Vec<Person> = comments.iter().map(Comment::author).collect();
    let profiles = state.directory.profiles(&authors).await;
    Ok(comments
        .into_iter()
        .zip(authors)
        .map(|(comment, author)| {
            let liked = liked.contains(&comment.id);
            CommentDto::new(comment, Author::new(&author, profiles.of(&author)), liked)
        })
        .collect())
}

pub async fn people(
    state: &AppState,
    viewer: Option<&Person>,
    people: Vec<Person>,
) -> Result<Vec<UserCard>, ApiError> {
    let followed = match viewer {
        Some(viewer) => {
            let (viewer, people) = (viewer.clone(), people.clone());
            state
                .db
                .run(move |conn| Ok(db::follows::followed_among(conn, &viewer, &people)?))
                .await?
        }
        None => HashSet::new(),
    };
    let profiles = state.directory.profiles(&people).await;
    Ok(people
        .iter()
        .map(|person| {
            let author = Author::new(person, profiles.of(person));
            UserCard {
                id: author.id,
                name: author.name,
                image_url: author.image_url,
                following: followed.contains(person),
            }
        })
        .collect())
}

pub async fn notifications(
    state: &AppState,
    rows: Vec<Notification>,
) -> Result<Vec<NotificationDto>, ApiError> {
    let video_ids: Vec<Uuid> = rows.iter().filter_map(|n| n.video_id).collect();
    let comment_ids: Vec<Uuid> = rows.iter().filter_map(|n| n.comment_id).collect();
    let (videos, comments) = state
        .db
        .run(move |conn| {
            Ok((
                db::videos::by_ids(conn, &video_ids)?,
                db::comments::by_ids(conn, &comment_ids)?,
            ))
        })
        .await?;
    let actors: Vec<Vec<Person>> = rows.iter().map(Notification::actors).collect();
    let profiles = state.directory.profiles(actors.iter().flatten()).await;
    Ok(rows
        .into_iter()
        .zip(actors)
        .map(|(n, actors)| NotificationDto {
            id: n.id,
            actors: actors
                .iter()
                .map(|p| Author::new(p, profiles.of(p)))
                .collect(),
            actor_count: n.actor_count,
            video: n
                .video_id
                .and_then(|id| videos.iter().find(|v| v.id == id))
                .map(|v| VideoSummary {
                    id: v.id,
                    caption: v.caption.clone(),
                    poster_url: v.urls(&v.media(), state.settings.media_base()).poster,
                }),
            comment: n
                .comment_id
                .and_then(|id| comments.iter().find(|c| c.id == id))
                .map(|c| CommentSummary {
                    id: c.id,
                    text: c.text.clone(),
                }),
            created_at: n.created_at,
            read: n.read_at.is_some(),
            kind: n.kind,
        })
        .collect())
}
