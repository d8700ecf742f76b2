use chrono::Utc;
use common::error::ResultExt;
use common::ApiError;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{NewUser, User};
use super::schema::users;

pub fn insert(conn: &mut PgConnection, new: &NewUser) -> Result<User, ApiError> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(conn)
        .on_constraint("users_email_key", crate::errors::email_taken)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_many(conn: &mut PgConnection, ids: &[Uuid]) -> Result<Vec<User>, ApiError> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select(User::as_select())
        .load(conn)?)
}

pub fn find_by_email(conn: &mut PgConnection, email: &str) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()?)
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub image_url: Option<Option<String>>,
}

pub fn update_profile(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &ProfileChanges,
) -> Result<User, ApiError> {
    if changes.name.is_none() && changes.image_url.is_none() {
        return find(conn, id)?.ok_or_else(|| ApiError::not_found("User"));
    }
    Ok(diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(Utc::now())))
        .returning(User::as_returning())
        .get_result(conn)?)
}

pub fn set_password_hash(conn: &mut PgConnection, id: Uuid, hash: &str) -> Result<(), ApiError> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn mark_email_verified(conn: &mut PgConnection, id: Uuid) -> Result<User, ApiError> {
    Ok(diesel::update(users::table.find(id))
        .set((
            users::email_verified.eq(true),
            users::updated_at.eq(Utc::now()),
        ))
        .returning(User::as_returning())
        .get_result(conn)?)
}

/// Gives the admin role to the verified accounts of the listed emails (an
/// unverified account may belong to whoever signed up first with the address);
/// returns how many accounts changed.
pub fn promote_admins(conn: &mut PgConnection, emails: &[String]) -> Result<usize, ApiError> {
    if emails.is_empty() {
        return Ok(0);
    }
    Ok(diesel::update(
        users::table
            .filter(users::email.eq_any(emails))
            .filter(users::email_verified.eq(true))
            .filter(users::role.ne("admin")),
    )
    .set((users::role.eq("admin"), users::updated_at.eq(Utc::now())))
    .execute(conn)?)
}

pub fn admin_list(
    conn: &mut PgConnection,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), ApiError> {
    let filtered = || {
        let mut query = users::table.into_boxed();
        if let Some(q) = q {
            let pattern = common::db::like_pattern(q);
            query = query.filter(
                users::email
                    .ilike(pattern.clone())
                    .or(users::name.ilike(pattern)),
            );
        }
        query
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let items = filtered()
        .order((users::created_at.desc(), users::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(User::as_select())
        .load(conn)?;
    Ok((items, total))
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct AdminChanges {
    pub role: Option<String>,
    pub disabled: Option<bool>,
}

pub fn admin_update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &AdminChanges,
) -> Result<Option<User>, ApiError> {
    if changes.role.is_none() && changes.disabled.is_none() {
        return find(conn, id);
    }
    Ok(diesel::update(users::table.find(id))
        .set((changes, users::updated_at.eq(Utc::now())))
        .returning(User::as_returning())
        .get_result(conn)
        .optional()?)
}
