use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{library_movies, saved_titles};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = saved_titles, check_for_backend(diesel::pg::Pg))]
pub struct SavedTitle {
    pub id: Uuid,
    pub owner_issuer: String,
    pub owner_subject: String,
    pub list: String,
    pub media_type: String,
    pub tmdb_id: i64,
    pub title: String,
    pub poster_path: Option<String>,
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = saved_titles)]
pub struct NewSavedTitle {
    pub id: Uuid,
    pub owner_issuer: String,
    pub owner_subject: String,
    pub list: String,
    pub media_type: String,
    pub tmdb_id: i64,
    pub title: String,
    pub poster_path: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = library_movies, check_for_backend(diesel::pg::Pg))]
pub struct LibraryMovie {
    pub id: Uuid,
    pub owner_issuer: String,
    pub owner_subject: String,
    pub title: String,
    pub year: i32,
    pub image_url: Option<String>,
    pub poster_etag: Option<String>,
    pub poster_content_type: Option<String>,
    pub poster_thumbnail_type: Option<String>,
    pub poster_width: Option<i32>,
    pub poster_height: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = library_movies)]
pub struct NewLibraryMovie {
    pub id: Uuid,
    pub owner_issuer: String,
    pub owner_subject: String,
    pub title: String,
    pub year: i32,
    pub image_url: Option<String>,
}

/// What an uploaded poster left in storage.
#[derive(Debug, Clone, AsChangeset)]
#[diesel(table_name = library_movies)]
pub struct PosterColumns {
    pub poster_etag: Option<String>,
    pub poster_content_type: Option<String>,
    pub poster_thumbnail_type: Option<String>,
    pub poster_width: Option<i32>,
    pub poster_height: Option<i32>,
}
