//! One command line for every service binary: `serve` (the default), `migrate`,
//! `openapi`, `health`, and the service's own subcommands. Settings and telemetry
//! are set up here, once; a service's `main.rs` is `common::runner::main::<S>()`.

use std::future::Future;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgMatches, FromArgMatches, Subcommand};
use diesel_migrations::EmbeddedMigrations;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::openapi::OpenApi;

use crate::config::{self, LogFormat, Settings};
use crate::startup::App;

/// A Reelstack service, as the runner and the tests start it.
pub trait Service: Sized + 'static {
    /// The binary's name, and the `service` of logs, health and metrics.
    const NAME: &'static str;
    const DEFAULT_PORT: u16;
    /// The service's own settings, beside [`config::CommonSettings`].
    type Config: DeserializeOwned;
    /// The handlers' state ([`App::state`] hands it to the tests).
    type State: Send + Sync + 'static;
    /// The service's own subcommands ([`NoCommands`] when it has none).
    type Commands: Command<Self>;

    const MIGRATIONS: EmbeddedMigrations;

    /// The finished OpenAPI document (see [`crate::openapi::finish`]).
    fn openapi() -> OpenApi;

    /// Connects, builds the state and binds the listeners.
    fn build(
        settings: Settings<Self::Config>,
    ) -> impl Future<Output = anyhow::Result<App<Self::State>>>;

    /// Settings from an explicit environment, with the service's default port.
    fn settings_from(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings<Self::Config>> {
        Settings::load_from(Self::DEFAULT_PORT, vars)
    }
}

/// A service's own subcommands.
pub trait Command<S: Service>: Subcommand {
    /// Runs one; `settings` loads the service's settings when the command needs
    /// them (some, like a benchmark, need none).
    fn run(self, settings: Lazy<S>) -> impl Future<Output = anyhow::Result<()>>;
}

/// The settings of a command, loaded on first use.
pub struct Lazy<S: Service> {
    _service: std::marker::PhantomData<S>,
}

impl<S: Service> Lazy<S> {
    pub fn load(&self) -> anyhow::Result<Settings<S::Config>> {
        Settings::load(S::DEFAULT_PORT)
    }
}

/// For services without subcommands of their own.
#[derive(Debug, Clone, Copy)]
pub enum NoCommands {}

impl FromArgMatches for NoCommands {
    fn from_arg_matches(_: &ArgMatches) -> Result<Self, clap::Error> {
        Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))
    }
    fn update_from_arg_matches(&mut self, _: &ArgMatches) -> Result<(), clap::Error> {
        match *self {}
    }
}

impl Subcommand for NoCommands {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        cmd
    }
    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        cmd
    }
    fn has_subcommand(_: &str) -> bool {
        false
    }
}

impl<S: Service> Command<S> for NoCommands {
    async fn run(self, _: Lazy<S>) -> anyhow::Result<()> {
        match self {}
    }
}

/// What every service binary can do.
#[derive(Debug, Subcommand)]
enum Shared {
    /// Serve HTTP until SIGTERM or Ctrl-C (the default)
    Serve,
    /// Apply pending database migrations, then exit (the Kubernetes migration Job)
    Migrate,
    /// Print the OpenAPI document
    Openapi,
    /// Exit 0 when this service's own /health/ready answers 200 (container HEALTHCHECK)
    Health {
        /// Seconds to wait for the answer
        #[arg(long, default_value_t = 2)]
        timeout: u64,
    },
}

enum Chosen<C> {
    Shared(Shared),
    Own(C),
}

fn parse<S: Service>() -> Result<Chosen<S::Commands>, clap::Error> {
    let command = clap::Command::new(S::NAME)
        .about(format!("Reelstack {}", S::NAME))
        .version(env!("CARGO_PKG_VERSION"));
    let command = S::Commands::augment_subcommands(Shared::augment_subcommands(command));
    let matches = command.try_get_matches()?;
    match matches.subcommand_name() {
        None => Ok(Chosen::Shared(Shared::Serve)),
        Some(name) if Shared::has_subcommand(name) => {
            Shared::from_arg_matches(&matches).map(Chosen::Shared)
        }
        Some(_) => S::Commands::from_arg_matches(&matches).map(Chosen::Own),
    }
}

/// What telemetry needs, read before anything else (no database URL required).
#[derive(Deserialize)]
struct TelemetrySettings {
    #[serde(default)]
    log_format: LogFormat,
    #[serde(default)]
    otel_exporter_otlp_endpoint: Option<String>,
}

/// Where this process's own service listens, for `health`.
#[derive(Deserialize)]
struct ListenSettings {
    #[serde(default)]
    host: Option<String>,
    port: u16,
}

/// The whole `main` of a service binary.
pub fn main<S: Service>() -> ExitCode {
    let chosen = match parse::<S>() {
        Ok(chosen) => chosen,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if let Chosen::Shared(Shared::Openapi) = chosen {
        return match crate::openapi::committed_json(&S::openapi()) {
            Ok(json) => {
                print!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let telemetry = match config::load::<TelemetrySettings>(&[]).and_then(|t| {
            crate::telemetry::init(
                S::NAME,
                t.log_format,
                t.otel_exporter_otlp_endpoint.as_deref(),
            )
        }) {
            Ok(guard) => guard,
            Err(e) => {
                eprintln!("{}: {e:#}", S::NAME);
                return ExitCode::FAILURE;
            }
        };
        let outcome = run::<S>(chosen).await;
        let code = match outcome {
            Ok(code) => code,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "{} failed", S::NAME);
                eprintln!("{}: {e:#}", S::NAME);
                ExitCode::FAILURE
            }
        };
        drop(telemetry);
        code
    })
}

async fn run<S: Service>(chosen: Chosen<S::Commands>) -> anyhow::Result<ExitCode> {
    match chosen {
        Chosen::Shared(Shared::Serve) => {
            let settings = Settings::<S::Config>::load(S::DEFAULT_PORT)?;
            let app = S::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Chosen::Shared(Shared::Migrate) => {
            let settings = Settings::<S::Config>::load(S::DEFAULT_PORT)?;
            let url = settings.common.database_url.expose_secret().to_owned();
            let migrations = S::MIGRATIONS;
            let applied =
                tokio::task::spawn_blocking(move || crate::db::migrate_url(&url, migrations))
                    .await??;
            tracing::info!(?applied, "migrations applied");
        }
        Chosen::Shared(Shared::Health { timeout }) => {
            return Ok(if health::<S>(Duration::from_secs(timeout)).await? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Chosen::Shared(Shared::Openapi) => {}
        Chosen::Own(command) => {
            command
                .run(Lazy {
                    _service: std::marker::PhantomData,
                })
                .await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks this process's own service (`HOST`, `PORT`) whether it is ready.
async fn health<S: Service>(timeout: Duration) -> anyhow::Result<bool> {
    let port = S::DEFAULT_PORT.to_string();
    let listen: ListenSettings = config::load(&[("port", port.as_str())])?;
    let host = match listen.host.as_deref().map(str::trim) {
        None | Some("" | "0.0.0.0") => "127.0.0.1".to_owned(),
        Some("::") => "[::1]".to_owned(),
        Some(h) if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        Some(h) => h.to_owned(),
    };
    let url = format!("http://{host}:{}/health/ready", listen.port);
    let client = reqwest::Client::builder().timeout(timeout).build()?;
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => Ok(true),
        Ok(response) => {
            eprintln!("{url}: {}", response.status());
            Ok(false)
        }
        Err(e) => {
            eprintln!("{url}: {}", e.without_url());
            Ok(false)
        }
    }
}
