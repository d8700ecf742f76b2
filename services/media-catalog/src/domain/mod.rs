//! Validated input types: each `parse` says what is wrong in words a client can
//! show, and the catalog's query rules are checked before any call to TMDB.

mod library;
mod media_type;
pub mod params;

pub use library::{MovieTitle, ReleaseYear};
pub use media_type::MediaType;
