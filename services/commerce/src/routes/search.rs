//! Search over active products with facets, and suggestions as one types.

use actix_web::web;
use utoipa::OpenApi;

pub fn configure(_cfg: &mut web::ServiceConfig) {}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths())]
pub struct ApiDoc;

/// Readies search for the configured language before the service answers
/// (a no-op until it is built).
pub async fn prepare(
    _db: &common::db::Db,
    _settings: &crate::config::CommerceSettings,
) -> anyhow::Result<()> {
    Ok(())
}
