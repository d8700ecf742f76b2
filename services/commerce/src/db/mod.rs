//! Diesel models and queries of the commerce database. Every function takes a
//! connection and runs inside `Db::run` on the blocking pool.

pub mod analytics;
pub mod carts;
pub mod categories;
pub mod images;
pub mod inventory;
pub mod models;
pub mod orders;
pub mod products;
pub mod search;
pub mod stock;
#[rustfmt::skip]
pub mod schema;
pub mod variants;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};

use common::ApiError;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/commerce");

/// Maps a foreign-key violation of the named constraint to a specific error
/// (`common::error::ResultExt::on_constraint` covers unique violations only);
/// other errors take the shared mapping.
pub(crate) fn on_foreign_key<T>(
    result: Result<T, DieselError>,
    name: &str,
    f: impl FnOnce() -> ApiError,
) -> Result<T, ApiError> {
    match result {
        Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info))
            if info.constraint_name() == Some(name) =>
        {
            Err(f())
        }
        other => other.map_err(ApiError::from),
    }
}

/// The first free slug among `base`, `base-2`, `base-3`, ... given the slugs
/// already `taken` that start with `base`.
pub(crate) fn first_free(base: &crate::domain::Slug, taken: &[String]) -> crate::domain::Slug {
    if !taken.iter().any(|t| t == base.as_str()) {
        return base.clone();
    }
    (2u32..)
        .map(|n| base.numbered(n))
        .find(|candidate| !taken.iter().any(|t| t == candidate.as_str()))
        .unwrap_or_else(|| base.clone())
}

/// Serializes writers that pick a slug made from `base` in `scope` (products
/// or categories) until the transaction ends, so two of them never pick the
/// same free one.
pub(crate) fn lock_slug(
    conn: &mut diesel::pg::PgConnection,
    scope: &str,
    base: &str,
) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<diesel::sql_types::Text, _>(format!("commerce:{scope}-slug:{base}"))
        .execute(conn)
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use crate::domain::Slug;

    #[test]
    fn the_first_free_slug_is_numbered_from_two() {
        let base = Slug::parse("tee").unwrap();
        assert_eq!(first_free(&base, &[]).as_str(), "tee");
        let taken = ["tee".to_owned(), "tee-2".to_owned(), "tee-shirt".to_owned()];
        assert_eq!(first_free(&base, &taken).as_str(), "tee-3");
    }
}
