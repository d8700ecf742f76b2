//! Resumable uploads, speaking tus 1.0.0: the core protocol and the creation,
//! termination and expiration extensions. Each PATCH stores its bytes as one
//! part in object storage (kept as far as they came when the connection drops);
//! when the last byte is in, the parts become the video's original and the
//! video is processed like a multipart upload.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::Engine;
use chrono::{DateTime, Utc};
use common::tokens::AuthUser;
use common::ApiError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::media::{copy_body, etag_of, storage_error, too_large, upload_limit, Copied};
use super::uuid_of;
use crate::db;
use crate::db::models::{Media, Video};
use crate::db::uploads::Upload;
use crate::domain::{Caption, Person};
use crate::dto::ErrorEnvelope;
use crate::processing::keys;
use crate::state::AppState;

pub const TUS_VERSION: &str = "1.0.0";
pub const TUS_EXTENSIONS: &str = "creation,termination,expiration";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// The one protocol version spoken.
#[derive(ToSchema)]
#[allow(dead_code, reason = "documentation only")]
pub enum TusVersion {
    #[schema(rename = "1.0.0")]
    V1_0_0,
}

/// The protocol version every tus request but OPTIONS names.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "documentation only")]
pub struct TusResumable {
    /// `1.0.0` (412 otherwise, with `Tus-Version`).
    #[param(rename = "Tus-Resumable", inline)]
    tus_resumable: TusVersion,
}

/// The headers that create an upload.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "documentation only")]
pub struct TusCreation {
    /// `1.0.0` (412 otherwise, with `Tus-Version`).
    #[param(rename = "Tus-Resumable", inline)]
    tus_resumable: TusVersion,
    /// The file's size in bytes, 1 to VIDEO_MAX_BYTES (413 beyond).
    #[param(rename = "Upload-Length", minimum = 1)]
    upload_length: i64,
    /// `caption <base64>,filename <base64>`, both optional (400 when a value is
    /// not base64).
    #[param(rename = "Upload-Metadata", max_length = 8192)]
    upload_metadata: Option<String>,
}

/// The headers of a PATCH.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "documentation only")]
pub struct TusPatch {
    /// `1.0.0` (412 otherwise, with `Tus-Version`).
    #[param(rename = "Tus-Resumable", inline)]
    tus_resumable: TusVersion,
    /// Where these bytes start: the upload's current offset (409 otherwise).
    #[param(rename = "Upload-Offset", minimum = 0)]
    upload_offset: i64,
}

fn part_key(upload: Uuid, part: i32) -> String {
    format!("uploads/{upload}/{part:06}")
}

fn parts_prefix(upload: Uuid) -> String {
    format!("uploads/{upload}")
}

fn upload_not_found() -> ApiError {
    ApiError::NotFound("No such upload (or it expired)".to_owned())
}

fn header_str<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Every request but OPTIONS names the protocol version it speaks.
fn check_version(req: &HttpRequest) -> Result<(), ApiError> {
    match header_str(req, "tus-resumable") {
        Some(v) if v.trim() == TUS_VERSION => Ok(()),
        _ => Err(ApiError::coded(
            StatusCode::PRECONDITION_FAILED,
            "TUS_VERSION_UNSUPPORTED",
            "Tus-Resumable: 1.0.0 is required (Tus-Version lists what this server speaks)",
        )),
    }
}

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be
/// absent).
pub fn parse_metadata(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = pair.split(' ').filter(|w| !w.is_empty());
        let key = words.next().ok_or("an empty key")?;
        let value = match words.next() {
            None => String::new(),
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|_| format!("the value of {key} is not base64"))?;
                String::from_utf8(bytes).map_err(|_| format!("the value of {key} is not UTF-8"))?
            }
        };
        if words.next().is_some() {
            return Err(format!("{key} has more than one value"));
        }
        out.push((key.to_owned(), value));
    }
    Ok(out)
}

fn tus_headers(resp: &mut HttpResponseBuilder, upload: &Upload) {
    resp.insert_header(("upload-offset", upload.upload_offset.to_string()))
        .insert_header(("upload-length", upload.upload_length.to_string()))
        .insert_header(("upload-expires", http_date(upload.expires_at)))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if let Some(video) = upload.video_id {
        resp.insert_header(("video-id", video.to_string()));
    }
}

#[utoipa::path(options, path = "/api/uploads/", tag = "uploads",
    responses((status = 204, description = "What this tus server speaks: `Tus-Version: 1.0.0`, `Tus-Extension: creation,termination,expiration`, `Tus-Max-Size` (VIDEO_MAX_BYTES)")))]
pub async fn options(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("tus-extension", TUS_EXTENSIONS))
        .insert_header(("tus-max-size", state.settings.video_max_bytes.to_string()))
        .finish()
}

#[utoipa::path(post, path = "/api/uploads/", tag = "uploads", security(("bearer" = [])),
    params(TusCreation),
    responses(
        (status = 201, description = "Created: `Location` is the upload's URL, `Upload-Expires` when it expires (24 h)"),
        (status = 400, description = "Upload-Length or Upload-Metadata malformed (Upload-Defer-Length is not supported)", body = ErrorEnvelope),
        (status = 412, description = "Tus-Resumable missing or not 1.0.0", body = ErrorEnvelope),
        (status = 413, description = "Upload-Length beyond VIDEO_MAX_BYTES", body = ErrorEnvelope),
        (status = 422, description = "An invalid caption, or an empty file", body = ErrorEnvelope),
        (status = 429, description = "Too many uploads this hour", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    user: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    let length: i64 = header_str(&req, "upload-length")
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "Upload-Length must be the file's size in bytes (Upload-Defer-Length is not supported)"
                    .to_owned(),
            )
        })?;
    let max = state.settings.video_max_bytes;
    if u64::try_from(length).unwrap_or(u64::MAX) > max {
        return Err(too_large(max));
    }
    if length == 0 {
        return Err(ApiError::validation("Upload-Length", "the file is empty"));
    }
    let metadata = match header_str(&req, "upload-metadata") {
        None => Vec::new(),
        Some(raw) if raw.len() > 8192 => {
            return Err(ApiError::BadRequest(
                "Upload-Metadata: at most 8192 characters".to_owned(),
            ))
        }
        Some(raw) => parse_metadata(raw)
            .map_err(|e| ApiError::BadRequest(format!("Upload-Metadata: {e}")))?,
    };
    let value = |key: &str| {
        metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let caption = value("caption").unwrap_or_default();
    Caption::parse(&caption).map_err(|e| ApiError::validation("caption", &e))?;
    let filename = value("filename").map(|f| f.chars().take(255).collect::<String>());
    let me = Person::of(&user);
    state
        .limiter
        .check(
            &upload_limit(&state),
            &format!("{}:{}", me.issuer, me.subject),
        )
        .await?;
    let upload = state
        .db
        .run(move |conn| {
            Ok(db::uploads::create(
                conn,
                &me,
                length,
                &caption,
                filename.as_deref(),
            )?)
        })
        .await?;
    let mut resp = HttpResponse::Created();
    resp.insert_header((
        header::LOCATION,
        format!("{}/api/uploads/{}", state.settings.media_base(), upload.id),
    ));
    tus_headers(&mut resp, &upload);
    Ok(resp.finish())
}

async fn owned(state: &AppState, user: &AuthUser, raw: &str) -> Result<Upload, ApiError> {
    let id = uuid_of(raw, upload_not_found)?;
    let me = Person::of(user);
    state
        .db
        .run(move |conn| Ok(db::uploads::find(conn, id, &me)?))
        .await?
        .ok_or_else(upload_not_found)
}

#[utoipa::path(head, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Upload id"), TusResumable),
    responses(
        (status = 200, description = "`Upload-Offset` (bytes received), `Upload-Length`, `Upload-Expires`; `Video-Id` once complete"),
        (status = 401, description = "No valid token"),
        (status = 404, description = "No such upload of the caller's, or it expired"),
        (status = 412, description = "Tus-Resumable missing or not 1.0.0"),
    ))]
pub async fn head(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    let upload = owned(&state, &user, &path).await?;
    let mut resp = HttpResponse::Ok();
    tus_headers(&mut resp, &upload);
    Ok(resp.finish())
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadDto {
    pub id: Uuid,
    /// The file's size.
    pub length: i64,
    /// Bytes received.
    pub offset: i64,
    pub expires_at: DateTime<Utc>,
    /// The video it became, once its last byte arrived.
    pub video_id: Option<Uuid>,
}

#[utoipa::path(get, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Upload id")),
    responses(
        (status = 200, description = "How far it is, and the video it became", body = UploadDto),
        (status = 404, description = "No such upload of the caller's, or it expired", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let upload = owned(&state, &user, &path).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(UploadDto {
            id: upload.id,
            length: upload.upload_length,
            offset: upload.upload_offset,
            expires_at: upload.expires_at,
            video_id: upload.video_id,
        }))
}

#[utoipa::path(patch, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Upload id"), TusPatch),
    request_body(content = String, content_type = "application/offset+octet-stream", description = "The next bytes of the file"),
    responses(
        (status = 204, description = "Stored (as far as they came, should the connection drop): the new `Upload-Offset`; with the last byte, `Video-Id` of the video now processing"),
        (status = 404, description = "No such upload of the caller's, or it expired", body = ErrorEnvelope),
        (status = 409, description = "Upload-Offset is not the upload's offset, or another PATCH of it is running", body = ErrorEnvelope),
        (status = 412, description = "Tus-Resumable missing or not 1.0.0", body = ErrorEnvelope),
        (status = 413, description = "More bytes than Upload-Length left", body = ErrorEnvelope),
        (status = 415, description = "Content-Type is not application/offset+octet-stream", body = ErrorEnvelope),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    let content_type = header_str(&req, "content-type").unwrap_or_default();
    if content_type.split(';').next().map(str::trim) != Some(OFFSET_OCTET_STREAM) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type must be {OFFSET_OCTET_STREAM}"
        )));
    }
    let offset: i64 = header_str(&req, "upload-offset")
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(|| ApiError::BadRequest("Upload-Offset must be a byte offset".to_owned()))?;
    let upload = owned(&state, &user, &path).await?;
    let conflict = |upload: &Upload| {
        ApiError::coded(
            StatusCode::CONFLICT,
            "UPLOAD_OFFSET_MISMATCH",
            format!(
                "Upload-Offset must be {} (HEAD tells), and one PATCH at a time",
                upload.upload_offset
            ),
        )
    };
    if upload.upload_offset != offset {
        return Err(conflict(&upload));
    }
    let id = upload.id;
    let upload = state
        .db
        .run(move |conn| Ok(db::uploads::begin_patch(conn, id, offset)?))
        .await?
        .ok_or_else(|| conflict(&upload))?;
    let added = match receive(&state, &upload, &mut body).await {
        Ok(added) => added,
        Err(e) => {
            state
                .db
                .run(move |conn| Ok(db::uploads::end_patch(conn, id, 0)?))
                .await?;
            return Err(e);
        }
    };
    let mut upload = state
        .db
        .run(move |conn| Ok(db::uploads::end_patch(conn, id, added)?))
        .await?;
    if upload.is_complete() && upload.video_id.is_none() {
        upload = complete(&state, &user, upload).await?;
    }
    let mut resp = HttpResponse::NoContent();
    tus_headers(&mut resp, &upload);
    Ok(resp.finish())
}

/// Stores this PATCH's bytes as the upload's next part: how many arrived.
async fn receive(
    state: &AppState,
    upload: &Upload,
    body: &mut web::Payload,
) -> Result<i64, ApiError> {
    let left = u64::try_from(upload.upload_length - upload.upload_offset).unwrap_or(0);
    let key = part_key(upload.id, upload.parts);
    let mut writer = state.storage.writer(&key).await.map_err(storage_error)?;
    match copy_body(&mut writer, None, body, left).await {
        Ok(Copied::Whole) => {}
        Ok(Copied::Broken(e)) => {
            tracing::info!(upload = %upload.id, error = %e, "upload interrupted; the bytes received are kept");
        }
        Ok(Copied::TooLarge) => {
            writer.abort().await;
            return Err(ApiError::PayloadTooLarge(format!(
                "only {left} bytes are left of Upload-Length"
            )));
        }
        Err(e) => {
            writer.abort().await;
            return Err(storage_error(e));
        }
    }
    if writer.written() == 0 {
        writer.abort().await;
        return Ok(0);
    }
    let stored = writer.finish().await.map_err(storage_error)?;
    i64::try_from(stored.size).map_err(|e| ApiError::internal(e.to_string()))
}

/// The last byte is in: the parts become the video's original, the video is
/// created and processed, the parts go.
async fn complete(state: &AppState, user: &AuthUser, upload: Upload) -> Result<Upload, ApiError> {
    let id = upload.id;
    let length = upload.upload_length;
    // Held like a PATCH, so that two completions never race.
    let Some(upload) = state
        .db
        .run(move |conn| Ok(db::uploads::begin_patch(conn, id, length)?))
        .await?
    else {
        return Ok(upload);
    };
    let outcome = assemble(state, user, &upload).await;
    let upload = state
        .db
        .run(move |conn| Ok(db::uploads::end_patch(conn, id, 0)?))
        .await?;
    outcome?;
    if let Err(e) = state.storage.delete_prefix(&parts_prefix(id)).await {
        tracing::warn!(upload = %id, error = %e, "parts of a completed upload left behind");
    }
    state.processor.wake();
    Ok(upload)
}

async fn assemble(state: &AppState, user: &AuthUser, upload: &Upload) -> Result<Video, ApiError> {
    let video_id = Uuid::now_v7();
    let key = keys::original(video_id);
    let mut writer = state.storage.writer(&key).await.map_err(storage_error)?;
    let mut digest = Sha256::new();
    for part in 0..upload.parts {
        let copied = match state.storage.stream(&part_key(upload.id, part), None).await {
            Ok(mut stream) => {
                copy_body(&mut writer, Some(&mut digest), &mut stream, u64::MAX).await
            }
            Err(e) => Err(e),
        };
        match copied {
            Ok(Copied::Whole) => {}
            Ok(Copied::Broken(e)) | Err(e) => {
                writer.abort().await;
                return Err(storage_error(e));
            }
            Ok(Copied::TooLarge) => {
                writer.abort().await;
                return Err(ApiError::internal("an upload's parts outgrew their length"));
            }
        }
    }
    let stored = writer.finish().await.map_err(storage_error)?;
    let caption =
        Caption::parse(&upload.caption).map_err(|e| ApiError::validation("caption", &e))?;
    let media = Media {
        size: Some(stored.size),
        etag: Some(etag_of(&digest.finalize())),
        ..Media::default()
    };
    let me = Person::of(user);
    let upload_id = upload.id;
    let created = state
        .db
        .run(move |conn| {
            use diesel::Connection;
            conn.transaction(|conn| {
                let video = db::jobs::create_upload(conn, video_id, &me, &caption, &media)?;
                db::uploads::set_video(conn, upload_id, video_id)?;
                Ok(video)
            })
        })
        .await;
    if created.is_err() {
        if let Err(e) = state.storage.delete(&key).await {
            tracing::warn!(error = %e, "an unused original was left behind");
        }
    }
    created
}

#[utoipa::path(delete, path = "/api/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Upload id"), TusResumable),
    responses(
        (status = 204, description = "Abandoned: its bytes are deleted (a video it already became stays)"),
        (status = 404, description = "No such upload of the caller's, or it expired", body = ErrorEnvelope),
        (status = 412, description = "Tus-Resumable missing or not 1.0.0", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    let upload = owned(&state, &user, &path).await?;
    let id = upload.id;
    state
        .db
        .run(move |conn| Ok(db::uploads::delete(conn, id)?))
        .await?;
    state
        .storage
        .delete_prefix(&parts_prefix(id))
        .await
        .map_err(storage_error)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sweeps expired uploads and their parts (the maintenance task, every ten
/// minutes).
pub async fn sweep_expired(db: &common::db::Db, storage: &common::storage::Storage) {
    loop {
        let taken = db
            .run(|conn| Ok(db::uploads::take_expired(conn, 100)?))
            .await;
        let ids = match taken {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "expired uploads not swept");
                return;
            }
        };
        for id in &ids {
            if let Err(e) = storage.delete_prefix(&parts_prefix(*id)).await {
                tracing::warn!(upload = %id, error = %e, "an expired upload's parts were left behind");
            }
        }
        if ids.len() < 100 {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_pairs_of_keys_and_base64_values() {
        assert_eq!(
            parse_metadata("caption aGVsbG8gI3R1cw==,filename Y2xpcC5tcDQ=,flag").unwrap(),
            [
                ("caption".to_owned(), "hello #tus".to_owned()),
                ("filename".to_owned(), "clip.mp4".to_owned()),
                ("flag".to_owned(), String::new()),
            ]
        );
        assert!(parse_metadata("caption !!!").is_err());
        assert!(parse_metadata("caption YQ== YQ==").is_err());
        assert_eq!(parse_metadata("").unwrap(), []);
    }
}
