//! The category tree: public reads, admin writes.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use common::domain::{bounded_text, double_option, double_option_whole_number};
use common::tokens::AdminUser;
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db;
use crate::db::categories::{CategoryChanges, NewCategory};
use crate::domain::{position, Slug, MAX_NAME_CHARS};
use crate::dto::{CategoryDto, CategoryTree, ErrorEnvelope};
use crate::errors::category_not_found;
use crate::routes::present;
use crate::state::AppState;

/// `POST` needs `name`; `PATCH` takes any field, and `parentId: null` makes the
/// category a root.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRequest {
    /// Lower-case letters and digits in words joined by hyphens, at most 100
    /// characters, not a UUID; unique.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<Option<String>>,
    /// 1-200 characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = "text", max_length = 200)]
    pub name: Option<Option<String>>,
    /// The parent category; `null`: a root. Not the category itself nor one of
    /// its descendants.
    #[serde(default, deserialize_with = "double_option")]
    // Read as text and parsed here: a value that is not a UUID is a field
    // error (422), not a malformed body (400).
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<String>>,
    /// Order among siblings, 0-10000.
    #[serde(default, deserialize_with = "double_option_whole_number")]
    #[schema(value_type = i64, minimum = 0, maximum = 10000)]
    pub position: Option<Option<i64>>,
}

/// `POST /api/categories`: a new category.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "documentation only")]
pub struct NewCategoryRequest {
    /// Unique; made from the name when absent (`-2`, `-3`, ... added while
    /// taken).
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 100)]
    slug: String,
    /// 1-200 characters.
    #[schema(format = "text", max_length = 200)]
    name: String,
    /// The parent category; absent or `null`: a root.
    parent_id: Option<Uuid>,
    /// Order among siblings, 0-10000; absent: after the last one.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    position: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct DeleteParams {
    /// The slug of the category that takes over the deleted one's products.
    #[param(max_length = 100)]
    pub reassign_to: Option<String>,
}

fn changes_of(body: CategoryRequest, complete: bool) -> Result<CategoryChanges, ApiError> {
    let mut errors = FieldErrors::new();
    let mut changes = CategoryChanges {
        slug: present(&mut errors, "slug", body.slug, false, |raw: String| {
            Slug::parse(&raw)
        }),
        name: present(&mut errors, "name", body.name, complete, |raw| {
            bounded_text(&raw, MAX_NAME_CHARS)
        }),
        ..CategoryChanges::default()
    };
    match body.parent_id {
        Some(Some(raw)) => match Uuid::parse_str(raw.trim()) {
            Ok(id) => changes.parent_id = Some(Some(id)),
            Err(_) => errors.add("parentId", "must be a UUID"),
        },
        Some(None) => changes.parent_id = Some(None),
        None => {}
    }
    changes.position = present(&mut errors, "position", body.position, false, position);
    errors.into_result()?;
    Ok(changes)
}

#[utoipa::path(get, path = "/api/categories", operation_id = "listCategories", tag = "categories",
    responses(
        (status = 200, description = "Every category, depth first", body = CategoryTree),
    ))]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tree = state.db.run(|conn| Ok(db::categories::tree(conn)?)).await?;
    Ok(HttpResponse::Ok().json(CategoryTree {
        items: tree.into_iter().map(CategoryDto::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/categories/{slug}", operation_id = "getCategory", tag = "categories",
    params(("slug" = String, Path, description = "Category slug")),
    responses(
        (status = 200, description = "The category", body = CategoryDto),
        (status = 404, description = "No such category", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.into_inner();
    let placed = state
        .db
        .run(move |conn| Ok(db::categories::find_placed(conn, &slug)?))
        .await?
        .ok_or_else(category_not_found)?;
    Ok(HttpResponse::Ok().json(CategoryDto::from(placed)))
}

#[utoipa::path(post, path = "/api/categories", operation_id = "createCategory", tag = "categories", security(("bearer" = [])),
    request_body = NewCategoryRequest,
    responses(
        (status = 201, description = "Created, with its `Location`", body = CategoryDto),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 409, description = "SLUG_TAKEN: another category has this slug", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid fields, or a parentId that names no category", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: common::Json<CategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = changes_of(body.into_inner(), true)?;
    let new = NewCategory {
        slug: changes.slug,
        name: changes.name.unwrap_or_default(),
        parent_id: changes.parent_id.flatten(),
        position: changes.position,
    };
    let placed = state
        .db
        .run(move |conn| db::categories::create(conn, new))
        .await?;
    let location = format!("/api/categories/{}", placed.category.slug);
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(CategoryDto::from(placed)))
}

#[utoipa::path(patch, path = "/api/categories/{slug}", operation_id = "updateCategory", tag = "categories", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Category slug")),
    request_body = CategoryRequest,
    responses(
        (status = 200, description = "The category as changed (a new slug changes its descendants' paths)", body = CategoryDto),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such category", body = ErrorEnvelope),
        (status = 409, description = "SLUG_TAKEN: another category has this slug", body = ErrorEnvelope),
        (status = 422, description = "Invalid fields, or a parentId that names no category, the category itself or one of its descendants", body = ErrorEnvelope),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    _admin: AdminUser,
    path: web::Path<String>,
    body: common::Json<CategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    let changes = changes_of(body.into_inner(), false)?;
    let slug = path.into_inner();
    let placed = state
        .db
        .run(move |conn| db::categories::update(conn, &slug, changes))
        .await?
        .ok_or_else(category_not_found)?;
    // Products name their categories.
    state.products.clear();
    Ok(HttpResponse::Ok().json(CategoryDto::from(placed)))
}

#[utoipa::path(delete, path = "/api/categories/{slug}", operation_id = "deleteCategory", tag = "categories", security(("bearer" = [])),
    params(("slug" = String, Path, description = "Category slug"), DeleteParams),
    responses(
        (status = 204, description = "Deleted; its products, if any, now belong to `reassignTo`"),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such category", body = ErrorEnvelope),
        (status = 409, description = "CATEGORY_IN_USE: products still belong to it and no reassignTo was given (details.products counts them); CATEGORY_HAS_CHILDREN: it has subcategories", body = ErrorEnvelope),
        (status = 422, description = "reassignTo names no category, or the deleted one", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    admin: AdminUser,
    path: web::Path<String>,
    query: web::Query<DeleteParams>,
) -> Result<HttpResponse, ApiError> {
    let slug = path.into_inner();
    let reassign_to = query.into_inner().reassign_to;
    let (which, target) = (slug.clone(), reassign_to.clone());
    let deleted = state
        .db
        .run(move |conn| db::categories::delete(conn, &slug, reassign_to.as_deref()))
        .await?;
    state.products.clear();
    if deleted {
        tracing::info!(category.slug = %which, reassigned_to = ?target, admin = %admin.0.subject, "category deleted");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(category_not_found())
    }
}
