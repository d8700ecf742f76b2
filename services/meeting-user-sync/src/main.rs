//! `meeting-user-sync [serve]` runs the service; `meeting-user-sync migrate` applies
//! migrations (the Kubernetes Job); `meeting-user-sync openapi` prints the OpenAPI
//! document.

use anyhow::Context;
use meeting_user_sync::config::Settings;
use meeting_user_sync::Application;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if args == ["openapi"] {
        println!("{}", meeting_user_sync::openapi::document_json()?);
        return Ok(());
    }
    let settings = Settings::load().context("loading configuration")?;
    let _telemetry = common::telemetry::init(
        meeting_user_sync::SERVICE,
        settings.common.log_format,
        settings.common.otel_exporter_otlp_endpoint.as_deref(),
    )?;
    match args.as_slice() {
        [] | ["serve"] => {
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        ["migrate"] => {
            let url = settings.common.database_url.expose_secret().to_owned();
            let applied = tokio::task::spawn_blocking(move || {
                common::db::migrate_url(&url, meeting_user_sync::db::MIGRATIONS)
            })
            .await??;
            tracing::info!(?applied, "migrations applied");
        }
        other => anyhow::bail!("unknown command {other:?}; expected serve, migrate or openapi"),
    }
    Ok(())
}
