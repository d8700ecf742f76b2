use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `movie` or `tv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaType {
    Movie,
    Tv,
}

impl MediaType {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "movie" => Some(Self::Movie),
            "tv" => Some(Self::Tv),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Movie => "movie",
            Self::Tv => "tv",
        }
    }

    /// "Movie" or "TV show", for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Movie => "Movie",
            Self::Tv => "TV show",
        }
    }
}
