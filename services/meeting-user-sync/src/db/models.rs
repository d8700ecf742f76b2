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
