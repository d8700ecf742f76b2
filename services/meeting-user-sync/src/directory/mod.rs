//! Where profiles come from: Clerk's Backend API for Clerk users, auth's internal
//! API for first-party users, the token's own claims for any other issuer, and
//! the verification of Clerk's Svix-signed webhooks.

pub mod cache;
pub mod svix;
pub mod sync;

use std::time::Duration;

use common::client::{ClientError, ClientOptions, ServiceClient};
use common::config::CommonSettings;
use common::tokens::AuthUser;
use serde_json::Value;

use crate::config::DirectorySettings;

use common::issuer::{CLERK, FIRST_PARTY};

/// What an identity provider says about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub email: Option<String>,
    pub name: Option<String>,
    pub image_url: Option<String>,
    /// The provider's version of this data (Clerk: `updated_at` in ms; auth:
    /// `updatedAt` in microseconds); 0 when unknown.
    pub version: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the identity provider has no such user")]
    NotFound,
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
}

impl From<ClientError> for SourceError {
    fn from(err: ClientError) -> Self {
        match err {
            ClientError::Status { status, .. } if status.as_u16() == 404 => Self::NotFound,
            other => Self::Unavailable(other.to_string()),
        }
    }
}

struct Source {
    client: ServiceClient,
    base_url: String,
}

pub struct IdentitySources {
    clerk: Option<Source>,
    auth: Option<Source>,
}

fn client_options() -> ClientOptions {
    ClientOptions {
        connect_timeout: Duration::from_secs(2),
        timeout: Duration::from_secs(5),
        retries: 1,
    }
}

impl IdentitySources {
    pub fn from_settings(common: &CommonSettings, s: &DirectorySettings) -> anyhow::Result<Self> {
        let clerk = match s.clerk_secret_key() {
            Some(key) => Some(Source {
                client: ServiceClient::new(&client_options())?.with_bearer_key(key),
                base_url: s.clerk_api_url.trim_end_matches('/').to_owned(),
            }),
            None => {
                if common
                    .clerk_issuer
                    .as_deref()
                    .is_some_and(|i| !i.is_empty())
                {
                    tracing::warn!(
                        "CLERK_SECRET_KEY unset: Clerk users get profiles from their tokens only"
                    );
                }
                None
            }
        };
        let auth_url = s.auth_internal_url.trim_end_matches('/').to_owned();
        let auth = match s.service_client() {
            Some((id, secret)) => Some(Source {
                client: ServiceClient::new(&client_options())?.with_service_token(
                    format!("{auth_url}/internal/token"),
                    id,
                    secret,
                ),
                base_url: auth_url,
            }),
            None => {
                tracing::warn!("SERVICE_CLIENT_ID/SECRET unset: first-party users get profiles from their tokens only");
                None
            }
        };
        Ok(Self { clerk, auth })
    }

    /// The caller's identity, from its issuer.
    pub async fn fetch(&self, user: &AuthUser) -> Result<Identity, SourceError> {
        let source = match user.issuer.as_str() {
            CLERK => self.clerk.as_ref(),
            FIRST_PARTY => self.auth.as_ref(),
            _ => None,
        };
        let Some(source) = source else {
            return Ok(Identity {
                email: user.email.clone(),
                name: None,
                image_url: None,
                version: 0,
            });
        };
        if user.issuer == CLERK {
            let url = format!(
                "{}/v1/users/{}",
                source.base_url,
                path_segment(&user.subject)
            );
            let raw: Value = source.client.get_json(&url).await?;
            Ok(clerk_identity(&raw))
        } else {
            let url = format!(
                "{}/internal/users/{}",
                source.base_url,
                path_segment(&user.subject)
            );
            let raw: Value = source.client.get_json(&url).await?;
            Ok(first_party_identity(&raw))
        }
    }
}

/// A subject as one URL path segment (ours are UUIDs, Clerk's `user_…`; anything
/// else is percent-encoded rather than trusted).
fn path_segment(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn text(raw: &Value, key: &str) -> Option<String> {
    raw.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Clerk's User object: the primary email, first and last name, image, `updated_at`.
pub fn clerk_identity(raw: &Value) -> Identity {
    let primary = raw.get("primary_email_address_id").and_then(Value::as_str);
    let emails = raw.get("email_addresses").and_then(Value::as_array);
    let email = emails.and_then(|list| {
        list.iter()
            .find(|e| e.get("id").and_then(Value::as_str) == primary)
            .or_else(|| list.first())
            .and_then(|e| text(e, "email_address"))
    });
    let name = [text(raw, "first_name"), text(raw, "last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    Identity {
        email,
        name: (!name.is_empty()).then_some(name),
        image_url: text(raw, "image_url"),
        version: raw.get("updated_at").and_then(Value::as_i64).unwrap_or(0),
    }
}

/// auth's internal user: `{email, name, imageUrl, updatedAt}`.
pub fn first_party_identity(raw: &Value) -> Identity {
    Identity {
        email: text(raw, "email"),
        name: text(raw, "name"),
        image_url: text(raw, "imageUrl"),
        version: text(raw, "updatedAt")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.timestamp_micros())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clerk_users_use_the_primary_email_and_both_names() {
        let raw = json!({
            "id": "user_1",
            "first_name": "Ada", "last_name": "Lovelace", "image_url": "https://img.clerk.test/a.png",
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "email_address": "old@example.com"},
                {"id": "idn_2", "email_address": "ada@example.com"}],
            "updated_at": 1_700_000_000_123_i64,
        });
        let identity = clerk_identity(&raw);
        assert_eq!(identity.email.as_deref(), Some("ada@example.com"));
        assert_eq!(identity.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(identity.version, 1_700_000_000_123);
        let nameless = clerk_identity(&json!({"first_name": null, "last_name": " "}));
        assert_eq!(nameless.name, None);
    }

    #[test]
    fn first_party_versions_are_microseconds_of_updated_at() {
        let identity = first_party_identity(&json!({
            "email": "a@example.com", "name": "A", "imageUrl": null,
            "updatedAt": "2026-11-22T10:00:00.000001Z",
        }));
        assert_eq!(identity.version % 1_000_000, 1);
        assert_eq!(identity.image_url, None);
    }

    #[test]
    fn subjects_cannot_escape_their_path_segment() {
        assert_eq!(path_segment("user_2abc"), "user_2abc");
        assert_eq!(path_segment("../admin"), "%2E%2E%2Fadmin");
    }
}
