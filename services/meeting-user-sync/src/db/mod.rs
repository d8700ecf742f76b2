//! Diesel models and queries of the meetings database. Every function takes a
//! connection and runs inside `Db::run` on the blocking pool.

pub mod meetings;
pub mod models;
pub mod profiles;
#[rustfmt::skip]
pub mod schema;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/meeting-user-sync");
