use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::prelude::*;

use super::models::SigningKeyRow;
use super::schema::signing_keys;

/// Keys still listed in the JWKS: unretired, or retired but still covering tokens.
pub fn published(conn: &mut PgConnection) -> Result<Vec<SigningKeyRow>, ApiError> {
    let now = Utc::now();
    Ok(signing_keys::table
        .filter(
            signing_keys::publish_until
                .is_null()
                .or(signing_keys::publish_until.gt(now)),
        )
        .order(signing_keys::created_at.desc())
        .select(SigningKeyRow::as_select())
        .load(conn)?)
}

/// Adds a new signing key and retires the others, keeping them published until
/// `publish_until` so tokens they signed keep verifying.
pub fn insert_and_retire_others(
    conn: &mut PgConnection,
    kid: &str,
    private_der: &[u8],
    public_x: &str,
    publish_until: DateTime<Utc>,
) -> Result<(), ApiError> {
    conn.transaction(|conn| {
        let now = Utc::now();
        diesel::update(signing_keys::table.filter(signing_keys::retired_at.is_null()))
            .set((
                signing_keys::retired_at.eq(now),
                signing_keys::publish_until.eq(publish_until),
            ))
            .execute(conn)?;
        diesel::insert_into(signing_keys::table)
            .values((
                signing_keys::kid.eq(kid),
                signing_keys::algorithm.eq("EdDSA"),
                signing_keys::private_der.eq(private_der),
                signing_keys::public_x.eq(public_x),
            ))
            .execute(conn)?;
        Ok(())
    })
}
