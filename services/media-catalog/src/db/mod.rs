//! Diesel models and queries of the catalog database. Every function takes a
//! connection and runs inside `Db::run` on the blocking pool.

pub mod library;
pub mod models;
#[rustfmt::skip]
pub mod schema;
pub mod saved;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/media-catalog");

/// Who owns a row: the token's issuer name and subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub issuer: String,
    pub subject: String,
}

impl From<&common::tokens::AuthUser> for Owner {
    fn from(user: &common::tokens::AuthUser) -> Self {
        Self {
            issuer: user.issuer.clone(),
            subject: user.subject.clone(),
        }
    }
}
