//! Notifications, grouped while unread: one row per recipient, type and target,
//! counting distinct actors and keeping the latest three. Recorded in the
//! transaction of the like, comment or follow they tell of.

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Jsonb, Nullable, Text, Uuid as SqlUuid};
use serde_json::Value;
use uuid::Uuid;

use super::schema::{notification_actors, notifications};
use crate::domain::Person;

pub const TYPES: &[&str] = &["like", "comment", "reply", "follow"];
/// Actors kept for display per notification.
const RECENT: usize = 3;

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
/// The notification's id when something changed, for the stream.
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
    let actor_json = serde_json::to_value(actor).unwrap_or(Value::Null);
    let group = Group {
        recipient,
        kind,
        target: &target,
        actor,
        actor_json: &actor_json,
        comment,
    };
    if let Some(joined) = group.join(conn)? {
        return Ok(joined);
    }
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let created: Option<Id> = diesel::sql_query(
        "INSERT INTO notifications (id, recipient_issuer, recipient_subject, type, target, video_id, comment_id, recent_actors) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, jsonb_build_array($8::jsonb)) \
         ON CONFLICT (recipient_issuer, recipient_subject, type, target) WHERE read_at IS NULL DO NOTHING \
         RETURNING id",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<Text, _>(&recipient.issuer)
    .bind::<Text, _>(&recipient.subject)
    .bind::<Text, _>(kind)
    .bind::<Text, _>(&target)
    .bind::<Nullable<SqlUuid>, _>(video)
    .bind::<Nullable<SqlUuid>, _>(comment)
    .bind::<Jsonb, _>(&actor_json)
    .get_result(conn)
    .optional()?;
    match created {
        Some(Id { id }) => {
            add_actor(conn, id, actor)?;
            Ok(Some(id))
        }
        // Another transaction made the group meanwhile (it has committed: the
        // insert waited for it).
        None => Ok(group.join(conn)?.flatten()),
    }
}

/// An event about to join the unread notification of its kind and target.
struct Group<'a> {
    recipient: &'a Person,
    kind: &'static str,
    target: &'a str,
    actor: &'a Person,
    actor_json: &'a Value,
    comment: Option<Uuid>,
}

impl Group<'_> {
    /// Joins the unread group in one statement (the group's row is what every
    /// like of a video waits on, so it is locked for one round trip): the actor
    /// is counted once and put first among the recent ones; a like again by the
    /// same actor is no news, a new comment always is. `None` when there is no
    /// unread group; `Some(None)` when it did not change.
    fn join(&self, conn: &mut PgConnection) -> QueryResult<Option<Option<Uuid>>> {
        #[derive(QueryableByName)]
        struct Joined {
            #[diesel(sql_type = SqlUuid)]
            group_id: Uuid,
            #[diesel(sql_type = Nullable<SqlUuid>)]
            updated: Option<Uuid>,
        }
        let joined: Option<Joined> = diesel::sql_query(
            "WITH g AS ( \
               SELECT id FROM notifications \
               WHERE recipient_issuer = $1 AND recipient_subject = $2 AND type = $3 AND target = $4 \
                 AND read_at IS NULL \
               FOR UPDATE), \
             a AS ( \
               INSERT INTO notification_actors (notification_id, actor_issuer, actor_subject) \
               SELECT id, $5, $6 FROM g ON CONFLICT DO NOTHING RETURNING notification_id), \
             u AS ( \
               UPDATE notifications n SET \
                 actor_count = n.actor_count + (SELECT count(*) FROM a), \
                 recent_actors = (SELECT jsonb_agg(r.e ORDER BY r.o) FROM ( \
                     SELECT $7::jsonb AS e, 0::bigint AS o \
                     UNION ALL \
                     (SELECT x.e, x.o FROM jsonb_array_elements(n.recent_actors) WITH ORDINALITY AS x(e, o) \
                      WHERE x.e <> $7::jsonb ORDER BY x.o LIMIT $9)) r), \
                 comment_id = COALESCE($8::uuid, n.comment_id), \
                 seq = nextval('notification_seq'), \
                 created_at = now() \
               FROM g \
               WHERE n.id = g.id AND (EXISTS (SELECT 1 FROM a) OR $8::uuid IS NOT NULL) \
               RETURNING n.id) \
             SELECT g.id AS group_id, (SELECT u.id FROM u) AS updated FROM g",
        )
        .bind::<Text, _>(&self.recipient.issuer)
        .bind::<Text, _>(&self.recipient.subject)
        .bind::<Text, _>(self.kind)
        .bind::<Text, _>(self.target)
        .bind::<Text, _>(&self.actor.issuer)
        .bind::<Text, _>(&self.actor.subject)
        .bind::<Jsonb, _>(self.actor_json)
        .bind::<Nullable<SqlUuid>, _>(self.comment)
        .bind::<diesel::sql_types::BigInt, _>(RECENT as i64 - 1)
        .get_result(conn)
        .optional()?;
        Ok(joined.map(|j| {
            debug_assert!(j.updated.is_none_or(|u| u == j.group_id));
            j.updated
        }))
    }
}

/// True when `actor` was not among the notification's actors yet.
fn add_actor(conn: &mut PgConnection, id: Uuid, actor: &Person) -> QueryResult<bool> {
    diesel::insert_into(notification_actors::table)
        .values((
            notification_actors::notification_id.eq(id),
            notification_actors::actor_issuer.eq(&actor.issuer),
            notification_actors::actor_subject.eq(&actor.subject),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
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
