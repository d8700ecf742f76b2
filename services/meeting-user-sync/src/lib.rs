//! meeting-user-sync: the user directory every service asks for names and avatars,
//! whichever issuer signed the user's token (Clerk through its API and webhooks,
//! first-party users through auth), and the backend of a video-meeting app.

pub mod config;
pub mod db;
pub mod directory;
pub mod domain;
pub mod dto;
pub mod errors;
pub mod live;
pub mod meetings;
pub mod openapi;
pub mod routes;
pub mod state;

use std::sync::Arc;

use actix_web::web;
use common::config::Settings;
use common::ratelimit::RateLimiter;
use common::runner::{NoCommands, Service};
use common::startup::{App, Foundation, Launch};
use diesel_migrations::EmbeddedMigrations;

use crate::config::DirectorySettings;
use crate::directory::cache::ProfileCache;
use crate::directory::IdentitySources;
use crate::live::Hub;
use crate::state::AppState;

/// The meeting-user-sync service, as the runner and the tests start it.
pub struct MeetingUserSync;

impl Service for MeetingUserSync {
    const NAME: &'static str = "meeting-user-sync";
    const DEFAULT_PORT: u16 = 8084;
    type Config = DirectorySettings;
    type State = AppState;
    type Commands = NoCommands;

    const MIGRATIONS: EmbeddedMigrations = db::MIGRATIONS;

    fn openapi() -> utoipa::openapi::OpenApi {
        openapi::document()
    }

    async fn build(settings: Settings<DirectorySettings>) -> anyhow::Result<App<AppState>> {
        let mut foundation = Foundation::connect(&settings.common, Self::MIGRATIONS).await?;
        let redis = foundation.redis.clone();
        let live = Arc::new(Hub::new(redis.clone(), settings.common.jwt_leeway_secs));
        let profiles = Arc::new(ProfileCache::new(redis.clone()));
        if let Some(redis) = &redis {
            live.spawn_listener(&mut foundation.tasks, redis.clone());
            profiles.spawn_listener(&mut foundation.tasks, redis.clone());
        }
        live.spawn_watch(&mut foundation.tasks, foundation.revocations.clone());
        let verifier = foundation.verifier(&settings.common, None);
        let state = web::Data::new(AppState {
            db: foundation.db.clone(),
            sources: IdentitySources::from_settings(&settings.common, &settings.service)?,
            settings: settings.service.clone(),
            live,
            profiles,
            limiter: RateLimiter::new(redis),
        });
        Launch::new(foundation, state, verifier, routes::configure)
            .internal_routes(routes::configure_internal)
            .start::<Self>(&settings.common)
    }
}
