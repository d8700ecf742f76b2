//! Meetings, participants and chat messages. A user who is not a participant (or
//! was removed) sees none of a meeting: callers check membership first.

use chrono::{DateTime, Utc};
use common::pagination::PageParams;
use common::ApiError;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use uuid::Uuid;

use super::models::{Meeting, Message, Participant, Profile};
use super::schema::{meetings, messages, participants, profiles};
use crate::domain::JoinCode;

/// A user, as tokens name them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct UserRef {
    pub issuer: String,
    pub subject: String,
}

pub struct NewMeeting {
    pub title: String,
    pub description: Option<String>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
}

/// Creates a meeting with its host as first participant (a join code that is taken
/// already is drawn again).
pub fn create(
    conn: &mut PgConnection,
    new: &NewMeeting,
    host: &UserRef,
) -> Result<Meeting, ApiError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let code = JoinCode::generate();
        let created = conn.transaction(|conn| {
            let meeting: Meeting = diesel::insert_into(meetings::table)
                .values((
                    meetings::id.eq(Uuid::now_v7()),
                    meetings::title.eq(&new.title),
                    meetings::description.eq(&new.description),
                    meetings::host_issuer.eq(&host.issuer),
                    meetings::host_subject.eq(&host.subject),
                    meetings::join_code.eq(code.as_str()),
                    meetings::scheduled_at.eq(new.scheduled_at),
                    meetings::duration_minutes.eq(new.duration_minutes),
                ))
                .returning(Meeting::as_returning())
                .get_result(conn)?;
            diesel::insert_into(participants::table)
                .values((
                    participants::meeting_id.eq(meeting.id),
                    participants::issuer.eq(&host.issuer),
                    participants::subject.eq(&host.subject),
                    participants::role.eq("host"),
                ))
                .execute(conn)?;
            Ok::<_, diesel::result::Error>(meeting)
        });
        match created {
            Err(diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
                if info.constraint_name() == Some("meetings_join_code_key") && attempts < 5 =>
            {
                continue
            }
            other => return other.map_err(ApiError::from),
        }
    }
}

/// The meeting and the caller's participation, when the caller is a participant
/// who was not removed.
pub fn membership(
    conn: &mut PgConnection,
    id: Uuid,
    user: &UserRef,
) -> Result<Option<(Meeting, Participant)>, ApiError> {
    Ok(meetings::table
        .inner_join(participants::table)
        .filter(meetings::id.eq(id))
        .filter(participants::issuer.eq(&user.issuer))
        .filter(participants::subject.eq(&user.subject))
        .filter(participants::removed_at.is_null())
        .select((Meeting::as_select(), Participant::as_select()))
        .first(conn)
        .optional()?)
}

/// Meetings the user hosts or joined (and was not removed from), newest first.
pub fn list_for(
    conn: &mut PgConnection,
    user: &UserRef,
    status: Option<&str>,
    page: PageParams,
) -> Result<(Vec<Meeting>, i64), ApiError> {
    let filtered = || {
        let mut query = meetings::table
            .inner_join(participants::table)
            .filter(participants::issuer.eq(&user.issuer))
            .filter(participants::subject.eq(&user.subject))
            .filter(participants::removed_at.is_null())
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(meetings::status.eq(status));
        }
        query
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let items = filtered()
        .order((meetings::created_at.desc(), meetings::id.desc()))
        .limit(page.limit)
        .offset(page.offset())
        .select(Meeting::as_select())
        .load(conn)?;
    Ok((items, total))
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = meetings)]
pub struct MeetingChanges {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
    pub duration_minutes: Option<Option<i32>>,
}

pub fn update(
    conn: &mut PgConnection,
    id: Uuid,
    changes: &MeetingChanges,
) -> Result<Meeting, ApiError> {
    Ok(diesel::update(meetings::table.find(id))
        .set((changes, meetings::updated_at.eq(Utc::now())))
        .returning(Meeting::as_returning())
        .get_result(conn)?)
}

pub fn delete(conn: &mut PgConnection, id: Uuid) -> Result<(), ApiError> {
    diesel::delete(meetings::table.find(id)).execute(conn)?;
    Ok(())
}

/// What joining by code came to.
pub enum Joined {
    /// Joined (or was already in); `newly` when the user was not present before.
    In {
        meeting: Box<Meeting>,
        newly: bool,
    },
    UnknownCode,
    Ended,
    Removed,
}

/// Joins by code: idempotent; a meeting someone joins goes live.
pub fn join(conn: &mut PgConnection, code: &JoinCode, user: &UserRef) -> Result<Joined, ApiError> {
    conn.transaction(|conn| {
        let Some(meeting) = meetings::table
            .filter(meetings::join_code.eq(code.as_str()))
            .select(Meeting::as_select())
            .for_update()
            .first(conn)
            .optional()?
        else {
            return Ok(Joined::UnknownCode);
        };
        if meeting.status == "ended" {
            return Ok(Joined::Ended);
        }
        let existing: Option<Participant> = participants::table
            .find((meeting.id, &user.issuer, &user.subject))
            .select(Participant::as_select())
            .first(conn)
            .optional()?;
        let newly = match existing {
            Some(p) if p.removed_at.is_some() => return Ok(Joined::Removed),
            Some(p) if p.left_at.is_none() => false,
            Some(_) => {
                diesel::update(participants::table.find((meeting.id, &user.issuer, &user.subject)))
                    .set(participants::left_at.eq(None::<DateTime<Utc>>))
                    .execute(conn)?;
                true
            }
            None => {
                diesel::insert_into(participants::table)
                    .values((
                        participants::meeting_id.eq(meeting.id),
                        participants::issuer.eq(&user.issuer),
                        participants::subject.eq(&user.subject),
                        participants::role.eq("participant"),
                    ))
                    .execute(conn)?;
                true
            }
        };
        let meeting = if meeting.status == "scheduled" {
            go_live(conn, meeting.id)?
        } else {
            meeting
        };
        Ok(Joined::In {
            meeting: Box::new(meeting),
            newly,
        })
    })
}

/// Marks a scheduled meeting live.
pub fn go_live(conn: &mut PgConnection, id: Uuid) -> Result<Meeting, ApiError> {
    let now = Utc::now();
    Ok(diesel::update(
        meetings::table
            .find(id)
            .filter(meetings::status.eq("scheduled")),
    )
    .set((
        meetings::status.eq("live"),
        meetings::started_at.eq(Some(now)),
        meetings::updated_at.eq(now),
    ))
    .returning(Meeting::as_returning())
    .get_result(conn)
    .optional()?
    .map_or_else(
        || {
            meetings::table
                .find(id)
                .select(Meeting::as_select())
                .first(conn)
        },
        Ok,
    )?)
}

/// Marks the user as gone; false when they were not present.
pub fn leave(conn: &mut PgConnection, id: Uuid, user: &UserRef) -> Result<bool, ApiError> {
    let changed = diesel::update(
        participants::table
            .find((id, &user.issuer, &user.subject))
            .filter(participants::left_at.is_null())
            .filter(participants::removed_at.is_null()),
    )
    .set(participants::left_at.eq(Some(Utc::now())))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Ends the meeting (once); `None` when it had ended already.
pub fn end(conn: &mut PgConnection, id: Uuid) -> Result<Option<Meeting>, ApiError> {
    let now = Utc::now();
    Ok(diesel::update(
        meetings::table
            .find(id)
            .filter(meetings::status.ne("ended")),
    )
    .set((
        meetings::status.eq("ended"),
        meetings::ended_at.eq(Some(now)),
        meetings::updated_at.eq(now),
    ))
    .returning(Meeting::as_returning())
    .get_result(conn)
    .optional()?)
}

/// Everyone who was not removed, with their directory profile when there is one.
pub fn participants_of(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<(Participant, Option<Profile>)>, ApiError> {
    Ok(participants::table
        .left_join(
            profiles::table.on(profiles::issuer
                .eq(participants::issuer)
                .and(profiles::subject.eq(participants::subject))
                .and(profiles::deleted_at.is_null())),
        )
        .filter(participants::meeting_id.eq(id))
        .filter(participants::removed_at.is_null())
        .order((participants::joined_at.asc(), participants::subject.asc()))
        .select((Participant::as_select(), Option::<Profile>::as_select()))
        .load(conn)?)
}

/// The present participants (joined, not left, not removed) with this subject:
/// one, unless two issuers use the same subject text.
pub fn present_with_subject(
    conn: &mut PgConnection,
    id: Uuid,
    subject: &str,
) -> Result<Vec<UserRef>, ApiError> {
    let rows: Vec<(String, String)> = participants::table
        .filter(participants::meeting_id.eq(id))
        .filter(participants::subject.eq(subject))
        .filter(participants::left_at.is_null())
        .filter(participants::removed_at.is_null())
        .select((participants::issuer, participants::subject))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(issuer, subject)| UserRef { issuer, subject })
        .collect())
}

/// Removes a participant (not the host); returns them, or `None` when absent.
pub fn remove_participant(
    conn: &mut PgConnection,
    id: Uuid,
    subject: &str,
) -> Result<Option<Participant>, ApiError> {
    let now = Utc::now();
    Ok(diesel::update(
        participants::table
            .filter(participants::meeting_id.eq(id))
            .filter(participants::subject.eq(subject))
            .filter(participants::role.ne("host"))
            .filter(participants::removed_at.is_null()),
    )
    .set((
        participants::removed_at.eq(Some(now)),
        participants::left_at.eq(Some(now)),
    ))
    .returning(Participant::as_returning())
    .get_result(conn)
    .optional()?)
}

pub fn add_message(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    sender: &UserRef,
    text: &str,
) -> Result<Message, ApiError> {
    Ok(diesel::insert_into(messages::table)
        .values((
            messages::id.eq(Uuid::now_v7()),
            messages::meeting_id.eq(meeting_id),
            messages::sender_issuer.eq(&sender.issuer),
            messages::sender_subject.eq(&sender.subject),
            messages::text.eq(text),
        ))
        .returning(Message::as_returning())
        .get_result(conn)?)
}

/// A page of chat, newest first, after the keyset `before` (created_at, id).
pub fn messages_of(
    conn: &mut PgConnection,
    meeting_id: Uuid,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<(Message, Option<Profile>)>, ApiError> {
    let mut query = messages::table
        .left_join(
            profiles::table.on(profiles::issuer
                .eq(messages::sender_issuer)
                .and(profiles::subject.eq(messages::sender_subject))
                .and(profiles::deleted_at.is_null())),
        )
        .filter(messages::meeting_id.eq(meeting_id))
        .into_boxed();
    if let Some((at, id)) = before {
        query = query.filter(
            messages::created_at
                .lt(at)
                .or(messages::created_at.eq(at).and(messages::id.lt(id))),
        );
    }
    Ok(query
        .order((messages::created_at.desc(), messages::id.desc()))
        .limit(limit)
        .select((Message::as_select(), Option::<Profile>::as_select()))
        .load(conn)?)
}

/// The profiles of some users of this service's directory (names for events).
pub fn profile_of(conn: &mut PgConnection, user: &UserRef) -> Result<Option<Profile>, ApiError> {
    Ok(profiles::table
        .find((&user.issuer, &user.subject))
        .filter(profiles::deleted_at.is_null())
        .select(Profile::as_select())
        .first(conn)
        .optional()?)
}
