#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! commerce's API tests: the real service on loopback with its own database,
//! with tokens of a test issuer that serves a real JWKS.

mod helpers;

mod analytics;
mod basics;
mod cart;
mod categories;
mod concurrency;
mod contract;
mod images;
mod inventory;
mod orders;
mod products;
mod search;
mod variants;
