//! Validated input of the social app: each `parse` says what is wrong in words a
//! client can show.

mod caption;

pub use caption::{tag_of, Caption, CommentText, MAX_CAPTION_CHARS, MAX_HASHTAGS};

use common::tokens::AuthUser;
use serde::{Deserialize, Serialize};

/// A person as this service stores them: the issuer that signed their tokens and
/// their subject there. Profiles, URLs and JSON name people by subject alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Person {
    pub issuer: String,
    pub subject: String,
}

impl Person {
    pub fn of(user: &AuthUser) -> Self {
        Self {
            issuer: user.issuer.clone(),
            subject: user.subject.clone(),
        }
    }
}

/// A video URL given by a client (`POST /api/videos`): absolute http(s), the rule
/// of image URLs.
pub fn media_url(raw: &str) -> Result<String, &'static str> {
    common::domain::ImageUrl::parse(raw).map(common::domain::ImageUrl::into_inner)
}
