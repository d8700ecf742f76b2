//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/social.openapi.json` (a test fails when the two drift).

use utoipa::OpenApi;

use crate::routes::{comments, feed, media, notifications, uploads, users, videos};

#[derive(OpenApi)]
#[openapi(paths(
    videos::create,
    videos::get_one,
    videos::patch,
    videos::delete,
    videos::like,
    videos::unlike,
    videos::view,
    videos::by_user,
    media::upload,
    media::stream,
    media::hls,
    media::poster,
    uploads::options,
    uploads::create,
    uploads::head,
    uploads::get_one,
    uploads::patch,
    uploads::delete,
    feed::search,
    comments::post,
    comments::list,
    comments::replies,
    comments::delete,
    comments::like,
    comments::unlike,
    users::profile,
    users::follow,
    users::unfollow,
    users::followers,
    users::following,
    users::likes,
    feed::following,
    feed::trending,
    feed::for_you,
    feed::by_tag,
    feed::trending_tags,
    notifications::list,
    notifications::unread_count,
    notifications::read,
    notifications::stream,
))]
struct ApiDoc;

/// The finished document: what is served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    common::openapi::finish(
        ApiDoc::openapi(),
        "Reelstack social",
        "Short videos (hosted elsewhere, uploaded, or uploaded resumably with tus 1.0.0), comments, likes, follows, feeds, hashtags and notifications.",
    )
}
