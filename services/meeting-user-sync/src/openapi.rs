//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/meeting-user-sync.openapi.json` (a test fails when the two drift).

use utoipa::OpenApi;

use crate::live::socket;
use crate::routes::{chat, internal, meetings, profile, webhooks};

#[derive(OpenApi)]
#[openapi(paths(
    profile::sync_me,
    profile::get_profile,
    profile::patch_profile,
    webhooks::clerk,
    meetings::create,
    meetings::list,
    meetings::get_one,
    meetings::patch,
    meetings::delete,
    meetings::join,
    meetings::leave,
    meetings::end,
    meetings::participants,
    meetings::remove_participant,
    chat::post,
    chat::history,
    socket::live,
    internal::upsert_user,
    internal::delete_user,
    internal::batch,
))]
struct ApiDoc;

/// The finished document: what is served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    common::openapi::finish(
        ApiDoc::openapi(),
        "Reelstack meeting-user-sync",
        "The user directory for every issuer, meetings, chat and live signaling.",
    )
}
