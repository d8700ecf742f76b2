//! Watchlist and favorites rows: one table, the list named in each row.

use common::pagination::PageParams;
use common::ApiError;
use diesel::prelude::*;

use super::models::{NewSavedTitle, SavedTitle};
use super::schema::saved_titles;
use super::Owner;

/// Inserts unless the owner already saved this title; `None` when it was there.
pub fn insert_if_absent(
    conn: &mut PgConnection,
    new: &NewSavedTitle,
) -> Result<Option<SavedTitle>, ApiError> {
    Ok(diesel::insert_into(saved_titles::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(SavedTitle::as_returning())
        .get_result(conn)
        .optional()?)
}

pub fn find(
    conn: &mut PgConnection,
    owner: &Owner,
    list: &str,
    media_type: &str,
    tmdb_id: i64,
) -> Result<Option<SavedTitle>, ApiError> {
    Ok(saved_titles::table
        .filter(saved_titles::owner_issuer.eq(&owner.issuer))
        .filter(saved_titles::owner_subject.eq(&owner.subject))
        .filter(saved_titles::list.eq(list))
        .filter(saved_titles::media_type.eq(media_type))
        .filter(saved_titles::tmdb_id.eq(tmdb_id))
        .select(SavedTitle::as_select())
        .first(conn)
        .optional()?)
}

/// A page of the owner's list, newest first, optionally of one media type.
pub fn page(
    conn: &mut PgConnection,
    owner: &Owner,
    list: &str,
    media_type: Option<&str>,
    params: PageParams,
) -> Result<(Vec<SavedTitle>, i64), ApiError> {
    let filtered = || {
        let mut query = saved_titles::table
            .filter(saved_titles::owner_issuer.eq(&owner.issuer))
            .filter(saved_titles::owner_subject.eq(&owner.subject))
            .filter(saved_titles::list.eq(list))
            .into_boxed();
        if let Some(media_type) = media_type {
            query = query.filter(saved_titles::media_type.eq(media_type));
        }
        query
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let items = filtered()
        .order((saved_titles::added_at.desc(), saved_titles::id.desc()))
        .limit(params.limit)
        .offset(params.offset())
        .select(SavedTitle::as_select())
        .load(conn)?;
    Ok((items, total))
}

/// Removes the title from the owner's list; the number of rows removed (0 or 1).
pub fn delete(
    conn: &mut PgConnection,
    owner: &Owner,
    list: &str,
    media_type: &str,
    tmdb_id: i64,
) -> Result<usize, ApiError> {
    Ok(diesel::delete(
        saved_titles::table
            .filter(saved_titles::owner_issuer.eq(&owner.issuer))
            .filter(saved_titles::owner_subject.eq(&owner.subject))
            .filter(saved_titles::list.eq(list))
            .filter(saved_titles::media_type.eq(media_type))
            .filter(saved_titles::tmdb_id.eq(tmdb_id)),
    )
    .execute(conn)?)
}
