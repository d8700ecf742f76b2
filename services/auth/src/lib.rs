//! The auth service: accounts, sessions with rotating refresh tokens, access
//! tokens signed with Ed25519, JWKS, mail codes, admin and internal routes.

pub mod commands;
pub mod config;
pub mod db;
pub mod domain;
pub mod errors;
pub mod keys;
pub mod mail;
pub mod openapi;
pub mod outbox;
pub mod password;
pub mod routes;
pub mod state;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use common::config::Settings;
use common::ratelimit::RateLimiter;
use common::runner::Service;
use common::startup::{App, Foundation, Launch};
use diesel_migrations::EmbeddedMigrations;

use crate::config::AuthSettings;
use crate::keys::KeyStore;
use crate::mail::Mailer;
use crate::password::Passwords;
use crate::state::AppState;

/// The auth service, as the runner and the tests start it.
pub struct Auth;

impl Service for Auth {
    const NAME: &'static str = "auth";
    const DEFAULT_PORT: u16 = 8081;
    type Config = AuthSettings;
    type State = AppState;
    type Commands = commands::Commands;

    const MIGRATIONS: EmbeddedMigrations = db::MIGRATIONS;

    fn openapi() -> utoipa::openapi::OpenApi {
        openapi::document()
    }

    async fn build(settings: Settings<AuthSettings>) -> anyhow::Result<App<Self::State>> {
        let mut foundation = Foundation::connect(&settings.common, Self::MIGRATIONS).await?;
        let own = &settings.service;
        let db = foundation.db.clone();
        let keys = KeyStore::load(
            db.clone(),
            own.auth_generate_keys.unwrap_or(settings.local()),
            own.auth_access_token_ttl_secs,
        )
        .await?;
        let admins = own.bootstrap_admins();
        let promoted = db
            .run(move |conn| db::users::promote_admins(conn, &admins))
            .await?;
        if promoted > 0 {
            tracing::info!(promoted, "bootstrap admins promoted (verified accounts)");
        }
        let verifier = foundation.verifier(&settings.common, Some(keys.shared_jwks()));
        let concurrency = own.auth_hash_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        });
        let passwords = Passwords::new(
            own.auth_argon2_memory_kib,
            own.auth_argon2_iterations,
            own.auth_argon2_parallelism,
            concurrency,
        )?;
        let outbox_wake = Arc::new(tokio::sync::Notify::new());
        let state = web::Data::new(AppState {
            db,
            mailer: Mailer::from_settings(own)?,
            limiter: RateLimiter::new(foundation.redis.clone()),
            keys,
            passwords,
            revocations: foundation.revocations.clone(),
            redis: foundation.redis.clone(),
            common: settings.common.clone(),
            settings: own.clone(),
            outbox_wake: outbox_wake.clone(),
        });
        spawn_maintenance(&mut foundation.tasks, state.clone());
        match own
            .auth_directory_url
            .clone()
            .filter(|u| !u.trim().is_empty())
        {
            Some(directory_url) => outbox::spawn(
                &mut foundation.tasks,
                state.clone(),
                outbox::OutboxSettings {
                    directory_url,
                    poll: Duration::from_millis(own.auth_outbox_poll_ms),
                    max_backoff: Duration::from_secs(own.auth_outbox_max_backoff_secs),
                },
                outbox_wake,
            )?,
            None => tracing::info!("AUTH_DIRECTORY_URL unset: user events wait in the outbox"),
        }
        Launch::new(foundation, state, verifier, routes::configure)
            .internal_routes(routes::configure_internal)
            .start::<Self>(&settings.common)
    }
}

/// Every minute: forget refresh-token successors past the grace window and pick
/// up signing keys rotated by another process.
fn spawn_maintenance(tasks: &mut common::tasks::Tasks, state: web::Data<AppState>) {
    tasks.every("auth-maintenance", Duration::from_secs(60), move || {
        let state = state.clone();
        async move {
            let grace = chrono::Duration::seconds(state.settings.auth_refresh_grace_secs);
            if let Err(e) = state
                .db
                .run(move |conn| db::sessions::sweep_grace(conn, grace))
                .await
            {
                tracing::warn!(error = %e, "grace sweep failed");
            }
            if let Err(e) = state.keys.reload().await {
                tracing::warn!(error = %e, "key reload failed");
            }
        }
    });
}
