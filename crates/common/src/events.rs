//! The user events auth's outbox sends to the directory (meeting-user-sync) on
//! its internal listener: one typed body that both sides serialize, so the two
//! cannot drift apart; and the channel on which the directory announces changed
//! profiles to every replica that caches them (its own, and social's).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::issuer;

/// `PUT /internal/users/{id}`: a user created or updated at an issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserUpsert {
    /// The issuer's name; default `reelstack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    /// Increases with every change of the user (auth: `updatedAt` in
    /// microseconds); an upsert older than the stored profile is ignored.
    #[serde(default)]
    #[schema(value_type = i64, required = true, minimum = 0)]
    pub version: Option<i64>,
}

/// `DELETE /internal/users/{id}?issuer&version`: a user deleted or disabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserDeletion {
    /// The issuer's name; default `reelstack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The version of the deletion; older than the stored profile: ignored.
    #[serde(default)]
    #[param(required = true, minimum = 0)]
    pub version: Option<i64>,
}

/// The issuer an event names, `reelstack` when it names none.
pub fn issuer_of(named: Option<&str>) -> &str {
    named.unwrap_or(issuer::FIRST_PARTY)
}

/// The directory's path for one user (the subject is URL-encoded).
pub fn user_path(subject: &str) -> String {
    let mut encoded = String::with_capacity(subject.len());
    for b in subject.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("/internal/users/{encoded}")
}

/// Redis channel of changed profiles; a message is [`profile_changed`].
pub const PROFILE_CHANGED_CHANNEL: &str = "reelstack:directory:changed";

/// The message announcing that the profile of `(issuer, subject)` changed.
pub fn profile_changed(issuer: &str, subject: &str) -> String {
    format!("{issuer}\n{subject}")
}

/// The `(issuer, subject)` of a [`profile_changed`] message.
pub fn parse_profile_changed(message: &str) -> Option<(&str, &str)> {
    message.split_once('\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upsert_is_camel_case_and_round_trips() {
        let event = UserUpsert {
            issuer: Some(issuer::FIRST_PARTY.to_owned()),
            email: Some("a@example.com".into()),
            name: Some("A".into()),
            image_url: None,
            version: Some(7),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["imageUrl"], serde_json::Value::Null);
        assert_eq!(json["version"], 7);
        assert_eq!(serde_json::from_value::<UserUpsert>(json).unwrap(), event);
        assert_eq!(user_path("user_a/b"), "/internal/users/user_a%2Fb");
    }

    #[test]
    fn a_profile_change_names_issuer_and_subject() {
        let message = profile_changed(issuer::CLERK, "user_2x");
        assert_eq!(parse_profile_changed(&message), Some(("clerk", "user_2x")));
        assert_eq!(parse_profile_changed("garbage"), None);
    }
}
