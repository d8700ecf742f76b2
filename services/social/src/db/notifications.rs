//! Notifications, grouped while unread: one row per recipient, type and target,
//! counting distinct actors and keeping the latest three. Recorded in the
//! transaction of the like, comment or follow they tell of.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Integer, Jsonb, Nullable, Text, Uuid as SqlUuid};
use serde_json::Value;
use uuid::Uuid;

use super::schema::notifications;
use crate::domain::Person;

pub const TYPES: &[&str] = &["like", "comment", "reply", "follow"];
/// Actors kept for display per notification.
pub(crate) const RECENT: i32 = 3;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications, check_for_backend(diesel::pg::Pg))]
pub struct Notification {
    pub id: Uuid,
    pub recipient_issuer: String,
    pub recipient_subject: String,
    #[diesel(column_name = type_)]
    pub kind: String,
    pub target: String,
    pub video_id: Option<Uuid>,
    pub comment_id: Option<Uuid>,
    pub actor_count: i64,
    pub recent_actors: Value,
    pub seq: i64,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

impl Notification {
    pub fn recipient(&self) -> Person {
        Person {
            issuer: self.recipient_issuer.clone(),
            subject: self.recipient_subject.clone(),
        }
    }

    /// The latest actors, newest first.
    pub fn actors(&self) -> Vec<Person> {
        serde_json::from_value(self.recent_actors.clone()).unwrap_or_default()
    }
}

/// What happened, and to what.
pub enum Event {
    Like {
        video: Uuid,
    },
    Comment {
        video: Uuid,
        comment: Uuid,
    },
    Reply {
        video: Uuid,
        parent: Uuid,
        comment: Uuid,
    },
    Follow,
}

impl Event {
    fn parts(&self) -> (&'static str, String, Option<Uuid>, Option<Uuid>) {
        match self {
            Self::Like { video } => ("like", video.to_string(), Some(*video), None),
            Self::Comment { video, comment } => {
                ("comment", video.to_string(), Some(*video), Some(*comment))
            }
            Self::Reply {
                video,
                parent,
                comment,
            } => ("reply", parent.to_string(), Some(*video), Some(*comment)),
            Self::Follow => ("follow", String::new(), None, None),
        }
    }
}

/// Tells `recipient` that `actor` did `event` (never of one's own actions).
/// The notification's id when something changed, for the stream. The grouping
/// is the database's `record_notification` (migration 000009): one round trip,
/// since the group's row is what every like of a video waits on.
pub fn record(
    conn: &mut PgConnection,
    recipient: &Person,
    actor: &Person,
    event: &Event,
) -> QueryResult<Option<Uuid>> {
    if recipient == actor {
        return Ok(None);
    }
    let (kind, target, video, comment) = event.parts();
    #[derive(QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = Nullable<SqlUuid>)]
        id: Option<Uuid>,
    }
    let recorded: Recorded = diesel::sql_query(
        "SELECT record_notification($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS id",
    )
    .bind::<Text, _>(&recipient.issuer)
    .bind::<Text, _>(&recipient.subject)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(&target)
    .bind::<Nullable<SqlUuid>, _>(video)
    .bind::<Nullable<SqlUuid>, _>(comment)
    .bind::<Text, _>(&actor.issuer)
    .bind::<Text, _>(&actor.subject)
    .bind::<Jsonb, _>(actor_json(actor))
    .bind::<Integer, _>(RECENT)
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .get_result(conn)?;
    Ok(recorded.id)
}

/// How an actor is kept among a notification's recent ones.
pub(crate) fn actor_json(actor: &Person) -> Value {
    serde_json::to_value(actor).unwrap_or(Value::Null)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Notification>> {
    notifications::table
        .find(id)
        .select(Notification::as_select())
        .first(conn)
        .optional()
}

/// `recipient`'s notifications, latest change first, of `types` (all when empty).
pub fn list(
    conn: &mut PgConnection,
    recipient: &Person,
    types: &[String],
    before_seq: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    let mut query = notifications::table
        .filter(notifications::recipient_issuer.eq(&recipient.issuer))
        .filter(notifications::recipient_subject.eq(&recipient.subject))
        .select(Notification::as_select())
        .order(notifications::seq.desc())
        .limit(limit)
        .into_boxed();
    if !types.is_empty() {
        query = query.filter(notifications::type_.eq_any(types));
    }
    if let Some(seq) = before_seq {
        query = query.filter(notifications::seq.lt(seq));
    }
    query.load(conn)
}

/// What changed for `recipient` after event `after_seq`, oldest change first.
pub fn since(
    conn: &mut PgConnection,
    recipient: &Person,
    after_seq: i64,
    limit: i64,
) -> QueryResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::recipient_issuer.eq(&recipient.issuer))
        .filter(notifications::recipient_subject.eq(&recipient.subject))
        .filter(notifications::seq.gt(after_seq))
        .select(Notification::as_select())
        .order(notifications::seq.asc())
        .limit(limit)
        .load(conn)
}

pub fn unread_count(conn: &mut PgConnection, recipient: &Person) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::recipient_issuer.eq(&recipient.issuer))
        .filter(notifications::recipient_subject.eq(&recipient.subject))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}

/// Marks `recipient`'s notifications read: all, or those up to `up_to`'s latest
/// change. `None` when `up_to` is not one of theirs.
pub fn mark_read(
    conn: &mut PgConnection,
    recipient: &Person,
    up_to: Option<Uuid>,
) -> QueryResult<Option<usize>> {
    let upper = match up_to {
        None => i64::MAX,
        Some(id) => {
            let seq: Option<i64> = notifications::table
                .find(id)
                .filter(notifications::recipient_issuer.eq(&recipient.issuer))
                .filter(notifications::recipient_subject.eq(&recipient.subject))
                .select(notifications::seq)
                .first(conn)
                .optional()?;
            match seq {
                Some(seq) => seq,
                None => return Ok(None),
            }
        }
    };
    diesel::update(
        notifications::table
            .filter(notifications::recipient_issuer.eq(&recipient.issuer))
            .filter(notifications::recipient_subject.eq(&recipient.subject))
            .filter(notifications::read_at.is_null())
            .filter(notifications::seq.le(upper)),
    )
    .set(notifications::read_at.eq(diesel::dsl::now))
    .execute(conn)
    .map(Some)
}
