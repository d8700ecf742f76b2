//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/meeting-user-sync.openapi.json` (a test fails when the two drift).

use actix_web::HttpResponse;
use common::openapi::BearerAuth;
use utoipa::OpenApi;

use crate::live::socket;
use crate::routes::{chat, dto, internal, meetings, profile, webhooks};

#[derive(OpenApi)]
#[openapi(
    info(title = "Reelstack meeting-user-sync", description = "The user directory for every issuer, meetings, chat and live signaling."),
    paths(
        profile::sync_me, profile::get_profile, profile::patch_profile,
        webhooks::clerk,
        meetings::create, meetings::list, meetings::get_one, meetings::patch, meetings::delete,
        meetings::join, meetings::leave, meetings::end, meetings::participants, meetings::remove_participant,
        chat::post, chat::history, socket::live,
        internal::upsert_user, internal::delete_user, internal::batch,
    ),
    components(schemas(dto::ErrorEnvelope, dto::ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// The document as committed: pretty JSON with a trailing newline.
pub fn document_json() -> anyhow::Result<String> {
    common::openapi::committed_json(&ApiDoc::openapi())
}

pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}
