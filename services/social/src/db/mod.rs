//! Diesel models and queries of the social database. Every function takes a
//! connection and runs inside `Db::run` on the blocking pool.

pub mod comments;
pub mod follows;
pub mod jobs;
pub mod models;
pub mod notifications;
pub mod recount;
#[rustfmt::skip]
pub mod schema;
pub mod trending;
pub mod uploads;
pub mod videos;
pub mod views;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/social");

/// The database's clock `secs` from now (one clock for every replica). An
/// integer is all that goes into the SQL text.
pub(crate) fn from_now(
    secs: i32,
) -> diesel::expression::SqlLiteral<diesel::sql_types::Timestamptz> {
    diesel::dsl::sql(&format!("now() + interval '{secs} seconds'"))
}
