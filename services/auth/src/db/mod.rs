//! Diesel models and queries of the auth database. Every function takes a
//! connection and runs inside `Db::run` on the blocking pool.

pub mod codes;
pub mod keys;
pub mod models;
pub mod outbox;
#[rustfmt::skip]
pub mod schema;
pub mod sessions;
pub mod users;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/auth");
