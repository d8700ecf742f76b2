#![allow(clippy::expect_used, reason = "test helpers fail loudly")]
//! A PostgreSQL cluster of a test's own, to stop and start again under traffic
//! (restart tests), like [`crate::RedisServer`] for Redis. It is a real server
//! from the distribution's packages (`make test` installs them), run as the
//! unprivileged `reelstack-pg` user when the tests run as root, as the local
//! stack does.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

/// The OS user the cluster runs as when the tests run as root.
const PG_USER_OS: &str = "reelstack-pg";

pub struct PgServer {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

fn bin_dir() -> anyhow::Result<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL server binaries not found under /usr/lib/postgresql")?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no pg_ctl under /usr/lib/postgresql"))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PgServer {
    /// Creates a cluster in a temporary folder and starts it on a free port.
    pub fn start() -> anyhow::Result<Self> {
        let bin = bin_dir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("reelstack-pg-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir)?;
        let server = Self { port, dir, bin };
        if is_root() {
            let status = Command::new("chown")
                .arg(PG_USER_OS)
                .arg(&server.dir)
                .status()
                .context("chown of the cluster folder")?;
            anyhow::ensure!(
                status.success(),
                "chown {PG_USER_OS} failed (the local stack creates that user: `make infra`)"
            );
        }
        server.run(
            "initdb",
            &[
                "-D",
                &server.data().display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-locale",
                "--encoding=UTF8",
            ],
        )?;
        server.start_again()?;
        Ok(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn run(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let program = self.bin.join(tool);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", PG_USER_OS, "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {tool}"))?;
        anyhow::ensure!(
            output.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }

    /// Starts the server (again) on the same port and waits until it accepts.
    pub fn start_again(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-l",
                &self.dir.join("server.log").display().to_string(),
                "-w",
                "-t",
                "30",
                "-o",
                &options,
                "start",
            ],
        )
    }

    /// Stops the server at once, as a crash or a failover would look to clients
    /// (open connections are cut).
    pub fn stop(&self) -> anyhow::Result<()> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data().display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates `name` and applies `migrations` to it; returns its URL.
    pub fn migrated_database(
        &self,
        name: &str,
        migrations: EmbeddedMigrations,
    ) -> anyhow::Result<String> {
        let mut admin = PgConnection::establish(&self.url("postgres"))?;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut admin)?;
        let url = self.url(name);
        PgConnection::establish(&url)?
            .run_pending_migrations(migrations)
            .map_err(|e| anyhow::anyhow!("migrating {name}: {e}"))?;
        Ok(url)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What clients saw while [`PgServer::restart_under_traffic`] ran.
#[derive(Debug, Default)]
pub struct RestartReport {
    /// Every answer: (milliseconds since PostgreSQL was back, negative before;
    /// status; whether it carried `Retry-After`).
    pub answers: Vec<(i64, u16, bool)>,
}

impl RestartReport {
    /// Answers that were neither 200 nor a 503 with `Retry-After`.
    pub fn unexpected(&self) -> Vec<&(i64, u16, bool)> {
        self.answers
            .iter()
            .filter(|(_, status, retry)| !(*status == 200 || (*status == 503 && *retry)))
            .collect()
    }

    /// How long after PostgreSQL was back the last non-200 answer came (0 when
    /// none came after it).
    pub fn recovered_after_ms(&self) -> i64 {
        self.answers
            .iter()
            .filter(|(at, status, _)| *at >= 0 && *status != 200)
            .map(|(at, _, _)| *at)
            .max()
            .unwrap_or(0)
    }

    /// Answers while PostgreSQL was down.
    pub fn during_outage(&self) -> usize {
        self.answers.iter().filter(|(at, _, _)| *at < 0).count()
    }
}

impl PgServer {
    /// What every service keeps across a PostgreSQL restart: `probe` (a request
    /// that reads the database) answers 200; while PostgreSQL is stopped for 5 s
    /// it answers only 503 with `Retry-After` (never 500); it answers 200 again
    /// within 5 s of PostgreSQL being back, without a restart of the service.
    pub async fn assert_a_restart_is_503_then_recovers<F, Fut>(&self, probe: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = reqwest::Response>,
    {
        use std::time::Duration;
        assert_eq!(probe().await.status(), 200, "before the restart");
        let report = self
            .restart_under_traffic(Duration::from_secs(5), Duration::from_secs(8), &probe)
            .await;
        assert!(
            report.during_outage() > 0,
            "traffic ran while PostgreSQL was down"
        );
        assert!(report.unexpected().is_empty(), "{:?}", report.unexpected());
        assert!(
            report.recovered_after_ms() <= 5_000,
            "still failing {} ms after PostgreSQL was back",
            report.recovered_after_ms()
        );
        assert_eq!(probe().await.status(), 200, "after the restart");
    }

    /// Sends `request` every 50 ms while PostgreSQL is stopped for `down`, started
    /// again, and for `after` more; returns what came back.
    pub async fn restart_under_traffic<F, Fut>(
        &self,
        down: std::time::Duration,
        after: std::time::Duration,
        request: F,
    ) -> RestartReport
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = reqwest::Response>,
    {
        use std::time::{Duration, Instant};
        let started = Instant::now();
        let mut report = RestartReport::default();
        let mut back: Option<Instant> = None;
        self.stop().expect("PostgreSQL stops");
        let stopped = Instant::now();
        loop {
            if back.is_none() && stopped.elapsed() >= down {
                self.start_again().expect("PostgreSQL starts again");
                back = Some(Instant::now());
            }
            if back.is_some_and(|b| b.elapsed() >= after) {
                break;
            }
            let resp = request().await;
            let at = match back {
                Some(b) => i64::try_from(b.elapsed().as_millis()).unwrap_or(i64::MAX),
                None => -1,
            };
            report.answers.push((
                at,
                resp.status().as_u16(),
                resp.headers().contains_key("retry-after"),
            ));
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(started.elapsed() < down + after + Duration::from_secs(60));
        }
        report
    }
}
