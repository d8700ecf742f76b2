//! Rows made into what clients see: display data from the directory (one call
//! per page) and the caller's likes and follows (one query per page).

use std::collections::HashSet;

use common::ApiError;
use uuid::Uuid;

use crate::db;
use crate::db::models::{Comment, Video};
use crate::domain::Person;
use crate::dto::{Author, CommentDto, UserCard, VideoDto};
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
            VideoDto::new(video, Author::new(&author, profiles.of(&author)), liked)
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
