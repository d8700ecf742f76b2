//! Uploading and serving a library movie's poster.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use common::images::{read_upload, UploadForm};
use common::ratelimit::Limit;
use common::tokens::AuthUser;
use common::ApiError;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::dto::{ErrorEnvelope, LibraryMovieDto};
use super::library::{movie_id, not_found};
use crate::catalog::etag_matches;
use crate::db::models::PosterColumns;
use crate::db::{self, Owner};
use crate::posters::{self, PosterSize};
use crate::state::AppState;

/// The form fields a poster may be sent in.
const FILE_FIELDS: &[&str] = &["poster", "file"];

/// `multipart/form-data` with the image in a field named `poster` (`file` is
/// taken too), and no other field.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "documentation only")]
pub struct PosterUpload {
    /// PNG, JPEG or WebP, at most 5 MB.
    #[schema(value_type = String, format = Binary)]
    poster: Vec<u8>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PosterParams {
    /// original (default), w92 or w342.
    #[param(schema_with = super::doc::poster_sizes)]
    pub size: Option<String>,
}

#[utoipa::path(put, path = "/api/library/movies/{id}/poster", tag = "library", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Movie id")),
    request_body(content = PosterUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "Stored with w92 and w342 thumbnails", body = LibraryMovieDto),
        (status = 400, description = "Malformed multipart body", body = ErrorEnvelope),
        (status = 404, description = "No such movie in the caller's library", body = ErrorEnvelope),
        (status = 413, description = "Larger than 5 MB", body = ErrorEnvelope),
        (status = 415, description = "Not multipart, or not a PNG, JPEG or WebP image (read from the bytes)", body = ErrorEnvelope),
        (status = 422, description = "No file, an image that cannot be decoded, or one over 8192 pixels a side or 16.7 megapixels", body = ErrorEnvelope),
        (status = 429, description = "Too many uploads by this user, or every decoding slot of the replica busy", body = ErrorEnvelope),
    ))]
pub async fn upload(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    mut payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let id = movie_id(&path)?;
    let owner = Owner::from(&user);
    let lookup = owner.clone();
    state
        .db
        .run(move |conn| db::library::find(conn, &lookup, id))
        .await?
        .ok_or_else(not_found)?;
    state
        .limiter
        .check(
            &Limit::per_minute(
                "poster_upload",
                state.settings.poster_uploads_per_user_per_min,
            ),
            &format!("{}:{}", user.issuer, user.subject),
        )
        .await?;
    let form = UploadForm {
        field: "poster",
        accepted: FILE_FIELDS,
        max_bytes: state.settings.poster_max_bytes,
    };
    let original = read_upload(&mut payload, &form).await?;
    let poster = common::images::process_upload(
        &state.decoding,
        original,
        posters::THUMBNAIL_WIDTHS,
        "poster",
    )
    .await?;
    state
        .posters
        .save(id, &poster)
        .await
        .map_err(|e| ApiError::internal(format!("storing the poster: {e}")))?;
    let columns = PosterColumns {
        poster_etag: Some(poster.etag.clone()),
        poster_content_type: Some(poster.kind.content_type().to_owned()),
        poster_thumbnail_type: Some(poster.thumbnail_type.to_owned()),
        poster_width: i32::try_from(poster.width).ok(),
        poster_height: i32::try_from(poster.height).ok(),
    };
    let updated = state
        .db
        .run(move |conn| db::library::set_poster(conn, &owner, id, &columns))
        .await?;
    match updated {
        Some(row) => Ok(HttpResponse::Ok().json(LibraryMovieDto::from(row))),
        None => {
            // Deleted while the upload was processed: do not leave its images behind.
            let _ = state.posters.delete(id).await;
            Err(not_found())
        }
    }
}

#[utoipa::path(get, path = "/api/library/movies/{id}/poster", tag = "library", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Movie id"), PosterParams),
    responses(
        (status = 200, description = "The image, with ETag and Cache-Control", content_type = "image/*"),
        (status = 304, description = "`If-None-Match` matched"),
        (status = 404, description = "No such movie, or no poster uploaded", body = ErrorEnvelope),
        (status = 422, description = "Unknown size", body = ErrorEnvelope),
    ))]
pub async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    params: web::Query<PosterParams>,
) -> Result<HttpResponse, ApiError> {
    let id = movie_id(&path)?;
    let size = match params.size.as_deref().map(str::trim) {
        None => PosterSize::Original,
        Some(raw) => PosterSize::parse(raw).ok_or_else(|| {
            ApiError::validation(
                "size",
                &format!("must be one of {}", PosterSize::ACCEPTED.join(", ")),
            )
        })?,
    };
    let owner = Owner::from(&user);
    let movie = state
        .db
        .run(move |conn| db::library::find(conn, &owner, id))
        .await?
        .ok_or_else(not_found)?;
    let no_poster = || ApiError::not_found("Poster");
    let etag = format!(
        "\"{}-{}\"",
        movie.poster_etag.as_deref().ok_or_else(no_poster)?,
        size.as_str()
    );
    let content_type = match size {
        PosterSize::Original => movie.poster_content_type,
        _ => movie.poster_thumbnail_type,
    }
    .ok_or_else(no_poster)?;
    // Owner-only content: browsers may keep it, shared caches may not.
    let cache_control = "private, max-age=86400";
    if etag_matches(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish());
    }
    let bytes = state.posters.load(id, size).await.map_err(|e| match e {
        common::storage::StorageError::NotFound { .. } => no_poster(),
        other => ApiError::internal(format!("reading the poster: {other}")),
    })?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .body(bytes))
}
