//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/auth.openapi.json` (a test fails when the two drift).

use utoipa::OpenApi;

use crate::routes::{account, admin, internal, me, recovery, sessions};

#[derive(OpenApi)]
#[openapi(paths(
    account::signup,
    account::login,
    account::refresh,
    account::logout,
    account::logout_all,
    me::get_me,
    me::patch_me,
    me::change_password,
    sessions::list,
    sessions::revoke,
    recovery::request_verification,
    recovery::verify_email,
    recovery::request_reset,
    recovery::reset_password,
    admin::list_users,
    admin::update_user,
    internal::jwks,
    internal::service_token,
    internal::user_by_id,
    internal::users_batch,
))]
struct ApiDoc;

/// The finished document: what is served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    common::openapi::finish(
        ApiDoc::openapi(),
        "Reelstack auth",
        "First-party identity: accounts, sessions, tokens, JWKS.",
    )
}
