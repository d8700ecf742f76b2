use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::schema::profiles;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = profiles, check_for_backend(diesel::pg::Pg))]
pub struct Profile {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub name_source: String,
    pub image_url: Option<String>,
    pub bio: Option<String>,
    pub preferences: Value,
    pub source_version: i64,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Profile {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::meetings, check_for_backend(diesel::pg::Pg))]
pub struct Meeting {
    pub id: uuid::Uuid,
    pub title: String,
    pub description: Option<String>,
    pub host_issuer: String,
    pub host_subject: String,
    pub join_code: String,
    pub status: String,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::participants, check_for_backend(diesel::pg::Pg))]
pub struct Participant {
    pub meeting_id: uuid::Uuid,
    pub issuer: String,
    pub subject: String,
    pub role: String,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
}

impl Participant {
    pub fn is_host(&self) -> bool {
        self.role == "host"
    }

    pub fn is_present(&self) -> bool {
        self.left_at.is_none() && self.removed_at.is_none()
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = super::schema::messages, check_for_backend(diesel::pg::Pg))]
pub struct Message {
    pub id: uuid::Uuid,
    pub meeting_id: uuid::Uuid,
    pub sender_issuer: String,
    pub sender_subject: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}
