//! Email-verification codes and password-reset tokens, stored hashed.

use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{EmailVerification, PasswordReset};
use super::schema::{email_verifications, password_resets};

/// Replaces any pending code of the user with a new one.
pub fn put_verification(
    conn: &mut PgConnection,
    user_id: Uuid,
    code_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
) -> Result<(), ApiError> {
    let row = EmailVerification {
        user_id,
        code_hash,
        attempts: 0,
        expires_at,
        created_at: Utc::now(),
    };
    diesel::insert_into(email_verifications::table)
        .values(&row)
        .on_conflict(email_verifications::user_id)
        .do_update()
        .set((
            email_verifications::code_hash.eq(&row.code_hash),
            email_verifications::attempts.eq(0),
            email_verifications::expires_at.eq(row.expires_at),
            email_verifications::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn pending_verification(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<EmailVerification>, ApiError> {
    Ok(email_verifications::table
        .find(user_id)
        .for_update()
        .select(EmailVerification::as_select())
        .first(conn)
        .optional()?)
}

pub fn count_attempt(conn: &mut PgConnection, user_id: Uuid) -> Result<i32, ApiError> {
    Ok(diesel::update(email_verifications::table.find(user_id))
        .set(email_verifications::attempts.eq(email_verifications::attempts + 1))
        .returning(email_verifications::attempts)
        .get_result(conn)?)
}

pub fn delete_verification(conn: &mut PgConnection, user_id: Uuid) -> Result<(), ApiError> {
    diesel::delete(email_verifications::table.find(user_id)).execute(conn)?;
    Ok(())
}

pub fn insert_reset(
    conn: &mut PgConnection,
    user_id: Uuid,
    token_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
) -> Result<(), ApiError> {
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::id.eq(Uuid::now_v7()),
            password_resets::user_id.eq(user_id),
            password_resets::token_hash.eq(token_hash),
            password_resets::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unused, unexpired reset token with this hash, without using it.
pub fn find_reset(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<PasswordReset>, ApiError> {
    Ok(password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(Utc::now()))
        .select(PasswordReset::as_select())
        .first(conn)
        .optional()?)
}

/// Marks an unused, unexpired reset token used and returns it; `None` otherwise.
pub fn consume_reset(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> Result<Option<PasswordReset>, ApiError> {
    let now = Utc::now();
    Ok(diesel::update(
        password_resets::table
            .filter(password_resets::token_hash.eq(token_hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(now)),
    )
    .set(password_resets::used_at.eq(now))
    .returning(PasswordReset::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Invalidates every other outstanding reset token of the user.
pub fn retire_resets(conn: &mut PgConnection, user_id: Uuid) -> Result<(), ApiError> {
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Utc::now()))
    .execute(conn)?;
    Ok(())
}
