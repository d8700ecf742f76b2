use std::sync::Arc;

use actix_web::HttpRequest;
use common::config::CommonSettings;
use common::db::Db;
use common::ratelimit::RateLimiter;
use common::redis_conn::RedisHandle;
use common::tokens::RevocationList;
use uuid::Uuid;

use crate::config::AuthSettings;
use crate::keys::KeyStore;
use crate::mail::Mailer;
use crate::password::Passwords;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub common: CommonSettings,
    pub settings: AuthSettings,
    pub keys: Arc<KeyStore>,
    pub passwords: Passwords,
    pub mailer: Mailer,
    pub limiter: RateLimiter,
    pub revocations: RevocationList,
    pub redis: Option<RedisHandle>,
    /// Wakes the outbox worker after a change committed an event.
    pub outbox_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Rejects the sessions' access tokens everywhere: in this process at once,
    /// in every other service through Redis within a second.
    pub async fn publish_revocations(&self, sessions: &[Uuid]) {
        if sessions.is_empty() {
            return;
        }
        let until = chrono::Utc::now().timestamp()
            + self.settings.auth_access_token_ttl_secs
            + i64::try_from(self.common.jwt_leeway_secs).unwrap_or(0)
            + 5;
        let ids: Vec<String> = sessions.iter().map(Uuid::to_string).collect();
        if let Err(e) = self
            .revocations
            .publish(self.redis.as_ref(), &ids, until)
            .await
        {
            tracing::error!(error = %e, sessions = ids.len(), "revocation not published to Redis");
        }
    }

    /// The client address: the gateway's `X-Real-IP` from a trusted proxy, else the peer.
    pub fn client_ip(&self, req: &HttpRequest) -> String {
        common::net::ClientIp::of(req).0
    }
}
