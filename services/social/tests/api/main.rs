#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! social's API tests: the real service on loopback with its own database,
//! beside a real auth and a real directory.

mod helpers;

mod basics;
mod comments;
mod directory;
mod feeds;
mod follows;
mod idempotency;
mod likes;
mod notifications;
mod ranked;
mod recount;
mod tus;
mod uploads;
mod videos;
mod views;
