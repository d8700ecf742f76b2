//! Follows and the profile counters. A follow and the two counters it moves are
//! written in one transaction; the two counter rows are always locked in the
//! same order, so crossing follows never deadlock.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use common::ApiError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

use super::models::UserStats;
use super::notifications::{self, Event};
use super::schema::{follows, user_stats};
use super::videos::ensure_person;
use crate::domain::Person;
use crate::notify::Notice;

/// Where a newest-first list of people starts: after `(followed at, issuer, subject)`.
pub type PersonKey = (DateTime<Utc>, String, String);

/// Someone this service has seen, by subject (first-party users first, should
/// two issuers share a subject).
pub fn person_by_subject(conn: &mut PgConnection, subject: &str) -> QueryResult<Option<Person>> {
    user_stats::table
        .filter(user_stats::subject.eq(subject))
        .select((user_stats::issuer, user_stats::subject))
        .order(user_stats::issuer.desc())
        .load::<(String, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .min_by_key(|(issuer, _)| issuer != common::issuer::FIRST_PARTY)
                .map(|(issuer, subject)| Person { issuer, subject })
        })
}

pub fn stats_of(conn: &mut PgConnection, person: &Person) -> QueryResult<UserStats> {
    user_stats::table
        .find((&person.issuer, &person.subject))
        .select(UserStats::as_select())
        .first(conn)
        .optional()
        .map(|stats| {
            stats.unwrap_or_else(|| UserStats {
                issuer: person.issuer.clone(),
                subject: person.subject.clone(),
                ..UserStats::default()
            })
        })
}

fn bump(
    conn: &mut PgConnection,
    person: &Person,
    followers: i64,
    following: i64,
) -> QueryResult<i64> {
    diesel::update(user_stats::table.find((&person.issuer, &person.subject)))
        .set((
            user_stats::follower_count.eq(user_stats::follower_count + followers),
            user_stats::following_count.eq(user_stats::following_count + following),
        ))
        .returning(user_stats::follower_count)
        .get_result(conn)
}

/// `follower` follows (`follow = true`) or stops following `followee`,
/// idempotently; answers whether they follow now, the followee's follower count
/// and, for a new follow, the followee's notice.
pub fn set_follow(
    conn: &mut PgConnection,
    follower: &Person,
    followee: &Person,
    follow: bool,
) -> Result<(bool, i64, Option<Notice>), ApiError> {
    conn.transaction(|conn| {
        let changed = if follow {
            // Rows of counters made in the order of the locks below: two people
            // new here following each other at once would otherwise each wait
            // on the row the other is inserting.
            let (first, second) = if follower < followee {
                (follower, followee)
            } else {
                (followee, follower)
            };
            ensure_person(conn, first)?;
            ensure_person(conn, second)?;
            diesel::insert_into(follows::table)
                .values((
                    follows::follower_issuer.eq(&follower.issuer),
                    follows::follower_subject.eq(&follower.subject),
                    follows::followee_issuer.eq(&followee.issuer),
                    follows::followee_subject.eq(&followee.subject),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?
        } else {
            diesel::delete(follows::table.find((
                &follower.issuer,
                &follower.subject,
                &followee.issuer,
                &followee.subject,
            )))
            .execute(conn)?
        };
        if changed == 0 {
            return Ok((follow, stats_of(conn, followee)?.follower_count, None));
        }
        let delta = if follow { 1 } else { -1 };
        // Lock order: the smaller person first, whoever follows whom.
        let count = if follower < followee {
            bump(conn, follower, 0, delta)?;
            bump(conn, followee, delta, 0)?
        } else {
            let count = bump(conn, followee, delta, 0)?;
            bump(conn, follower, 0, delta)?;
            count
        };
        let notice = if follow {
            let recorded = notifications::record(conn, followee, follower, &Event::Follow)?;
            Notice::of(followee, recorded)
        } else {
            None
        };
        Ok((follow, count, notice))
    })
}

/// Whether `a` follows `b`.
pub fn follows(conn: &mut PgConnection, a: &Person, b: &Person) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        follows::table.find((&a.issuer, &a.subject, &b.issuer, &b.subject)),
    ))
    .get_result(conn)
}

/// Those among `people` whom `viewer` follows.
pub fn followed_among(
    conn: &mut PgConnection,
    viewer: &Person,
    people: &[Person],
) -> QueryResult<HashSet<Person>> {
    if people.is_empty() {
        return Ok(HashSet::new());
    }
    let subjects: Vec<&str> = people.iter().map(|p| p.subject.as_str()).collect();
    follows::table
        .filter(follows::follower_issuer.eq(&viewer.issuer))
        .filter(follows::follower_subject.eq(&viewer.subject))
        .filter(follows::followee_subject.eq_any(subjects))
        .select((follows::followee_issuer, follows::followee_subject))
        .load::<(String, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(issuer, subject)| Person { issuer, subject })
                .collect()
        })
}

#[derive(QueryableByName)]
struct FollowRow {
    #[diesel(sql_type = Text)]
    issuer: String,
    #[diesel(sql_type = Text)]
    subject: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

/// Who follows `person` (`followers = true`) or whom `person` follows, newest
/// follow first, with when the follow began.
pub fn list(
    conn: &mut PgConnection,
    person: &Person,
    followers: bool,
    before: Option<PersonKey>,
    limit: i64,
) -> QueryResult<Vec<(Person, DateTime<Utc>)>> {
    // Column names from two constants, never from input.
    let (own, other) = if followers {
        ("followee", "follower")
    } else {
        ("follower", "followee")
    };
    let (t, issuer, subject) = match before {
        Some((t, issuer, subject)) => (Some(t), Some(issuer), Some(subject)),
        None => (None, None, None),
    };
    let rows: Vec<FollowRow> = diesel::sql_query(format!(
        "SELECT {other}_issuer AS issuer, {other}_subject AS subject, created_at FROM follows \
         WHERE {own}_issuer = $1 AND {own}_subject = $2 \
         AND ($3::timestamptz IS NULL OR (created_at, {other}_issuer, {other}_subject) < ($3, $4, $5)) \
         ORDER BY created_at DESC, {other}_issuer DESC, {other}_subject DESC LIMIT $6"
    ))
    .bind::<Text, _>(&person.issuer)
    .bind::<Text, _>(&person.subject)
    .bind::<Nullable<Timestamptz>, _>(t)
    .bind::<Nullable<Text>, _>(issuer)
    .bind::<Nullable<Text>, _>(subject)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let person = Person {
                issuer: r.issuer,
                subject: r.subject,
            };
            (person, r.created_at)
        })
        .collect())
}
