//! Uploaded videos: the multipart upload, streamed to object storage as it
//! arrives, and the media routes (the original by range, the HLS rendition, the
//! poster), read from object storage as they are sent.

use std::ops::Range;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use common::idempotency::{self, IdempotencyHeader, IdempotencyKey, Streamed};
use common::ratelimit::Limit;
use common::storage::{multipart_error, StorageError, Writer};
use common::tokens::{AuthUser, MaybeUser};
use common::ApiError;
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::uuid_of;
use crate::db;
use crate::db::models::{Media, Video, UPLOAD};
use crate::domain::{Caption, Person};
use crate::dto::{ErrorEnvelope, VideoDto};
use crate::errors::video_not_found;
use crate::present;
use crate::processing::{keys, PLAYLIST};
use crate::state::AppState;

/// `multipart/form-data` with the video in `file` and, optionally, a `caption`.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "documentation only")]
pub struct VideoUpload {
    /// The video file (MP4, QuickTime, WebM, Matroska, MPEG-TS or AVI), at most
    /// `VIDEO_MAX_BYTES`.
    #[schema(value_type = String, format = Binary, min_length = 1)]
    file: Vec<u8>,
    /// Up to 2,200 characters, line breaks allowed; its `#hashtags` are taken
    /// from it. Blank when absent.
    #[schema(value_type = Option<String>, format = "multiline-or-blank", max_length = 2200)]
    caption: Option<String>,
}

/// Form fields other than the file are small.
const MAX_TEXT_FIELD: usize = 16 * 1024;
/// What multipart framing may add to the file's bytes.
const FRAMING: u64 = 64 * 1024;

pub(crate) fn storage_error(e: StorageError) -> ApiError {
    ApiError::internal(format!("object storage: {e}"))
}

pub(crate) fn too_large(max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "The video must be at most {} MB",
        max / (1024 * 1024)
    ))
}

pub(crate) fn upload_limit(state: &AppState) -> Limit {
    Limit::per_hour("social-uploads", state.settings.uploads_per_user_per_hour)
}

/// What the form carried: the stored file's size and SHA-256, and the caption.
#[derive(Default)]
struct Form {
    file: Option<(u64, Vec<u8>)>,
    caption: Option<String>,
}

async fn read_text(field: &mut actix_multipart::Field, name: &str) -> Result<String, ApiError> {
    let mut text = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        if text.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(ApiError::validation(name, "is too long"));
        }
        text.extend_from_slice(&chunk);
    }
    String::from_utf8(text).map_err(|_| ApiError::validation(name, "must be UTF-8 text"))
}

/// How copying a body into storage ended.
pub(crate) enum Copied<E> {
    /// The body ended.
    Whole,
    /// It went past its limit; what was written should be abandoned.
    TooLarge,
    /// The body broke off (a dropped connection): what came before is written.
    Broken(E),
}

/// Copies `body` into `writer`, at most `max` bytes in all, hashing what it
/// writes into `digest` when given.
pub(crate) async fn copy_body<S, E>(
    writer: &mut Writer,
    mut digest: Option<&mut Sha256>,
    body: &mut S,
    max: u64,
) -> Result<Copied<E>, StorageError>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
{
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => return Ok(Copied::Broken(e)),
        };
        if writer.written() + chunk.len() as u64 > max {
            return Ok(Copied::TooLarge);
        }
        if let Some(digest) = digest.as_deref_mut() {
            digest.update(&chunk);
        }
        writer.write(chunk).await?;
    }
    Ok(Copied::Whole)
}

/// The first 16 bytes of an upload's SHA-256, in hex: its ETag.
pub(crate) fn etag_of(sha256: &[u8]) -> String {
    hex(&sha256[..sha256.len().min(16)])
}

/// Streams the `file` field into `key`, at most `max` bytes, hashing as it goes.
async fn store_file(
    state: &AppState,
    field: &mut actix_multipart::Field,
    key: &str,
    max: u64,
) -> Result<(u64, Vec<u8>), ApiError> {
    let mut writer = state.storage.writer(key).await.map_err(storage_error)?;
    let mut digest = Sha256::new();
    let copied = copy_body(&mut writer, Some(&mut digest), field, max).await;
    match copied {
        Ok(Copied::Whole) => {}
        Ok(Copied::TooLarge) => {
            writer.abort().await;
            return Err(too_large(max));
        }
        Ok(Copied::Broken(e)) => {
            writer.abort().await;
            return Err(multipart_error(e));
        }
        Err(e) => {
            writer.abort().await;
            return Err(storage_error(e));
        }
    }
    let stored = writer.finish().await.map_err(storage_error)?;
    Ok((stored.size, digest.finalize().to_vec()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn read_form(
    state: &AppState,
    payload: &mut Multipart,
    key: &str,
    max: u64,
    form: &mut Form,
) -> Result<(), ApiError> {
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(multipart_error)?;
        match field.name().unwrap_or_default() {
            "caption" if form.caption.is_none() => {
                form.caption = Some(read_text(&mut field, "caption").await?);
            }
            "file" if form.file.is_none() => {
                form.file = Some(store_file(state, &mut field, key, max).await?);
            }
            "caption" | "file" => {
                return Err(ApiError::validation(
                    field.name().unwrap_or_default(),
                    "send it once",
                ))
            }
            _ => {
                return Err(ApiError::validation(
                    "file",
                    "the form takes `file` and `caption`, nothing else",
                ))
            }
        }
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/videos/upload", tag = "videos", security(("bearer" = [])),
    params(IdempotencyHeader),
    request_body(content = VideoUpload, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Stored; the video is `processing` (its owner sees it become `ready` or `failed` with a `failureReason`); a replay of an Idempotency-Key (the same caption and file) carries `Idempotent-Replayed: true`", body = VideoDto),
        (status = 409, description = "An upload with this Idempotency-Key is still running", body = ErrorEnvelope),
        (status = 400, description = "Malformed multipart body", body = ErrorEnvelope),
        (status = 413, description = "Larger than VIDEO_MAX_BYTES", body = ErrorEnvelope),
        (status = 415, description = "Not multipart/form-data", body = ErrorEnvelope),
        (status = 422, description = "No file, an empty one, another field, an invalid caption, or an Idempotency-Key used with another upload", body = ErrorEnvelope),
        (status = 429, description = "Too many uploads this hour", body = ErrorEnvelope),
    ))]
pub async fn upload(
    state: web::Data<AppState>,
    user: AuthUser,
    idempotency_key: IdempotencyKey,
    req: HttpRequest,
    mut payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let me = Person::of(&user);
    let max = state.settings.video_max_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max.saturating_add(FRAMING)) {
        return Err(too_large(max));
    }
    let owner = format!("{}:{}", me.issuer, me.subject);
    // Taken before the body is read: a retry while this upload runs is 409 at once.
    let idempotency =
        Streamed::begin(&state.db, &idempotency_key, &owner, UPLOAD_LEASE_SECS).await?;
    if !idempotency.answered() {
        if let Err(e) = state.limiter.check(&upload_limit(&state), &owner).await {
            return idempotency.finish::<VideoDto>(&state.db, "", Err(e)).await;
        }
    }
    let id = Uuid::now_v7();
    let key = keys::original(id);
    let mut form = Form::default();
    let read = read_form(&state, &mut payload, &key, max, &mut form).await;
    let fingerprint = form_fingerprint(&form);
    if idempotency.answered() {
        // A retry: compared with the first request, never stored again.
        delete_quietly(&state, &key).await;
        read?;
        return idempotency.replay(&fingerprint?);
    }
    let outcome = match (read, fingerprint) {
        (Ok(()), Ok(fingerprint)) => match create(&state, &me, id, form).await {
            Ok(video) => {
                state.processor.wake();
                present::video(&state, Some(&me), video)
                    .await
                    .map(|dto| (fingerprint, (StatusCode::ACCEPTED, dto)))
            }
            Err(e) => Err(e),
        },
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    match outcome {
        Ok((fingerprint, answer)) => {
            idempotency
                .finish(&state.db, &fingerprint, Ok(answer))
                .await
        }
        Err(e) => {
            delete_quietly(&state, &key).await;
            idempotency.finish::<VideoDto>(&state.db, "", Err(e)).await
        }
    }
}

/// A retry of an upload may come this long after the first began before its
/// key is taken as abandoned.
const UPLOAD_LEASE_SECS: i32 = 3600;

/// What an upload asks for, for `Idempotency-Key`: its caption and its file's
/// SHA-256.
fn form_fingerprint(form: &Form) -> Result<String, ApiError> {
    let file = form.file.as_ref().map(|(_, sha256)| hex(sha256));
    idempotency::fingerprint(&serde_json::json!({
        "caption": form.caption.as_deref().unwrap_or(""),
        "file": file,
    }))
}

async fn delete_quietly(state: &AppState, key: &str) {
    if let Err(cleanup) = state.storage.delete(key).await {
        tracing::warn!(error = %cleanup, "an upload's object was left behind");
    }
}

async fn create(state: &AppState, me: &Person, id: Uuid, form: Form) -> Result<Video, ApiError> {
    let mut errors = common::FieldErrors::new();
    let caption = Caption::parse(form.caption.as_deref().unwrap_or(""))
        .map_err(|e| errors.add("caption", e))
        .ok();
    match form.file {
        None => errors.add("file", "is required (a file field named file)"),
        Some((0, _)) => errors.add("file", "is empty"),
        Some(_) => {}
    }
    errors.into_result()?;
    let (Some(caption), Some((size, sha256))) = (caption, form.file) else {
        return Err(ApiError::internal("validated upload fields missing"));
    };
    let media = Media {
        size: Some(size),
        etag: Some(etag_of(&sha256)),
        ..Media::default()
    };
    let author = me.clone();
    state
        .db
        .run(move |conn| db::jobs::create_upload(conn, id, &author, &caption, &media))
        .await
}

/// The uploaded video, if `viewer` may see it.
async fn uploaded(
    state: &AppState,
    raw_id: &str,
    viewer: Option<&Person>,
) -> Result<(Video, Media), ApiError> {
    let id = uuid_of(raw_id, video_not_found)?;
    // A ready upload is everyone's to see: held a moment for the next range.
    if let Some(held) = state.ready_uploads.get(&id) {
        return Ok((held.0.clone(), held.1.clone()));
    }
    let video = state
        .db
        .run(move |conn| Ok(db::videos::find(conn, id)?))
        .await?
        .filter(|v| v.visible_to(viewer) && v.source == UPLOAD)
        .ok_or_else(video_not_found)?;
    let media = video.media();
    if video.is_ready() {
        state
            .ready_uploads
            .insert(id, std::sync::Arc::new((video.clone(), media.clone())));
    }
    Ok((video, media))
}

/// A `Range` header that names no byte of the object (416).
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// A single `bytes=` range of an object of `size` bytes: `Ok(None)` for the whole
/// object (no header, several ranges, another unit).
pub fn byte_range(header: Option<&str>, size: u64) -> Result<Option<Range<u64>>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (start, end) = spec.split_once('-').ok_or(Unsatisfiable)?;
    let (start, end) = (start.trim(), end.trim());
    let range = if start.is_empty() {
        // The last `end` bytes.
        let n: u64 = end.parse().map_err(|_| Unsatisfiable)?;
        if n == 0 {
            return Err(Unsatisfiable);
        }
        size.saturating_sub(n)..size
    } else {
        let start: u64 = start.parse().map_err(|_| Unsatisfiable)?;
        let end = if end.is_empty() {
            size
        } else {
            end.parse::<u64>()
                .map_err(|_| Unsatisfiable)?
                .saturating_add(1)
                .min(size)
        };
        start..end
    };
    if range.start >= size || range.start >= range.end {
        return Err(Unsatisfiable);
    }
    Ok(Some(range))
}

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// Whether an `If-None-Match` header names `etag` (or `*`).
fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == etag)
        })
}

fn cache_control(video: &Video) -> &'static str {
    if video.is_ready() {
        "public, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    }
}

/// Where the gateway serves the storage folder's `videos/` from (an `internal`
/// location: only social's `X-Accel-Redirect` reaches it), with
/// `MEDIA_ACCEL_REDIRECT`; keys are appended as they are (`videos/<id>/…`).
pub const GATEWAY_MEDIA_PREFIX: &str = "/__reelstack/media/";

/// With `MEDIA_ACCEL_REDIRECT`, the answer that leaves the bytes of `key` to
/// the gateway: it reads the stored file itself (one range and `If-Range`
/// included, against the `ETag` given here) and keeps the `Content-Type` and
/// `Cache-Control` given here. Everything that needs the service (access,
/// 404, 304, 416) is answered before. `None` (the service sends the bytes)
/// for what nginx would answer otherwise than the service: `If-Match` and
/// `If-Unmodified-Since`, which nginx checks against validators it does not
/// have (412); several ranges (nginx may send some); any range where the
/// service sends the whole file (`ranges` false: HLS files and the poster).
fn handed_to_gateway(
    state: &AppState,
    req: &HttpRequest,
    ranges: bool,
    key: &str,
    etag: String,
    cache_control: &'static str,
    content_type: String,
) -> Option<HttpResponse> {
    let headers = req.headers();
    let range = headers.get(header::RANGE);
    let alike = !headers.contains_key(header::IF_MATCH)
        && !headers.contains_key(header::IF_UNMODIFIED_SINCE)
        && range.is_none_or(|r| ranges && r.to_str().is_ok_and(|r| !r.contains(',')));
    (state.settings.media_accel_redirect && alike).then(|| {
        HttpResponse::Ok()
            .insert_header(("X-Accel-Redirect", format!("{GATEWAY_MEDIA_PREFIX}{key}")))
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .insert_header((header::CONTENT_TYPE, content_type))
            .finish()
    })
}

type Body = futures_util::stream::BoxStream<'static, Result<Bytes, actix_web::Error>>;

async fn body_of(state: &AppState, key: &str, range: Option<Range<u64>>) -> Result<Body, ApiError> {
    let stream = state
        .storage
        .stream(key, range)
        .await
        .map_err(|e| match e {
            StorageError::NotFound { .. } => video_not_found(),
            other => storage_error(other),
        })?;
    Ok(stream
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))
        .boxed())
}

#[utoipa::path(get, path = "/api/videos/{id}/stream", tag = "media", security((), ("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Video id"),
        ("Range" = Option<String>, Header, description = "`bytes=start-end`, `bytes=start-` or `bytes=-suffix` (one range)"),
        ("If-Range" = Option<String>, Header, description = "The ETag the client holds: the range is sent only if it still matches"),
        ("If-None-Match" = Option<String>, Header, description = "304 when it names the current ETag"),
    ),
    responses(
        (status = 200, description = "The original upload, with `Accept-Ranges: bytes`, `ETag` and its probed `Content-Type` (`application/octet-stream` until it is probed)", content(("video/mp4"), ("video/quicktime"), ("video/webm"), ("video/x-matroska"), ("video/mp2t"), ("video/x-msvideo"), ("application/octet-stream"))),
        (status = 206, description = "The requested range, with `Content-Range`", content(("video/mp4"), ("video/quicktime"), ("video/webm"), ("video/x-matroska"), ("video/mp2t"), ("video/x-msvideo"), ("application/octet-stream"))),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such uploaded video (external ones are at their own URL), or not the caller's while processing", body = ErrorEnvelope),
        (status = 416, description = "The range starts past the end (`Content-Range: bytes */size`)", body = ErrorEnvelope),
    ))]
pub async fn stream(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.as_ref().map(Person::of);
    let (video, media) = uploaded(&state, &path, viewer.as_ref()).await?;
    let (Some(size), Some(etag)) = (media.size, media.etag.as_deref()) else {
        return Err(video_not_found());
    };
    let etag = quoted(etag);
    if none_match(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let if_range_ok = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range_header = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_ok);
    let content_type = media
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let range = match byte_range(range_header, size) {
        Ok(range) => range,
        Err(Unsatisfiable) => {
            let mut resp = HttpResponse::from_error(ApiError::coded(
                actix_web::http::StatusCode::RANGE_NOT_SATISFIABLE,
                common::error::code::RANGE_NOT_SATISFIABLE,
                format!("the range starts past the end of the video's {size} bytes"),
            ));
            resp.headers_mut().insert(
                header::CONTENT_RANGE,
                header::HeaderValue::from_str(&format!("bytes */{size}"))
                    .map_err(|e| ApiError::internal(e.to_string()))?,
            );
            return Ok(resp);
        }
    };
    let key = keys::original(video.id);
    if let Some(handed) = handed_to_gateway(
        &state,
        &req,
        true,
        &key,
        etag.clone(),
        cache_control(&video),
        content_type.clone(),
    ) {
        return Ok(handed);
    }
    let mut resp = match &range {
        Some(r) => {
            let mut resp = HttpResponse::PartialContent();
            resp.insert_header((
                header::CONTENT_RANGE,
                format!("bytes {}-{}/{size}", r.start, r.end - 1),
            ));
            resp
        }
        None => HttpResponse::Ok(),
    };
    let length = range.as_ref().map_or(size, |r| r.end - r.start);
    let body = body_of(&state, &key, range).await?;
    Ok(resp
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control(&video)))
        .insert_header((header::CONTENT_TYPE, content_type))
        .no_chunking(length)
        .streaming(body))
}

/// A file of the rendition: the playlist or a segment (`seg_000.ts`, ...).
fn hls_file(name: &str) -> Option<&'static str> {
    if name == PLAYLIST {
        return Some("application/vnd.apple.mpegurl");
    }
    let number = name.strip_prefix("seg_")?.strip_suffix(".ts")?;
    (!number.is_empty() && number.len() <= 6 && number.bytes().all(|b| b.is_ascii_digit()))
        .then_some("video/mp2t")
}

async fn serve_object(
    state: &AppState,
    req: &HttpRequest,
    video: &Video,
    key: &str,
    etag: String,
    content_type: &'static str,
) -> Result<HttpResponse, ApiError> {
    if none_match(req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let size = state.storage.size(key).await.map_err(|e| match e {
        StorageError::NotFound { .. } => video_not_found(),
        other => storage_error(other),
    })?;
    if let Some(handed) = handed_to_gateway(
        state,
        req,
        false,
        key,
        etag.clone(),
        cache_control(video),
        content_type.to_owned(),
    ) {
        return Ok(handed);
    }
    let body = body_of(state, key, None).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control(video)))
        .insert_header((header::CONTENT_TYPE, content_type))
        .no_chunking(size)
        .streaming(body))
}

#[utoipa::path(get, path = "/api/videos/{id}/hls/{file}", tag = "media", security((), ("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Video id"),
        ("file" = String, Path, description = "`index.m3u8` or a segment it names (`seg_000.ts`, ...)"),
        ("If-None-Match" = Option<String>, Header, description = "304 when it names the current ETag"),
    ),
    responses(
        (status = 200, description = "The HLS playlist (`application/vnd.apple.mpegurl`) or segment (`video/mp2t`), with `ETag` and a year's `Cache-Control`", content(("application/vnd.apple.mpegurl"), ("video/mp2t"))),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such video or file, or the video is not processed yet", body = ErrorEnvelope),
    ))]
pub async fn hls(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (raw_id, file) = path.into_inner();
    let viewer = user.0.as_ref().map(Person::of);
    let (video, media) = uploaded(&state, &raw_id, viewer.as_ref()).await?;
    let content_type = hls_file(&file).ok_or_else(video_not_found)?;
    let (true, Some(etag)) = (media.hls, media.etag.as_deref()) else {
        return Err(video_not_found());
    };
    let etag = quoted(&format!("{etag}-{file}"));
    serve_object(
        &state,
        &req,
        &video,
        &keys::hls(video.id, &file),
        etag,
        content_type,
    )
    .await
}

#[utoipa::path(get, path = "/api/videos/{id}/poster.jpg", tag = "media", security((), ("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Video id"),
        ("If-None-Match" = Option<String>, Header, description = "304 when it names the current ETag"),
    ),
    responses(
        (status = 200, description = "The poster JPEG, with `ETag` and a year's `Cache-Control`", content(("image/jpeg"))),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such video, or not processed yet", body = ErrorEnvelope),
    ))]
pub async fn poster(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.as_ref().map(Person::of);
    let (video, media) = uploaded(&state, &path, viewer.as_ref()).await?;
    let (true, Some(etag)) = (media.poster, media.etag.as_deref()) else {
        return Err(video_not_found());
    };
    let etag = quoted(&format!("{etag}-poster"));
    serve_object(
        &state,
        &req,
        &video,
        &keys::poster(video.id),
        etag,
        "image/jpeg",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_the_rfc_says() {
        assert_eq!(byte_range(None, 100), Ok(None));
        assert_eq!(byte_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(byte_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(byte_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(byte_range(Some("bytes=-500"), 100), Ok(Some(0..100)));
        assert_eq!(byte_range(Some("bytes=50-500"), 100), Ok(Some(50..100)));
        assert_eq!(
            byte_range(Some("bytes=0-1,5-6"), 100),
            Ok(None),
            "several: all of it"
        );
        assert_eq!(byte_range(Some("items=0-1"), 100), Ok(None));
        for bad in [
            "bytes=100-",
            "bytes=200-300",
            "bytes=9-3",
            "bytes=-0",
            "bytes=x-1",
            "bytes=5",
        ] {
            assert_eq!(byte_range(Some(bad), 100), Err(Unsatisfiable), "{bad}");
        }
    }

    #[test]
    fn only_the_playlist_and_numbered_segments_are_files() {
        assert_eq!(
            hls_file("index.m3u8"),
            Some("application/vnd.apple.mpegurl")
        );
        assert_eq!(hls_file("seg_000.ts"), Some("video/mp2t"));
        for bad in [
            "../original",
            "seg_.ts",
            "seg_1.ts.bak",
            "original",
            "seg_00a.ts",
            "seg_0000000.ts",
        ] {
            assert_eq!(hls_file(bad), None, "{bad}");
        }
    }
}
