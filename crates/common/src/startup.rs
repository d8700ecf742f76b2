//! What every service connects to at start, in the same order everywhere: the
//! database (migrated when asked), Redis, and the revocation list fed by Redis.

use diesel_migrations::EmbeddedMigrations;

use crate::config::CommonSettings;
use crate::db::{self, Db};
use crate::error::ApiError;
use crate::redis_conn::RedisHandle;
use crate::tokens::RevocationList;

pub struct Foundation {
    pub db: Db,
    /// `None` when `REDIS_URL` is unset.
    pub redis: Option<RedisHandle>,
    /// Sessions revoked anywhere, kept in step with Redis by a background task.
    pub revocations: RevocationList,
    /// Tasks to abort when the server stops.
    pub background: Vec<tokio::task::JoinHandle<()>>,
}

impl Foundation {
    /// Builds the pool, applies `migrations` when `migrate` (local mode), connects
    /// to Redis (failing after 5 s when it is configured but unreachable) and starts
    /// the revocation listener.
    pub async fn connect(
        settings: &CommonSettings,
        migrations: EmbeddedMigrations,
        migrate: bool,
    ) -> anyhow::Result<Self> {
        let db = Db::from_settings(settings);
        if migrate {
            let applied = db
                .run(move |conn| db::run_migrations(conn, migrations).map_err(ApiError::Internal))
                .await
                .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
            if !applied.is_empty() {
                tracing::info!(?applied, "migrations applied");
            }
        }
        let redis = match settings.redis_url() {
            Some(url) => Some(RedisHandle::connect(url).await?),
            None => None,
        };
        let revocations = RevocationList::new();
        let mut background = Vec::new();
        if let Some(redis) = &redis {
            background.push(revocations.spawn_listener(redis.clone()));
        }
        Ok(Self {
            db,
            redis,
            revocations,
            background,
        })
    }
}
