use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use common::runner::Service;

use anyhow::Context;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

/// The maintenance database tests create their databases from:
/// `TEST_DATABASE_URL`, else `DATABASE_URL`, else the local stack's cluster.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".to_owned())
}

fn with_database(url: &str, name: &str) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{url}/{name}"),
    }
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

/// A database of its own for one test, dropped when this value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
    admin: String,
}

impl TestDb {
    /// Clones a fresh database from `tpl_<service>_<hash of migrations_dir>`,
    /// creating and migrating the template the first time (under an advisory
    /// lock, so parallel tests and test binaries agree).
    /// A fresh database for service `S`, from its migrations (`migrations/<name>`).
    pub fn of<S: Service>() -> anyhow::Result<Self> {
        let dir = crate::workspace_root().join("migrations").join(S::NAME);
        Self::create(S::NAME, S::MIGRATIONS, &dir)
    }

    pub fn create(
        service: &str,
        migrations: EmbeddedMigrations,
        migrations_dir: &Path,
    ) -> anyhow::Result<Self> {
        let admin = admin_url();
        let template = format!("tpl_{service}_{}", hash_dir(migrations_dir)?);
        let name = format!("test_{service}_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::establish(&admin)
            .with_context(|| "cannot reach the test PostgreSQL (is `make infra` running?)")?;
        diesel::sql_query("SELECT pg_advisory_lock(727274)").execute(&mut conn)?;
        let result = (|| -> anyhow::Result<()> {
            let exists = diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
                .bind::<Text, _>(&template)
                .load::<Name>(&mut conn)?;
            if exists.is_empty() {
                diesel::sql_query(format!("CREATE DATABASE \"{template}\"")).execute(&mut conn)?;
                let mut tpl = PgConnection::establish(&with_database(&admin, &template))?;
                tpl.run_pending_migrations(migrations)
                    .map_err(|e| anyhow::anyhow!("migrating the template failed: {e}"))?;
            }
            diesel::sql_query(format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
            ))
            .execute(&mut conn)?;
            Ok(())
        })();
        diesel::sql_query("SELECT pg_advisory_unlock(727274)").execute(&mut conn)?;
        result?;
        Ok(Self {
            url: with_database(&admin, &name),
            name,
            admin,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

fn hash_dir(dir: &Path) -> anyhow::Result<String> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.hash(&mut hasher);
        std::fs::read(&file)?.hash(&mut hasher);
    }
    Ok(format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff))
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
