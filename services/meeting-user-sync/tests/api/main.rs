#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

//! meeting-user-sync's integration tests: the real application on a real socket,
//! each test with its own database, its own clerk-sim and a real auth service.

mod basics;
mod directory;
mod helpers;
mod internal;
mod live;
mod meetings;
mod outbox;
mod resilience;
mod webhooks;
