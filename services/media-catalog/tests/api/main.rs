#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

//! media-catalog's integration tests: the real application on a real socket, each
//! test with its own database, its own tmdb-sim (a real HTTP server speaking TMDB's
//! wire format), its own Redis key prefix and its own poster folder.

mod basics;
mod cache;
mod catalog;
mod helpers;
mod library;
mod lists;
mod posters;
mod resilience;
