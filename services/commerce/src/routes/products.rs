//! Products: public reads of active ones, admin writes. Answers carry the
//! product's `ETag` (its revision, see `crate::domain::IfMatch`); writes sent
//! with `If-Match` happen only on that revision (412 otherwise). Reads do not
//! answer 304 to `If-None-Match`: the revision does not cover stock, so a 304
//! could keep a stale `available` in a cache.

use std::collections::HashSet;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use common::domain::{bounded_multiline, bounded_text, double_option};
use common::tokens::{AdminUser, MaybeUser};
use common::{ApiError, FieldErrors};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::variants::{NewVariantRequest, VariantRequest};
use super::{if_match, present, uuid_of};
use crate::cache::CachedProduct;
use crate::db;
use crate::db::models::ProductView;
use crate::db::products::{Lookup, NewProduct, ProductChanges};
use crate::domain::{
    check_variants, etag, Attributes, ProductOption, Slug, Status, VariantFields,
    MAX_DESCRIPTION_CHARS, MAX_PRODUCT_CATEGORIES, MAX_SLUG_CHARS, MAX_TITLE_CHARS, MAX_VARIANTS,
    SLUG_PATTERN,
};
use crate::dto::{ErrorEnvelope, ProductDto};
use crate::errors::product_not_found;
use crate::state::AppState;

/// One option as sent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OptionRequest {
    /// 1-50 characters, unique among the product's options whatever the case.
    #[schema(value_type = String, required = true, format = "text", max_length = 50)]
    pub name: Option<String>,
    #[schema(schema_with = crate::domain::values_schema, required = true)]
    pub values: Option<Vec<String>>,
}

/// `PATCH /api/products/{id}`: any of the fields; `description: null` removes
/// it. Variants change through their own routes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductRequest {
    /// Lower-case letters and digits in words joined by hyphens, at most 100
    /// characters, not a UUID; unique. A new title keeps the slug.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 100)]
    pub slug: Option<Option<String>>,
    /// 1-200 characters.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, format = "text", max_length = 200)]
    pub title: Option<Option<String>>,
    /// Up to 10,000 characters, line breaks allowed; blank or `null`: none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = "multiline-or-blank", max_length = 10000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Status)]
    pub status: Option<Option<String>>,
    /// The slugs of its categories (at most 20, each once), in display order;
    /// replaces the list.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = category_slugs_schema)]
    pub categories: Option<Option<Vec<String>>>,
    /// Replaces the attributes.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(schema_with = crate::domain::attributes_schema)]
    pub attributes: Option<Option<Map<String, Value>>>,
    /// At most 3; replaces the options. Every variant must still name one
    /// value of each.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<OptionRequest>, max_items = 3)]
    pub options: Option<Option<Vec<OptionRequest>>>,
    // Read only to refuse it (422): variants change through
    // `/api/products/{id}/variants`. `POST` takes them (`NewProductRequest`).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(ignore)]
    pub variants: Option<Option<Vec<VariantRequest>>>,
}

/// `POST /api/products`: a new product with its variants.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "documentation only")]
pub struct NewProductRequest {
    /// Unique; made from the title when absent (`-2`, `-3`, ... added while
    /// taken).
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length = 100)]
    slug: String,
    /// 1-200 characters.
    #[schema(format = "text", max_length = 200)]
    title: String,
    /// Up to 10,000 characters, line breaks allowed; blank or `null`: none.
    #[schema(format = "multiline-or-blank", max_length = 10000)]
    description: Option<String>,
    /// `draft` when absent.
    #[serde(default)]
    #[schema(value_type = Status)]
    status: String,
    /// The slugs of its categories (at most 20, each once), in display order.
    #[serde(default)]
    #[schema(schema_with = category_slugs_schema)]
    categories: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::domain::attributes_schema)]
    attributes: Value,
    /// At most 3.
    #[serde(default)]
    #[schema(max_items = 3)]
    options: Vec<OptionRequest>,
    /// At most 250, each naming one value of each option, no two the same
    /// combination or SKU.
    #[serde(default)]
    #[schema(max_items = 250)]
    variants: Vec<NewVariantRequest>,
}

/// Adds the problems of `more` to `errors`.
fn merge(errors: &mut FieldErrors, more: FieldErrors) {
    for (field, messages) in more.0 {
        for message in messages {
            errors.add(field.clone(), message);
        }
    }
}

fn category_slugs(raw: Vec<String>, errors: &mut FieldErrors) -> Vec<String> {
    if raw.len() > MAX_PRODUCT_CATEGORIES {
        errors.add(
            "categories",
            format!("must have at most {MAX_PRODUCT_CATEGORIES} categories"),
        );
    }
    let mut seen = HashSet::new();
    if let Some(twice) = raw.iter().find(|slug| !seen.insert(slug.as_str())) {
        errors.add("categories", format!("lists {twice:?} twice"));
    }
    // Checked before any query: a slug that cannot be one names no category,
    // and one holding a NUL would reach PostgreSQL, which refuses it (400).
    if let Some(bad) = raw.iter().find(|slug| Slug::parse(slug).is_err()) {
        errors.add("categories", format!("{bad:?} is not a category slug"));
    }
    raw
}

/// The schema of `categories`: category slugs, each once.
fn category_slugs_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let slug = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(SLUG_PATTERN))
        .max_length(Some(MAX_SLUG_CHARS));
    ArrayBuilder::new()
        .items(slug)
        .description(Some(format!(
            "The slugs of its categories (at most {MAX_PRODUCT_CATEGORIES}, each once), in display order; a PATCH replaces the list."
        )))
        .max_items(Some(MAX_PRODUCT_CATEGORIES))
        .unique_items(true)
        .build()
}

/// The product fields of a body; `complete` (POST) requires a title.
fn changes_of(body: ProductRequest, complete: bool, errors: &mut FieldErrors) -> ProductChanges {
    let mut changes = ProductChanges {
        slug: present(errors, "slug", body.slug, false, |raw: String| {
            Slug::parse(&raw)
        }),
        title: present(errors, "title", body.title, complete, |raw| {
            bounded_text(&raw, MAX_TITLE_CHARS)
        }),
        ..ProductChanges::default()
    };
    match body.description {
        Some(Some(raw)) => match bounded_multiline(&raw, MAX_DESCRIPTION_CHARS) {
            Ok(description) => changes.description = Some(description),
            Err(e) => errors.add("description", e),
        },
        Some(None) => changes.description = Some(None),
        None => {}
    }
    changes.status = present(errors, "status", body.status, false, |raw| {
        Status::parse(&raw)
    });
    match body.categories {
        Some(Some(raw)) => changes.categories = Some(category_slugs(raw, errors)),
        Some(None) => errors.add("categories", "must not be null"),
        None => {}
    }
    match body.attributes {
        Some(Some(map)) => match Attributes::parse(map) {
            Ok(attributes) => changes.attributes = Some(attributes.into_value()),
            Err(more) => merge(errors, more),
        },
        Some(None) => errors.add("attributes", "must not be null"),
        None => {}
    }
    match body.options {
        Some(Some(raw)) => {
            let raw = raw.into_iter().map(|o| (o.name, o.values)).collect();
            match ProductOption::parse_all(raw) {
                Ok(options) => changes.options = Some(options),
                Err(more) => merge(errors, more),
            }
        }
        Some(None) => errors.add("options", "must not be null"),
        None => {}
    }
    changes
}

/// The answer with a product: its JSON and `ETag`.
/// The answer of a catalog write that changed `view` (the cache of public
/// answers forgets everything it had).
pub(crate) fn answer(
    status: StatusCode,
    view: ProductView,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    state.products.clear();
    let tag = etag(view.product.version);
    let id = view.product.id;
    let product = ProductDto::new(view, &state.settings.shop_currency)?;
    let mut response = HttpResponse::build(status);
    response.insert_header((header::ETAG, tag));
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, format!("/api/products/{id}")));
    }
    Ok(response.json(product))
}

#[utoipa::path(get, path = "/api/products/{id}", operation_id = "getProduct", tag = "products", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "Product id, or its slug")),
    responses(
        (status = 200, description = "The product; drafts and archived ones for admins only", body = ProductDto,
            headers(("ETag" = String, description = "The product's revision, for If-Match"))),
        (status = 404, description = "No such product, or not active and the caller is not an admin", body = ErrorEnvelope),
    ))]
pub async fn get_one(
    state: web::Data<AppState>,
    user: MaybeUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let key = path.trim().to_owned();
    let admin = user.0.as_ref().is_some_and(|u| u.is_admin());
    if !admin {
        if let Some(hit) = state.products.get(&key) {
            return Ok(product_answer(&hit));
        }
    }
    let read_at = state.products.generation();
    let lookup = Lookup::of(&key);
    let view = state
        .db
        .run(move |conn| {
            let product = db::products::find(conn, &lookup)?
                .filter(|p| admin || p.status == Status::Active.as_str());
            Ok(product.map(|p| db::products::view(conn, p)).transpose()?)
        })
        .await?
        .ok_or_else(product_not_found)?;
    // Only what everyone may see is cached (admins read drafts too).
    let public = view.product.status == Status::Active.as_str();
    let cached = CachedProduct {
        etag: etag(view.product.version),
        body: serde_json::to_vec(&ProductDto::new(view, &state.settings.shop_currency)?)
            .map_err(|e| ApiError::internal(format!("encoding a product: {e}")))?
            .into(),
    };
    let response = product_answer(&cached);
    if public {
        state.products.put(&key, read_at, cached);
    }
    Ok(response)
}

fn product_answer(product: &CachedProduct) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, product.etag.clone()))
        .content_type("application/json")
        .body(product.body.clone())
}

#[utoipa::path(post, path = "/api/products", operation_id = "createProduct", tag = "products", security(("bearer" = [])),
    request_body = NewProductRequest,
    responses(
        (status = 201, description = "Created, with its `Location` and `ETag`", body = ProductDto,
            headers(("ETag" = String, description = "The product's revision, for If-Match"),
                    ("Location" = String, description = "The product's URL"))),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 409, description = "SLUG_TAKEN: another product has this slug; SKU_TAKEN: another variant has one of these SKUs", body = ErrorEnvelope),
        (status = 422, description = "Missing or invalid fields, unknown categories, or variants that do not fit the options, share a combination or a SKU", body = ErrorEnvelope),
    ))]
pub async fn create(
    state: web::Data<AppState>,
    _admin: AdminUser,
    body: common::Json<ProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.into_inner();
    let mut errors = FieldErrors::new();
    let variants: Vec<(usize, VariantFields)> = match body.variants.take() {
        Some(Some(raw)) => {
            if raw.len() > MAX_VARIANTS {
                errors.add(
                    "variants",
                    format!("must have at most {MAX_VARIANTS} variants"),
                );
            }
            raw.into_iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    super::variants::fields_of(v, &format!("variants[{i}]."), &mut errors)
                        .map(|fields| (i, fields))
                })
                .collect()
        }
        Some(None) => {
            errors.add("variants", "must not be null");
            Vec::new()
        }
        None => Vec::new(),
    };
    let changes = changes_of(body, true, &mut errors);
    // Against the options only when they are right: wrong ones say it already.
    if !errors.0.keys().any(|field| field.starts_with("options")) {
        let options = changes.options.clone().unwrap_or_default();
        check_variants(&options, &variants, &mut errors);
    }
    errors.into_result()?;
    let options = changes.options.unwrap_or_default();
    let new = NewProduct {
        slug: changes.slug,
        title: changes.title.unwrap_or_default(),
        description: changes.description.flatten(),
        status: changes.status.unwrap_or(Status::Draft),
        categories: changes.categories.unwrap_or_default(),
        attributes: changes
            .attributes
            .unwrap_or_else(|| Value::Object(Map::new())),
        options,
        variants: variants.into_iter().map(|(_, fields)| fields).collect(),
    };
    let view = state
        .db
        .run(move |conn| db::products::create(conn, new))
        .await?;
    answer(StatusCode::CREATED, view, &state)
}

#[utoipa::path(patch, path = "/api/products/{id}", operation_id = "updateProduct", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change was made from; 412 when the product changed since")),
    request_body = ProductRequest,
    responses(
        (status = 200, description = "The product as changed, with its new `ETag`", body = ProductDto,
            headers(("ETag" = String, description = "The product's new revision"))),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product", body = ErrorEnvelope),
        (status = 409, description = "SLUG_TAKEN: another product has this slug", body = ErrorEnvelope),
        (status = 412, description = "PRECONDITION_FAILED: If-Match names another revision (details.etag is the current one)", body = ErrorEnvelope),
        (status = 422, description = "Invalid fields, unknown categories, variants in the body, or options that a variant no longer fits", body = ErrorEnvelope),
    ))]
pub async fn patch(
    state: web::Data<AppState>,
    _admin: AdminUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: common::Json<ProductRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, product_not_found)?;
    let mut body = body.into_inner();
    let mut errors = FieldErrors::new();
    if body.variants.take().is_some() {
        errors.add(
            "variants",
            "cannot be changed here: use /api/products/{id}/variants",
        );
    }
    let changes = changes_of(body, false, &mut errors);
    errors.into_result()?;
    let condition = if_match(&req);
    let view = state
        .db
        .run(move |conn| db::products::update(conn, id, &condition, changes))
        .await?
        .ok_or_else(product_not_found)?;
    answer(StatusCode::OK, view, &state)
}

#[utoipa::path(delete, path = "/api/products/{id}", operation_id = "deleteProduct", tag = "products", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Product id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the deletion was decided on; 412 when the product changed since")),
    responses(
        (status = 204, description = "Deleted with its variants"),
        (status = 200, description = "Archived instead, because orders name it: the product, now `archived`, with its new `ETag`", body = ProductDto,
            headers(("ETag" = String, description = "The product's new revision"))),
        (status = 403, description = "FORBIDDEN: not an admin", body = ErrorEnvelope),
        (status = 404, description = "No such product", body = ErrorEnvelope),
        (status = 412, description = "PRECONDITION_FAILED: If-Match names another revision (details.etag is the current one)", body = ErrorEnvelope),
    ))]
pub async fn delete(
    state: web::Data<AppState>,
    admin: AdminUser,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_of(&path, product_not_found)?;
    let condition = if_match(&req);
    let deletion = state
        .db
        .run(move |conn| db::products::delete(conn, id, &condition))
        .await?;
    state.products.clear();
    match deletion {
        db::products::Deletion::Deleted => {
            super::images::remove_product_images(&state, id).await;
            tracing::info!(product.id = %id, admin = %admin.0.subject, "product deleted");
            Ok(HttpResponse::NoContent().finish())
        }
        db::products::Deletion::Archived(view) => {
            tracing::info!(product.id = %id, admin = %admin.0.subject, "product archived: orders name it");
            answer(StatusCode::OK, *view, &state)
        }
        db::products::Deletion::NotFound => Err(product_not_found()),
    }
}
