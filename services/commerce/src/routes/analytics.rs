//! First-party analytics: events, hourly rollups, admin reports.

use actix_web::web;
use utoipa::OpenApi;

pub fn configure(_cfg: &mut web::ServiceConfig) {}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths())]
pub struct ApiDoc;

/// The background job of this module (a no-op until it is built).
pub fn spawn_rollups(
    _tasks: &mut common::tasks::Tasks,
    _db: common::db::Db,
    _settings: &crate::config::CommerceSettings,
) {
}
