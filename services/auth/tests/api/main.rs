#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

//! Auth's integration tests: the real application on a real socket, each test
//! with its own database.

mod account;
mod admin;
mod basics;
mod helpers;
mod internal;
mod keys;
mod me;
mod outbox;
mod process;
mod recovery;
mod resilience;
mod sessions;
