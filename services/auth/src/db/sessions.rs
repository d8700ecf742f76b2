use chrono::{DateTime, Duration, Utc};
use common::ApiError;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{NewRefreshToken, NewSession, RefreshToken, Session, User};
use super::schema::{refresh_tokens, sessions, users};

/// Opens a session with its first refresh token (already hashed by the caller).
pub fn create(
    conn: &mut PgConnection,
    user_id: Uuid,
    user_agent: Option<String>,
    ip: Option<String>,
    token_hash: Vec<u8>,
    ttl: Duration,
) -> Result<Session, ApiError> {
    conn.transaction(|conn| {
        let now = Utc::now();
        let session: Session = diesel::insert_into(sessions::table)
            .values(NewSession {
                id: Uuid::now_v7(),
                user_id,
                expires_at: now + ttl,
                user_agent,
                ip,
            })
            .returning(Session::as_returning())
            .get_result(conn)?;
        diesel::insert_into(refresh_tokens::table)
            .values(NewRefreshToken {
                id: Uuid::now_v7(),
                session_id: session.id,
                token_hash,
                expires_at: now + ttl,
            })
            .execute(conn)?;
        Ok(session)
    })
}

pub fn find_active(conn: &mut PgConnection, id: Uuid) -> Result<Option<Session>, ApiError> {
    Ok(sessions::table
        .find(id)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Utc::now()))
        .select(Session::as_select())
        .first(conn)
        .optional()?)
}

pub fn list_active(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Session>, ApiError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Utc::now()))
        .order(sessions::last_used_at.desc())
        .select(Session::as_select())
        .load(conn)?)
}

/// Revokes one active session of `user_id`; `false` when there is none by that id.
pub fn revoke_one(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    reason: &str,
) -> Result<bool, ApiError> {
    let changed = diesel::update(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(Utc::now()),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Revokes every active session of a user except `keep`; returns the ids revoked.
pub fn revoke_all(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> Result<Vec<Uuid>, ApiError> {
    let mut query = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(keep));
    }
    Ok(query
        .set((
            sessions::revoked_at.eq(Utc::now()),
            sessions::revoked_reason.eq(reason),
        ))
        .returning(sessions::id)
        .get_results(conn)?)
}

/// What presenting a refresh token led to.
pub enum RefreshOutcome {
    /// A new (or, within the grace window, the same) successor token.
    Issued {
        user: User,
        session_id: Uuid,
        token: String,
    },
    /// A rotated token presented after the grace window: the session is now revoked.
    Reused { session_id: Uuid },
    /// Unknown, expired, or of a revoked session or disabled account.
    Invalid,
}

/// Rotates a refresh token. The row lock serializes parallel refreshes of one
/// token: the first rotates, the others (within the grace window) get the same
/// successor, and any later reuse revokes the session (RFC 9700 §4.14.2).
pub fn rotate(
    conn: &mut PgConnection,
    presented_hash: &[u8],
    new_token: (String, Vec<u8>),
    ttl: Duration,
    grace: Duration,
) -> Result<RefreshOutcome, ApiError> {
    conn.transaction(|conn| {
        let now = Utc::now();
        let Some(row) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented_hash))
            .for_update()
            .select(RefreshToken::as_select())
            .first(conn)
            .optional()?
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let (session, user): (Session, User) = sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(row.session_id))
            .select((Session::as_select(), User::as_select()))
            .first(conn)?;
        if session.revoked_at.is_some()
            || session.expires_at <= now
            || user.disabled
            || row.expires_at <= now
        {
            return Ok(RefreshOutcome::Invalid);
        }
        match (row.rotated_at, row.successor_token.clone()) {
            (None, _) => {
                let (plain, hash) = new_token;
                let successor_id = Uuid::now_v7();
                diesel::insert_into(refresh_tokens::table)
                    .values(NewRefreshToken {
                        id: successor_id,
                        session_id: session.id,
                        token_hash: hash,
                        expires_at: (now + ttl).min(session.expires_at),
                    })
                    .execute(conn)?;
                diesel::update(refresh_tokens::table.find(row.id))
                    .set((
                        refresh_tokens::rotated_at.eq(now),
                        refresh_tokens::successor_id.eq(successor_id),
                        refresh_tokens::successor_token.eq(&plain),
                    ))
                    .execute(conn)?;
                touch(conn, session.id, now)?;
                Ok(RefreshOutcome::Issued {
                    user,
                    session_id: session.id,
                    token: plain,
                })
            }
            (Some(rotated_at), Some(successor)) if now - rotated_at <= grace => {
                touch(conn, session.id, now)?;
                Ok(RefreshOutcome::Issued {
                    user,
                    session_id: session.id,
                    token: successor,
                })
            }
            (Some(_), _) => {
                diesel::update(sessions::table.find(session.id))
                    .set((
                        sessions::revoked_at.eq(now),
                        sessions::revoked_reason.eq("refresh_token_reused"),
                    ))
                    .execute(conn)?;
                Ok(RefreshOutcome::Reused {
                    session_id: session.id,
                })
            }
        }
    })
}

fn touch(conn: &mut PgConnection, session_id: Uuid, now: DateTime<Utc>) -> Result<(), ApiError> {
    diesel::update(sessions::table.find(session_id))
        .set(sessions::last_used_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Forgets successor plaintexts older than the grace window; run periodically.
pub fn sweep_grace(conn: &mut PgConnection, grace: Duration) -> Result<usize, ApiError> {
    Ok(diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::successor_token.is_not_null())
            .filter(refresh_tokens::rotated_at.lt(Utc::now() - grace)),
    )
    .set(refresh_tokens::successor_token.eq(None::<String>))
    .execute(conn)?)
}
