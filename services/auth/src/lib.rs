//! The auth service: accounts, sessions with rotating refresh tokens, access
//! tokens signed with Ed25519, JWKS, mail codes, admin and internal routes.

pub mod config;
pub mod db;
pub mod domain;
pub mod keys;
pub mod mail;
pub mod openapi;
pub mod outbox;
pub mod password;
pub mod routes;
pub mod state;
pub mod tokens;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use common::health::HealthState;
use common::ratelimit::RateLimiter;
use common::server::{self, ServerOptions};
use common::startup::Foundation;
use common::tokens::TokenVerifier;

use crate::config::Settings;
use crate::keys::KeyStore;
use crate::mail::Mailer;
use crate::password::Passwords;
use crate::state::AppState;

pub const SERVICE: &str = "auth";

pub struct Application {
    port: u16,
    server: Server,
    health: HealthState,
    shutdown_delay: Duration,
    state: web::Data<AppState>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Connects to its dependencies, binds the listener (port 0 picks a free one)
    /// and prepares the server; [`Application::run_until_stopped`] serves.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let Foundation {
            db,
            redis,
            revocations,
            background,
        } = Foundation::connect(
            &settings.common,
            db::MIGRATIONS,
            settings.auth.migrate_on_start.unwrap_or(settings.local()),
        )
        .await?;
        let keys = KeyStore::load(
            db.clone(),
            settings.auth.auth_generate_keys.unwrap_or(settings.local()),
            settings.auth.auth_access_token_ttl_secs,
        )
        .await?;
        let admins = settings.auth.bootstrap_admins();
        let promoted = db
            .run(move |conn| db::users::promote_admins(conn, &admins))
            .await?;
        if promoted > 0 {
            tracing::info!(promoted, "bootstrap admins promoted");
        }

        let mut background = background;
        let verifier = web::Data::new(TokenVerifier::from_settings(
            &settings.common,
            Some(keys.shared_jwks()),
            revocations.clone(),
        ));
        let concurrency = settings.auth.auth_hash_concurrency.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        });
        let passwords = Passwords::new(
            settings.auth.auth_argon2_memory_kib,
            settings.auth.auth_argon2_iterations,
            settings.auth.auth_argon2_parallelism,
            concurrency,
        )?;
        let outbox_wake = Arc::new(tokio::sync::Notify::new());
        let state = web::Data::new(AppState {
            db: db.clone(),
            mailer: Mailer::from_settings(&settings.auth)?,
            limiter: RateLimiter::new(redis.clone()),
            keys,
            passwords,
            revocations,
            redis: redis.clone(),
            common: settings.common.clone(),
            settings: settings.auth.clone(),
            outbox_wake: outbox_wake.clone(),
        });
        background.push(spawn_maintenance(state.clone()));
        match settings
            .auth
            .auth_directory_url
            .clone()
            .filter(|u| !u.trim().is_empty())
        {
            Some(directory_url) => background.push(outbox::spawn(
                state.clone(),
                outbox::OutboxSettings {
                    directory_url,
                    poll: Duration::from_millis(settings.auth.auth_outbox_poll_ms),
                    max_backoff: Duration::from_secs(settings.auth.auth_outbox_max_backoff_secs),
                },
                outbox_wake,
            )?),
            None => tracing::info!("AUTH_DIRECTORY_URL unset: user events wait in the outbox"),
        }

        let listener = TcpListener::bind((settings.common.host.as_str(), settings.common.port))?;
        let port = listener.local_addr()?.port();
        let health = HealthState::new(SERVICE, env!("CARGO_PKG_VERSION"), Some(db), redis);
        let routes_state = state.clone();
        let server = server::serve(
            listener,
            ServerOptions::from_settings(&settings.common),
            health.clone(),
            move |cfg| {
                cfg.app_data(routes_state.clone())
                    .app_data(verifier.clone());
                routes::configure(cfg);
            },
        )?;
        tracing::info!(port, "auth listening");
        Ok(Self {
            port,
            server,
            health,
            shutdown_delay: Duration::from_secs(settings.common.shutdown_delay_secs),
            state,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Shared state, for tests that need to reach behind the HTTP API.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result =
            server::run_until_stopped(self.server, &self.health, self.shutdown_delay).await;
        for task in self.background {
            task.abort();
        }
        result
    }
}

/// Every minute: forget refresh-token successors past the grace window and pick
/// up signing keys rotated by another process.
fn spawn_maintenance(state: web::Data<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
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
    })
}
