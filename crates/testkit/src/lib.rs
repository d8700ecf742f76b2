//! Test helpers shared by every service's tests: a fresh database per test cloned
//! from a migrated template, a token issuer serving a real JWKS endpoint on
//! loopback, tmdb-sim (a fake of TMDB's API, also the `tmdb-sim` binary), a
//! redis-server a test can stop and restart, mail reading and log set-up.

pub mod api;
pub mod app;
pub mod bench;
pub mod clerk_sim;
pub mod db;
pub mod issuer;
pub mod mail;
pub mod pg_server;
pub mod redis_server;
pub mod tmdb_sim;

pub use app::{owned, spawn, Client, Env, ISSUER};

/// `Deref<Target = Client>` for a service's `TestApp` that keeps its client in
/// `api`, so tests call `app.get(...)` and the `TestApp`'s own methods alike.
#[macro_export]
macro_rules! deref_to_client {
    ($app:ty) => {
        impl ::std::ops::Deref for $app {
            type Target = $crate::Client;
            fn deref(&self) -> &$crate::Client {
                &self.api
            }
        }
    };
}
pub use db::TestDb;
pub use issuer::TestIssuer;
pub use pg_server::PgServer;
pub use redis_server::RedisServer;

use std::path::PathBuf;
use std::sync::Once;

/// The workspace root (where `.run/` lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Logs to stdout when `TEST_LOG=1`; silent otherwise.
pub fn init_tracing() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}

/// Redis for tests: `TEST_REDIS_URL`, else the local stack's default.
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:56379".to_owned())
}

/// A client address unique to one test app, sent as `X-Real-IP`, so per-IP rate
/// limits of parallel tests do not interfere.
pub fn unique_ip() -> String {
    let b: [u8; 3] = rand::random();
    format!("10.{}.{}.{}", b[0], b[1], b[2].max(1))
}
