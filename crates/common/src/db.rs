//! The r2d2 pool, a blocking helper that bounds concurrency to the pool and keeps
//! the tracing span, and the embedded-migrations runner.
//!
//! A connection on which a query failed because the server went away (a restart,
//! a failover) leaves the pool when it is returned, so the pool reconnects as soon
//! as PostgreSQL is back, without a ping per checkout.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use diesel::pg::{Pg, PgConnection};
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::query_dsl::RunQueryDsl;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::QueryResult;
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

/// Raw SQL whose prepared statement the connection keeps. diesel's
/// `sql_query` marks its statement unsafe to cache, so PostgreSQL parses,
/// analyses and plans it on every call; a `Prepared` is parsed once per
/// connection and planned like any prepared statement (generic plans once
/// they prove as good). The text is `'static`: one statement per call site,
/// never text built from input, so what a connection keeps stays bounded.
///
/// Parameters are `$1`, `$2`, … in the order they are bound, each written
/// once (bind a value twice to use it twice): the placeholders are written
/// back where the text has them. Every `$` followed by digits is one, so the
/// text has none inside string literals, dollar quotes or comments. Name the
/// columns a statement returns, never `*`: a prepared statement whose result
/// columns change (a migration adding one while replicas serve) fails until
/// its connection closes.
pub struct Prepared<'f> {
    sql: &'static str,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send + 'f>>,
}

impl<'f> Prepared<'f> {
    pub fn new(sql: &'static str) -> Self {
        Self {
            sql,
            binds: Vec::new(),
        }
    }

    /// Binds the next parameter.
    pub fn bind<ST, V>(mut self, value: V) -> Self
    where
        Pg: HasSqlType<ST>,
        V: ToSql<ST, Pg> + Send + 'f,
        ST: Send + 'f,
    {
        self.binds.push(Box::new(Bound {
            value,
            sql_type: PhantomData::<ST>,
        }));
        self
    }
}

struct Bound<ST, V> {
    value: V,
    sql_type: PhantomData<ST>,
}

impl<ST, V> QueryFragment<Pg> for Bound<ST, V>
where
    Pg: HasSqlType<ST>,
    V: ToSql<ST, Pg>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        pass.push_bind_param(&self.value)
    }
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut rest = self.sql;
        let mut binds = self.binds.iter();
        let mut n = 0usize;
        while let Some(at) = rest.find('$') {
            let digits = rest[at + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - at - 1, |end| end);
            if digits == 0 {
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
            n += 1;
            let numbered = rest[at + 1..at + 1 + digits].parse::<usize>().ok();
            let bind = binds.next();
            let (Some(bind), Some(true)) = (bind, numbered.map(|k| k == n)) else {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!(
                        "parameter {n} of a prepared statement: written out of order or not bound"
                    )
                    .into(),
                ));
            };
            out.push_sql(&rest[..at]);
            bind.walk_ast(out.reborrow())?;
            rest = &rest[at + 1 + digits..];
        }
        if binds.next().is_some() {
            return Err(diesel::result::Error::QueryBuilderError(
                "a prepared statement has more values than parameters".into(),
            ));
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    // Cached by its text (and its parameters' types), not by a type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for Prepared<'_> {}

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
    use diesel::sql_types::{BigInt, Text};

    use super::Prepared;

    fn rendered(query: &Prepared<'_>) -> Result<String, String> {
        use std::fmt::Write;
        let mut out = String::new();
        write!(out, "{}", diesel::debug_query::<diesel::pg::Pg, _>(query))
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn prepared_statements_keep_their_text_and_bind_in_order() {
        let query = Prepared::new("SELECT $1::text, '$' || $2, price FROM t WHERE a = $3")
            .bind::<Text, _>("a")
            .bind::<Text, _>("b")
            .bind::<BigInt, _>(3_i64);
        let text = rendered(&query).expect("renders");
        assert!(
            text.starts_with(
                "SELECT $1::text, '$' || $2, price FROM t WHERE a = $3 -- binds: [\"a\", \"b\", 3]"
            ),
            "{text}"
        );
    }

    #[test]
    fn prepared_statements_count_past_nine_parameters() {
        let mut query = Prepared::new("SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM t");
        for n in 1..=11_i64 {
            query = query.bind::<BigInt, _>(n);
        }
        let text = rendered(&query).expect("renders");
        assert!(
            text.starts_with(
                "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM t -- binds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]"
            ),
            "{text}"
        );
        let skipped = Prepared::new("SELECT $1, $3")
            .bind::<Text, _>("a")
            .bind::<Text, _>("b");
        assert!(rendered(&skipped).is_err());
    }

    #[test]
    fn prepared_statements_refuse_parameters_out_of_order_or_unbound() {
        let swapped = Prepared::new("SELECT $2, $1")
            .bind::<Text, _>("a")
            .bind::<Text, _>("b");
        assert!(rendered(&swapped).is_err());
        let unbound = Prepared::new("SELECT $1, $2").bind::<Text, _>("a");
        assert!(rendered(&unbound).is_err());
        let extra = Prepared::new("SELECT $1")
            .bind::<Text, _>("a")
            .bind::<Text, _>("b");
        assert!(rendered(&extra).is_err());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
