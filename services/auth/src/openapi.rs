//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/auth.openapi.json` (a test fails when the two drift).

use actix_web::HttpResponse;
use common::openapi::BearerAuth;
use utoipa::OpenApi;

use crate::routes::{account, admin, dto, internal, me, recovery, sessions};

#[derive(OpenApi)]
#[openapi(
    info(title = "Reelstack auth", description = "First-party identity: accounts, sessions, tokens, JWKS."),
    paths(
        account::signup, account::login, account::refresh, account::logout, account::logout_all,
        me::get_me, me::patch_me, me::change_password,
        sessions::list, sessions::revoke,
        recovery::request_verification, recovery::verify_email, recovery::request_reset, recovery::reset_password,
        admin::list_users, admin::update_user,
        internal::jwks, internal::service_token, internal::user_by_id, internal::users_batch,
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
