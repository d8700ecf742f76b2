//! The r2d2 pool, a blocking helper that bounds concurrency to the pool and keeps
//! the tracing span, and the embedded-migrations runner.
//!
//! A connection on which a query failed because the server went away (a restart,
//! a failover) leaves the pool when it is returned, so the pool reconnects as soon
//! as PostgreSQL is back, without a ping per checkout.

use std::sync::Arc;
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

use crate::config::CommonSettings;
use crate::error::ApiError;

/// A pooled connection and whether the server was found gone while using it.
pub struct PgConn {
    conn: PgConnection,
    lost: bool,
}

/// diesel's manager, plus: a connection marked lost is broken (r2d2 closes it).
pub struct Manager(ConnectionManager<PgConnection>);

impl ManageConnection for Manager {
    type Connection = PgConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConn, Self::Error> {
        let mut conn = self.0.connect()?;
        // No JIT compilation: the services run short queries, and PostgreSQL
        // compiles any whose estimated cost passes `jit_above_cost`, an estimate
        // that misjudges LIMITed walks. Compiling cost 50-60 ms on a feed query
        // that runs in 1 ms (the following feed benchmark).
        // No parallel workers either: a request is one query on one core while
        // other requests take the others, and each worker is a process forked
        // and torn down per query (a search over 4,000 matches spent more time
        // starting workers than they saved).
        diesel::connection::SimpleConnection::batch_execute(
            &mut conn,
            "SET jit = off; SET max_parallel_workers_per_gather = 0",
        )
        .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(PgConn { conn, lost: false })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), Self::Error> {
        self.0.is_valid(&mut conn.conn)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.lost || self.0.has_broken(&mut conn.conn)
    }
}

pub type PgPool = Pool<Manager>;

/// A pool plus a semaphore of the same size: at most `max_size` blocking tasks wait
/// for a connection at once, so a burst queues on the async side instead of
/// parking hundreds of blocking threads.
#[derive(Clone)]
pub struct Db {
    pool: PgPool,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

impl Db {
    /// Builds the pool without connecting: readiness reports a database that is down.
    pub fn new(url: &str, max_size: u32, min_idle: u32, timeout: Duration) -> Self {
        let manager = Manager(ConnectionManager::<PgConnection>::new(url));
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(min_idle.min(max_size)))
            .connection_timeout(timeout)
            // No `SELECT 1` per checkout (it doubles the round trips of a simple
            // read); a connection found broken or lost is dropped when it is returned.
            .test_on_check_out(false)
            .build_unchecked(manager);
        Self {
            pool,
            permits: Arc::new(Semaphore::new(max_size as usize)),
            timeout,
        }
    }

    pub fn from_settings(settings: &CommonSettings) -> Self {
        Self::new(
            settings.database_url.expose_secret(),
            settings.db_pool_max_size,
            settings.db_pool_min_idle,
            settings.pool_timeout(),
        )
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `f` with a pooled connection on the blocking pool, inside the caller's
    /// span. When `f` fails because the server is gone, the connection is
    /// discarded rather than returned to the pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut PgConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = tokio::time::timeout(self.timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| ApiError::Unavailable("Database busy, retry later".to_owned()))?
            .map_err(|_| ApiError::Unavailable("Database unavailable".to_owned()))?;
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _entered = span.enter();
            let mut pooled = pool.get()?;
            let result = f(&mut pooled.conn);
            if matches!(result, Err(ApiError::DatabaseUnavailable)) {
                pooled.lost = true;
            }
            result
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("blocking task failed")))?
    }

    /// Connections open and idle, for `/metrics`.
    pub fn state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections)
    }
}

/// A pattern matching `q` anywhere, for ILIKE: `%`, `_` and `\` in user text are
/// escaped so they match literally.
pub fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Applies pending migrations and returns the versions applied.
pub fn run_migrations(
    conn: &mut PgConnection,
    migrations: EmbeddedMigrations,
) -> anyhow::Result<Vec<String>> {
    let applied = conn
        .run_pending_migrations(migrations)
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Connects once (outside the pool) and migrates: the `migrate` subcommand.
pub fn migrate_url(url: &str, migrations: EmbeddedMigrations) -> anyhow::Result<Vec<String>> {
    use diesel::Connection;
    let mut conn = PgConnection::establish(url)
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    run_migrations(&mut conn, migrations)
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
