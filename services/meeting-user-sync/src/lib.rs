//! meeting-user-sync: the user directory every service asks for names and avatars,
//! whichever issuer signed the user's token (Clerk through its API and webhooks,
//! first-party users through auth), and the backend of a video-meeting app.

pub mod config;
pub mod db;
pub mod directory;
pub mod domain;
pub mod live;
pub mod openapi;
pub mod routes;
pub mod state;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use common::health::HealthState;
use common::server::{self, ServerOptions};
use common::startup::Foundation;
use common::tokens::TokenVerifier;

use crate::config::Settings;
use crate::directory::cache::ProfileCache;
use crate::directory::IdentitySources;
use crate::live::Hub;
use crate::state::AppState;

pub const SERVICE: &str = "meeting-user-sync";

pub struct Application {
    port: u16,
    server: Server,
    health: HealthState,
    shutdown_delay: Duration,
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
            mut background,
        } = Foundation::connect(
            &settings.common,
            db::MIGRATIONS,
            settings
                .directory
                .migrate_on_start
                .unwrap_or(settings.local()),
        )
        .await?;
        let live = Arc::new(Hub::new(redis.clone()));
        if let Some(redis) = &redis {
            background.push(live.spawn_listener(redis.clone()));
        }
        background.push(live.spawn_revocation_watch(revocations.clone()));
        let profiles = Arc::new(ProfileCache::new(redis.clone()));
        if let Some(redis) = &redis {
            background.push(profiles.spawn_listener(redis.clone()));
        }
        let verifier = web::Data::new(TokenVerifier::from_settings(
            &settings.common,
            None,
            revocations,
        ));
        let state = web::Data::new(AppState {
            db: db.clone(),
            sources: IdentitySources::from_settings(&settings.common, &settings.directory)?,
            settings: settings.directory.clone(),
            live,
            profiles,
        });
        let listener = TcpListener::bind((settings.common.host.as_str(), settings.common.port))?;
        let port = listener.local_addr()?.port();
        let health = HealthState::new(SERVICE, env!("CARGO_PKG_VERSION"), Some(db), redis);
        let server = server::serve(
            listener,
            ServerOptions::from_settings(&settings.common),
            health.clone(),
            move |cfg| {
                cfg.app_data(state.clone()).app_data(verifier.clone());
                routes::configure(cfg);
            },
        )?;
        tracing::info!(port, "meeting-user-sync listening");
        Ok(Self {
            port,
            server,
            health,
            shutdown_delay: Duration::from_secs(settings.common.shutdown_delay_secs),
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
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
