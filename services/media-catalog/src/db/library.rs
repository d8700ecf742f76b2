//! The personal movie library. Every query is scoped to the owner, so another
//! user's id behaves exactly like an id that does not exist.

use chrono::Utc;
use common::pagination::PageParams;
use common::ApiError;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{LibraryMovie, NewLibraryMovie, PosterColumns};
use super::schema::{library_counts, library_movies};
use super::Owner;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// List orders; each has an index led by the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibrarySort {
    CreatedAt,
    CreatedAtDesc,
    Title,
    TitleDesc,
    Year,
    YearDesc,
}

impl LibrarySort {
    pub const ACCEPTED: &'static [&'static str] = &[
        "createdAt",
        "-createdAt",
        "title",
        "-title",
        "year",
        "-year",
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "createdAt" => Self::CreatedAt,
            "-createdAt" => Self::CreatedAtDesc,
            "title" => Self::Title,
            "-title" => Self::TitleDesc,
            "year" => Self::Year,
            "-year" => Self::YearDesc,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct LibraryFilter {
    /// Part of the title, matched case-insensitively.
    pub q: Option<String>,
    pub year: Option<i32>,
    pub sort: LibrarySort,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = library_movies)]
pub struct MovieChanges {
    pub title: Option<String>,
    pub year: Option<i32>,
    /// `Some(None)` clears the URL.
    pub image_url: Option<Option<String>>,
}

fn owned_by<'a>(owner: &'a Owner) -> library_movies::BoxedQuery<'a, diesel::pg::Pg> {
    library_movies::table
        .filter(library_movies::owner_issuer.eq(&owner.issuer))
        .filter(library_movies::owner_subject.eq(&owner.subject))
        .into_boxed()
}

type Condition<'a> = Box<
    dyn BoxableExpression<library_movies::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>
        + 'a,
>;

/// The movie `id`, provided `owner` owns it.
fn owned_movie(owner: &Owner, id: Uuid) -> Condition<'_> {
    Box::new(
        library_movies::id
            .eq(id)
            .and(library_movies::owner_issuer.eq(&owner.issuer))
            .and(library_movies::owner_subject.eq(&owner.subject)),
    )
}

pub fn insert(conn: &mut PgConnection, new: &NewLibraryMovie) -> Result<LibraryMovie, ApiError> {
    Ok(diesel::insert_into(library_movies::table)
        .values(new)
        .returning(LibraryMovie::as_returning())
        .get_result(conn)?)
}

pub fn find(
    conn: &mut PgConnection,
    owner: &Owner,
    id: Uuid,
) -> Result<Option<LibraryMovie>, ApiError> {
    Ok(library_movies::table
        .filter(owned_movie(owner, id))
        .select(LibraryMovie::as_select())
        .first(conn)
        .optional()?)
}

pub fn page(
    conn: &mut PgConnection,
    owner: &Owner,
    filter: &LibraryFilter,
    params: PageParams,
) -> Result<(Vec<LibraryMovie>, i64), ApiError> {
    let filtered = || {
        let mut query = owned_by(owner);
        if let Some(q) = &filter.q {
            query = query.filter(library_movies::title.ilike(common::db::like_pattern(q)));
        }
        if let Some(year) = filter.year {
            query = query.filter(library_movies::year.eq(year));
        }
        query
    };
    let total: i64 = if filter.q.is_none() && filter.year.is_none() {
        // The whole library: its count is kept by triggers (no scan of every row).
        library_counts::table
            .find((&owner.issuer, &owner.subject))
            .select(library_counts::movies)
            .first(conn)
            .optional()?
            .unwrap_or(0)
    } else {
        filtered().count().get_result(conn)?
    };
    let ordered = match filter.sort {
        LibrarySort::CreatedAt => {
            filtered().order((library_movies::created_at.asc(), library_movies::id.asc()))
        }
        LibrarySort::CreatedAtDesc => {
            filtered().order((library_movies::created_at.desc(), library_movies::id.desc()))
        }
        LibrarySort::Title => {
            filtered().order((lower(library_movies::title).asc(), library_movies::id.asc()))
        }
        LibrarySort::TitleDesc => filtered().order((
            lower(library_movies::title).desc(),
            library_movies::id.desc(),
        )),
        LibrarySort::Year => {
            filtered().order((library_movies::year.asc(), library_movies::id.asc()))
        }
        LibrarySort::YearDesc => {
            filtered().order((library_movies::year.desc(), library_movies::id.desc()))
        }
    };
    let items = ordered
        .limit(params.limit)
        .offset(params.offset())
        .select(LibraryMovie::as_select())
        .load(conn)?;
    Ok((items, total))
}

pub fn update(
    conn: &mut PgConnection,
    owner: &Owner,
    id: Uuid,
    changes: &MovieChanges,
) -> Result<Option<LibraryMovie>, ApiError> {
    Ok(
        diesel::update(library_movies::table.filter(owned_movie(owner, id)))
            .set((changes, library_movies::updated_at.eq(Utc::now())))
            .returning(LibraryMovie::as_returning())
            .get_result(conn)
            .optional()?,
    )
}

pub fn set_poster(
    conn: &mut PgConnection,
    owner: &Owner,
    id: Uuid,
    poster: &PosterColumns,
) -> Result<Option<LibraryMovie>, ApiError> {
    Ok(
        diesel::update(library_movies::table.filter(owned_movie(owner, id)))
            .set((poster, library_movies::updated_at.eq(Utc::now())))
            .returning(LibraryMovie::as_returning())
            .get_result(conn)
            .optional()?,
    )
}

/// Deletes the movie and returns it (its poster must go from storage too).
pub fn delete(
    conn: &mut PgConnection,
    owner: &Owner,
    id: Uuid,
) -> Result<Option<LibraryMovie>, ApiError> {
    Ok(
        diesel::delete(library_movies::table.filter(owned_movie(owner, id)))
            .returning(LibraryMovie::as_returning())
            .get_result(conn)
            .optional()?,
    )
}
