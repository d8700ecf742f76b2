//! social: the backend of a short-video app. Videos (hosted elsewhere, for now),
//! hashtags, comments with one level of replies, likes, follows, profile
//! counters kept exact under concurrency, the following feed, hashtag pages and
//! caption search; names and avatars from the user directory.

pub mod commands;
pub mod config;
pub mod db;
pub mod directory;
pub mod domain;
pub mod dto;
pub mod errors;
pub mod notify;
pub mod openapi;
pub mod present;
pub mod processing;
pub mod ranking;
pub mod routes;
pub mod state;
pub mod views;

use std::sync::Arc;

use actix_web::web;
use common::config::Settings;
use common::ratelimit::RateLimiter;
use common::runner::Service;
use common::startup::{App, Foundation, Launch};
use diesel_migrations::EmbeddedMigrations;

use crate::config::SocialSettings;
use crate::directory::Directory;
use crate::notify::Notifier;
use crate::processing::Processor;
use crate::state::AppState;
use crate::views::Views;

/// The social service, as the runner and the tests start it.
pub struct Social;

impl Service for Social {
    const NAME: &'static str = "social";
    const DEFAULT_PORT: u16 = 8083;
    const MIGRATIONS: EmbeddedMigrations = db::MIGRATIONS;
    type Config = SocialSettings;
    type State = AppState;
    type Commands = commands::Commands;

    fn openapi() -> utoipa::openapi::OpenApi {
        openapi::document()
    }

    async fn build(settings: Settings<SocialSettings>) -> anyhow::Result<App<AppState>> {
        let mut foundation = Foundation::connect(&settings.common, Self::MIGRATIONS).await?;
        let redis = foundation.redis.clone();
        let directory = Arc::new(Directory::from_settings(&settings.service)?);
        if let Some(redis) = &redis {
            directory.spawn_listener(&mut foundation.tasks, redis.clone());
        }
        let s = &settings.service;
        let views = Arc::new(Views::new(
            foundation.db.clone(),
            redis.clone(),
            &s.social_redis_prefix,
            s.view_window_secs,
        ));
        if redis.is_some() {
            views.spawn_flusher(
                &mut foundation.tasks,
                std::time::Duration::from_millis(s.views_flush_ms),
            );
        }
        let storage = common::storage::Storage::open(&settings.storage)?;
        if s.media_accel_redirect && !storage.is_local() {
            anyhow::bail!(
                "MEDIA_ACCEL_REDIRECT needs the folder store (STORAGE_DIR): the gateway cannot read objects of S3_BUCKET"
            );
        }
        spawn_maintenance(
            &mut foundation.tasks,
            foundation.db.clone(),
            storage.clone(),
            s.view_window_secs,
        );
        spawn_trending(
            &mut foundation.tasks,
            foundation.db.clone(),
            s.trending_refresh_secs,
        );
        let notifier = Arc::new(Notifier::new(redis.clone(), &s.social_redis_prefix));
        if let Some(redis) = &redis {
            notifier.spawn_listener(&mut foundation.tasks, redis.clone());
        }
        let processor = Arc::new(Processor::new(
            foundation.db.clone(),
            storage.clone(),
            settings.service.clone(),
        ));
        processor.spawn(&mut foundation.tasks);
        let verifier = foundation.verifier(&settings.common, None);
        let state = web::Data::new(AppState {
            db: foundation.db.clone(),
            directory,
            views,
            notifier,
            storage,
            processor,
            settings: settings.service.clone(),
            limiter: RateLimiter::new(redis),
            ranking: Default::default(),
            ready_uploads: state::ready_uploads(),
        });
        Launch::new(foundation, state, verifier, routes::configure).start::<Self>(&settings.common)
    }
}

/// Every ten minutes: forget view marks, applied view batches, seen videos and
/// for-you sessions past their use, and Idempotency-Key answers past 24 hours;
/// sweep expired uploads with their bytes.
fn spawn_maintenance(
    tasks: &mut common::tasks::Tasks,
    db: common::db::Db,
    storage: common::storage::Storage,
    window_secs: u64,
) {
    let window = i64::try_from(window_secs).unwrap_or(i64::MAX);
    let every = std::time::Duration::from_secs(600);
    tasks.every("social-maintenance", every, move || {
        let (db, storage) = (db.clone(), storage.clone());
        async move {
            let pruned = db
                .run(move |conn| {
                    db::views::prune(conn, window)?;
                    db::trending::prune(conn)?;
                    Ok(common::idempotency::prune(conn)?)
                })
                .await;
            if let Err(e) = pruned {
                tracing::warn!(error = %e, "maintenance failed; retried in ten minutes");
            }
            routes::uploads::sweep_expired(&db, &storage).await;
        }
    });
}

/// Computes the trending ranking every `every_secs` (one replica at a time; the
/// others find the new snapshot fresh and skip).
fn spawn_trending(tasks: &mut common::tasks::Tasks, db: common::db::Db, every_secs: u64) {
    let every = every_secs.max(1);
    let fresh_for = i64::try_from(every).unwrap_or(60) - 1;
    tasks.every(
        "trending-ranking",
        std::time::Duration::from_secs(every),
        move || {
            let db = db.clone();
            async move {
                if let Err(e) = db
                    .run(move |conn| Ok(db::trending::refresh(conn, fresh_for)?))
                    .await
                {
                    tracing::warn!(error = %e, "trending ranking not computed; retried next tick");
                }
            }
        },
    );
}
