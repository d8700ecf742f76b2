//! Product images: admins upload them (multipart, field `file`; PNG, JPEG or
//! WebP read from the bytes; at most `PRODUCT_IMAGE_MAX_BYTES`), reorder and
//! delete them; anyone who may see the product gets them, original or
//! thumbnail (w200, w600), with a content `ETag` and `If-None-Match` 304.
//!
//! An image id names one content for good (a new upload is a new image), so
//! the images of an active product are `public, max-age=31536000, immutable`;
//! those of a draft or archived product, which only admins see, are
//! `private, no-cache` so that no shared cache keeps them.
//!
//! Every write counts a revision of the product (its `ETag` changes). The
//! bytes are stored under `products/<product>/<image>/` before the row is
//! written, and removed again when the row cannot be.

use std::sync::LazyLock;

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use common::images::{read_upload, ImageStore, Rendition, UploadForm};
use common::tokens::{AdminUser, MaybeUser};
use common::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;
use utoipa::{IntoParams, OpenApi, ToSchema};
use uuid::Uuid;

use super::uuid_of;
use crate::db;
use crate::db::images::{NewImage, Outcome, MAX_IMAGES};
use crate::domain::Status;
use crate::dto::{ErrorEnvelope, ImageDto};
use crate::errors::product_not_found;
use crate::state::AppState;

/// The thumbnails' widths.
pub const THUMBNAIL_WIDTHS: &[u32] = &[200, 600];
/// The renditions a client may ask for.
const SIZES: &[&str] = &["original", "w200", "w600"];

pub const TOO_MANY_IMAGES: &str = "TOO_MANY_IMAGES";

/// Decodes running at once in this replica (each holds up to 64 MiB): uploads
/// are an admin's, rare, so a small fixed number.
static DECODING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/products/{id}/images", web::post().to(upload))
        .route("/api/products/{id}/images/order", web::put().to(reorder))
        .route("/api/products/{id}/images/{imageId}", web::get().to(serve))
        .route(
            "/api/products/{id}/images/{imageId}",
            web::delete().to(delete),
        );
}

fn image_not_found() -> ApiError {
    ApiError::not_found("Image")
}

fn too_many() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        TOO_MANY_IMAGES,
        format!("A product has at most {MAX_IMAGES} images; delete one first"),
    )
    .with_details(json!({ "max": MAX_IMAGES }))
}

/// Where the objects of image `image` of `product` are.
fn prefix(product: Uuid, image: Uuid) -> String {
    format!("products/{product}/{image}")
}

/// Where all the images of `product` are.
fn product_prefix(product: Uuid) -> String {
    format!("products/{product}")
}

/// Removes every stored image of `product` (after the product is deleted:
/// its rows go with it by cascade). A failure is logged, not answered: the
/// product is gone either way.
pub async fn remove_product_images(state: &AppState, product: Uuid) {
    let store = ImageStore::new(state.storage.clone());
    if let Err(e) = store.delete_all(&product_prefix(product)).await {
        tracing::warn!(product.id = %product, error = %e, "images of a deleted product left in storage");
    }
}

/// `multipart/form-data` with the image in a field named `file`, and no other
/// field.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "documentation only")]
pub struct ImageUpload {
    /// PNG, JPEG or WebP (read from the bytes), at most 10 MB
    /// (`PRODUCT_IMAGE_MAX_BYTES`), at most 8192 pixels a side and 16.7
    /// megapixels.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

#[utoipa::path(post, path = "/api/products/{id}/images", operation_id = "uploadProductImage", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored with w200 and w600 thumbnails, after the product's other images", body = ImageDto,
            headers(("Location" = String, description = "The image's URL"))),
        (status = 400, description = "Malformed multipart body", body = ErrorEnvelope),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product", body = ErrorEnvelope),
        (status = 409, description = "TOO_MANY_IMAGES: the product has 20 images", body = ErrorEnvelope),
        (status = 413, description = "Larger than 10 MB", body = ErrorEnvelope),
        (status = 415, description = "Not multipart, or not a PNG, JPEG or WebP image (read from the bytes)", body = ErrorEnvelope),
        (status = 422, description = "No `file` field, another field, or an image that cannot be decoded or is over 8192 pixels a side or 16.7 megapixels", body = ErrorEnvelope),
        (status = 429, description = "Every decoding slot of the replica busy: retry", body = ErrorEnvelope),
    ))]
pub async fn upload(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<String>,
    mut payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let product_id = uuid_of(&path, product_not_found)?;
    // Refused before the body is read when it could not be kept anyway.
    match state
        .db
        .run(move |conn| Ok(db::images::count(conn, product_id)?))
        .await?
    {
        None => return Err(product_not_found()),
        Some(n) if n >= MAX_IMAGES => return Err(too_many()),
        Some(_) => {}
    }
    let form = UploadForm {
        field: "file",
        accepted: &["file"],
        max_bytes: state.settings.product_image_max_bytes,
    };
    let original = read_upload(&mut payload, &form).await?;
    let byte_size = i64::try_from(original.len()).unwrap_or(i64::MAX);
    let image =
        common::images::process_upload(&DECODING, original, THUMBNAIL_WIDTHS, "file").await?;
    let image_id = Uuid::now_v7();
    let store = ImageStore::new(state.storage.clone());
    let key = prefix(product_id, image_id);
    if let Err(e) = store.save(&key, &image).await {
        let _ = store.delete(&key, THUMBNAIL_WIDTHS).await;
        return Err(ApiError::internal(format!("storing the image: {e}")));
    }
    let new = NewImage {
        id: image_id,
        content_type: image.kind.content_type().to_owned(),
        thumbnail_type: image.thumbnail_type.to_owned(),
        width: i32::try_from(image.width).unwrap_or(i32::MAX),
        height: i32::try_from(image.height).unwrap_or(i32::MAX),
        byte_size,
        digest: image.etag.clone(),
    };
    let added = state
        .db
        .run(move |conn| db::images::add(conn, product_id, new))
        .await;
    state.products.clear();
    let refused = match added {
        Ok(Outcome::Done(row)) => {
            tracing::info!(product.id = %product_id, image.id = %image_id, admin = %admin.0.subject, "product image added");
            let dto = ImageDto::from(row);
            return Ok(HttpResponse::Created()
                .insert_header((header::LOCATION, dto.url.clone()))
                .json(dto));
        }
        // Deleted, or filled by another upload, while this one was processed.
        Ok(Outcome::NoProduct | Outcome::NoImage) => product_not_found(),
        Ok(Outcome::Full) => too_many(),
        Err(e) => e,
    };
    // Nothing names the objects: do not leave them behind.
    if let Err(e) = store.delete(&key, THUMBNAIL_WIDTHS).await {
        tracing::warn!(image.id = %image_id, error = %e, "objects of a refused image left in storage");
    }
    Err(refused)
}

/// `PUT /api/products/{id}/images/order`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderRequest {
    /// Every image id of the product, each once, in the new display order.
    #[schema(value_type = Vec<Uuid>, required = true, max_items = 20)]
    pub ids: Option<Vec<String>>,
}

/// A product's images in display order.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImageList {
    pub items: Vec<ImageDto>,
}

#[utoipa::path(put, path = "/api/products/{id}/images/order", operation_id = "reorderProductImages", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id")),
    request_body = OrderRequest,
    responses(
        (status = 200, description = "The images in their new order (positions 0, 1, ...)", body = ImageList),
        (status = 400, description = "Malformed JSON", body = ErrorEnvelope),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product", body = ErrorEnvelope),
        (status = 422, description = "`ids` missing, or not each of the product's image ids exactly once", body = ErrorEnvelope),
    ))]
pub async fn reorder(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<String>,
    body: common::Json<OrderRequest>,
) -> Result<HttpResponse, ApiError> {
    let product_id = uuid_of(&path, product_not_found)?;
    let raw = match body.into_inner().ids {
        Some(ids) => ids,
        None => return Err(ApiError::validation("ids", "is required")),
    };
    let ids = raw
        .iter()
        .map(|id| Uuid::parse_str(id.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::validation("ids", "must be image ids (UUIDs)"))?;
    let outcome = state
        .db
        .run(move |conn| db::images::reorder(conn, product_id, &ids))
        .await?;
    state.products.clear();
    match outcome {
        Outcome::Done(rows) => Ok(HttpResponse::Ok().json(ImageList {
            items: rows.into_iter().map(ImageDto::from).collect(),
        })),
        _ => Err(product_not_found()),
    }
}

fn ids_of(path: &(String, String)) -> Result<(Uuid, Uuid), ApiError> {
    Ok((
        uuid_of(&path.0, product_not_found)?,
        uuid_of(&path.1, image_not_found)?,
    ))
}

#[utoipa::path(delete, path = "/api/products/{id}/images/{imageId}", operation_id = "deleteProductImage", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"),
        ("imageId" = Uuid, Path, description = "Image id")),
    responses(
        (status = 204, description = "Deleted with its thumbnails; the images after it move up one"),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product, or no such image of it", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (product_id, image_id) = ids_of(&path)?;
    let outcome = state
        .db
        .run(move |conn| db::images::remove(conn, product_id, image_id))
        .await?;
    state.products.clear();
    match outcome {
        Outcome::Done(_) => {
            let store = ImageStore::new(state.storage.clone());
            if let Err(e) = store
                .delete(&prefix(product_id, image_id), THUMBNAIL_WIDTHS)
                .await
            {
                tracing::warn!(image.id = %image_id, error = %e, "objects of a deleted image left in storage");
            }
            tracing::info!(product.id = %product_id, image.id = %image_id, admin = %admin.0.subject, "product image deleted");
            Ok(HttpResponse::NoContent().finish())
        }
        Outcome::NoImage => Err(image_not_found()),
        _ => Err(product_not_found()),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SizeParams {
    /// original (default), w200 or w600.
    #[param(schema_with = sizes_schema)]
    pub size: Option<String>,
}

fn sizes_schema() -> utoipa::openapi::Object {
    common::openapi::one_of(SIZES)
}

#[utoipa::path(get, path = "/api/products/{id}/images/{imageId}", operation_id = "getProductImage", tag = "products", security((), ("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"),
        ("imageId" = Uuid, Path, description = "Image id"), SizeParams),
    responses(
        (status = 200, description = "The image; `Cache-Control: public, max-age=31536000, immutable` for an active product, `private, no-cache` for others (admins only)", content_type = "image/*",
            headers(("ETag" = String, description = "The content's hash and the size"),
                    ("Cache-Control" = String, description = "public and immutable for an active product's image"))),
        (status = 304, description = "`If-None-Match` matched"),
        (status = 404, description = "No such product or image, or the product is not active and the caller is not an admin", body = ErrorEnvelope),
        (status = 422, description = "Unknown size", body = ErrorEnvelope),
    ))]
pub async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<(String, String)>,
    params: web::Query<SizeParams>,
) -> Result<HttpResponse, ApiError> {
    let (product_id, image_id) = ids_of(&path)?;
    let rendition = match params.size.as_deref().map(str::trim) {
        None => Rendition::Original,
        Some(raw) => Rendition::parse(raw, THUMBNAIL_WIDTHS).ok_or_else(|| {
            ApiError::validation("size", &format!("must be one of {}", SIZES.join(", ")))
        })?,
    };
    let admin = user.0.as_ref().is_some_and(|u| u.is_admin());
    let (image, status) = state
        .db
        .run(move |conn| Ok(db::images::find(conn, product_id, image_id)?))
        .await?
        .ok_or_else(image_not_found)?;
    let active = status == Status::Active.as_str();
    if !active && !admin {
        return Err(image_not_found());
    }
    let etag = format!("\"{}-{}\"", image.digest, rendition.name());
    let cache_control = if active {
        "public, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    if common::images::not_modified(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache_control))
            .finish());
    }
    let content_type = match rendition {
        Rendition::Original => image.content_type,
        Rendition::Width(_) => image.thumbnail_type,
    };
    let store = ImageStore::new(state.storage.clone());
    let bytes = store
        .load(&prefix(product_id, image_id), rendition)
        .await
        .map_err(|e| match e {
            common::storage::StorageError::NotFound { .. } => image_not_found(),
            other => ApiError::internal(format!("reading the image: {other}")),
        })?;
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control))
        .body(bytes))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(upload, reorder, serve, delete))]
pub struct ApiDoc;
