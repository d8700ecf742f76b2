//! How a service starts, in the same order everywhere: [`Foundation::connect`]
//! (the database, migrated when `MIGRATE_ON_START` says so, Redis, and the
//! revocation list fed by Redis), then the service's own state, then
//! [`App::start`] (the listeners with their routes, health and background tasks).

use std::net::TcpListener;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::web;
use diesel_migrations::EmbeddedMigrations;
use jsonwebtoken::jwk::JwkSet;

use crate::config::CommonSettings;
use crate::db::{self, Db};
use crate::error::ApiError;
use crate::health::HealthState;
use crate::openapi::{self, MethodTable};
use crate::redis_conn::RedisHandle;
use crate::runner::Service;
use crate::server::{self, Configure, Listener, ServerOptions};
use crate::tasks::Tasks;
use crate::tokens::{RevocationList, TokenVerifier};

/// What every service connects to at start.
pub struct Foundation {
    pub db: Db,
    /// `None` when `REDIS_URL` is unset.
    pub redis: Option<RedisHandle>,
    /// Sessions revoked anywhere, kept in step with Redis by a background task.
    pub revocations: RevocationList,
    /// Supervised background tasks; stopped with the server.
    pub tasks: Tasks,
}

impl Foundation {
    /// Builds the pool, applies `migrations` when `MIGRATE_ON_START` (local mode
    /// by default), connects to Redis (failing after 5 s when it is configured but
    /// unreachable) and starts the revocation listener.
    pub async fn connect(
        settings: &CommonSettings,
        migrations: EmbeddedMigrations,
    ) -> anyhow::Result<Self> {
        let db = Db::from_settings(settings);
        if settings.migrate_on_start() {
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
        let mut tasks = Tasks::new();
        if let Some(redis) = &redis {
            revocations.spawn_listener(&mut tasks, redis.clone());
            revocations.spawn_republisher(&mut tasks, redis.clone());
        }
        Ok(Self {
            db,
            redis,
            revocations,
            tasks,
        })
    }

    /// The token verifier of this service: the first-party issuer (keys from
    /// `AUTH_JWKS_URL`, or `own_keys` inside auth) and Clerk when configured.
    pub fn verifier(
        &self,
        settings: &CommonSettings,
        own_keys: Option<Arc<RwLock<JwkSet>>>,
    ) -> web::Data<TokenVerifier> {
        web::Data::new(TokenVerifier::from_settings(
            settings,
            own_keys,
            self.revocations.clone(),
        ))
    }
}

/// Routes served on the internal listener only: the `/internal` prefix.
pub fn is_internal_path(path: &str) -> bool {
    path == "/internal" || path.starts_with("/internal/")
}

/// What [`App::start`] serves: built with [`Launch::new`], started with
/// [`Launch::start`].
pub struct Launch<D> {
    foundation: Foundation,
    /// The handlers' state, on every listener (and handed to the tests).
    state: web::Data<D>,
    /// The token verifier, on every listener.
    verifier: web::Data<TokenVerifier>,
    /// The public routes (the gateway proxies these).
    routes: fn(&mut web::ServiceConfig),
    /// The `/internal` routes, on a listener of their own that the gateway never
    /// proxies (`INTERNAL_PORT`); `None` for services without any.
    internal_routes: Option<fn(&mut web::ServiceConfig)>,
    /// Readiness stays 200 (`degraded`) while Redis is down.
    redis_optional: bool,
}

impl<D: Send + Sync + 'static> Launch<D> {
    /// The public `routes`, served with `state` and `verifier`; Redis required.
    pub fn new(
        foundation: Foundation,
        state: web::Data<D>,
        verifier: web::Data<TokenVerifier>,
        routes: fn(&mut web::ServiceConfig),
    ) -> Self {
        Self {
            foundation,
            state,
            verifier,
            routes,
            internal_routes: None,
            redis_optional: false,
        }
    }

    /// `/internal` routes, on the internal listener.
    pub fn internal_routes(mut self, routes: fn(&mut web::ServiceConfig)) -> Self {
        self.internal_routes = Some(routes);
        self
    }

    /// Readiness stays 200 (`degraded`) while Redis is down: the service works
    /// without it.
    pub fn redis_optional(mut self) -> Self {
        self.redis_optional = true;
        self
    }

    /// Binds the listeners of service `S` (see [`App::start`]).
    pub fn start<S: Service<State = D>>(self, settings: &CommonSettings) -> anyhow::Result<App<D>> {
        App::start::<S>(settings, self)
    }
}

/// A started service: its listeners bound, serving once [`App::run_until_stopped`]
/// is awaited.
pub struct App<D> {
    port: u16,
    internal_port: Option<u16>,
    servers: Vec<Server>,
    health: HealthState,
    shutdown_delay: Duration,
    tasks: Tasks,
    state: web::Data<D>,
}

/// Routes the shared server adds to every listener.
const SHARED_ROUTES: &[(&str, Method)] = &[
    ("/health", Method::GET),
    ("/health/live", Method::GET),
    ("/health/ready", Method::GET),
    ("/metrics", Method::GET),
];

impl<D: Send + Sync + 'static> App<D> {
    /// Binds the listeners of service `S` (port 0 picks a free one) and prepares
    /// the servers: its name and OpenAPI document come from [`Service`].
    pub fn start<S: Service<State = D>>(
        settings: &CommonSettings,
        launch: Launch<D>,
    ) -> anyhow::Result<Self> {
        let Launch {
            foundation,
            state,
            verifier,
            routes,
            internal_routes,
            redis_optional,
        } = launch;
        let (service, document) = (S::NAME, S::openapi());
        let with_data = |routes: fn(&mut web::ServiceConfig)| -> Configure {
            let (state, verifier) = (state.clone(), verifier.clone());
            Arc::new(move |cfg| {
                cfg.app_data(state.clone()).app_data(verifier.clone());
                routes(cfg);
            })
        };
        let mut health = HealthState::new(
            service,
            env!("CARGO_PKG_VERSION"),
            Some(foundation.db.clone()),
            foundation.redis.clone(),
        );
        if redis_optional {
            health = health.with_optional_redis();
        }
        health.revocations = Some(foundation.revocations.clone());
        let options = ServerOptions::from_settings(settings)?;
        let json: Arc<str> = Arc::from(openapi::committed_json(&document)?);
        let mut public_extra = SHARED_ROUTES.to_vec();
        public_extra.push(("/openapi.json", Method::GET));
        let public = Listener {
            tcp: TcpListener::bind((settings.host.as_str(), settings.port))?,
            routes: with_data(routes),
            methods: MethodTable::new(&document, |p| !is_internal_path(p), &public_extra),
            openapi: Some(json),
            workers: None,
        };
        let port = public.tcp.local_addr()?.port();
        let mut servers = vec![server::serve(public, &options, health.clone())?];
        let mut internal_port = None;
        if let Some(routes) = internal_routes {
            let internal = Listener {
                tcp: TcpListener::bind((settings.host.as_str(), settings.internal_port()))?,
                routes: with_data(routes),
                methods: MethodTable::new(&document, is_internal_path, SHARED_ROUTES),
                openapi: None,
                workers: Some(1),
            };
            internal_port = Some(internal.tcp.local_addr()?.port());
            servers.push(server::serve(internal, &options, health.clone())?);
        }
        tracing::info!(port, ?internal_port, "{service} listening");
        Ok(Self {
            port,
            internal_port,
            servers,
            health,
            shutdown_delay: Duration::from_secs(settings.shutdown_delay_secs),
            tasks: foundation.tasks,
            state,
        })
    }

    /// The public listener's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The internal listener's port, for services with `/internal` routes.
    pub fn internal_port(&self) -> Option<u16> {
        self.internal_port
    }

    pub fn state(&self) -> &web::Data<D> {
        &self.state
    }

    /// Serves until SIGTERM or Ctrl-C (see [`server::run_until_stopped`]), then
    /// stops the background tasks.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result =
            server::run_until_stopped(self.servers, &self.health, self.shutdown_delay).await;
        self.tasks.abort_all();
        result
    }
}
