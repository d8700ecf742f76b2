//! `auth [serve]` runs the service; `auth migrate` applies migrations (the
//! Kubernetes Job); `auth keys rotate` adds a signing key; `auth openapi` prints
//! the OpenAPI document; `auth hash-bench [rounds]` times one Argon2id hash.

use anyhow::Context;
use auth::config::Settings;
use auth::Application;
use secrecy::ExposeSecret;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if args == ["openapi"] {
        println!("{}", auth::openapi::document_json()?);
        return Ok(());
    }
    if args.first() == Some(&"hash-bench") {
        let rounds = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(50);
        let (reused, fresh) = auth::password::bench_single_hash(19_456, 2, 1, rounds)?;
        println!("{{\"rounds\":{rounds},\"reusedMemoryMs\":{reused:.3},\"freshAllocationMs\":{fresh:.3}}}");
        return Ok(());
    }
    let settings = Settings::load().context("loading configuration")?;
    let _telemetry = common::telemetry::init(
        auth::SERVICE,
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
                common::db::migrate_url(&url, auth::db::MIGRATIONS)
            })
            .await??;
            tracing::info!(?applied, "migrations applied");
        }
        ["keys", "rotate"] => {
            let db = common::db::Db::from_settings(&settings.common);
            let ttl = settings.auth.auth_access_token_ttl_secs;
            let kid = db
                .run(move |conn| auth::keys::rotate(conn, ttl))
                .await
                .map_err(|e| anyhow::anyhow!("rotation failed: {e}"))?;
            tracing::info!(%kid, "new signing key active; previous keys stay published until their tokens expire");
        }
        other => anyhow::bail!(
            "unknown command {other:?}; expected serve, migrate, keys rotate or openapi"
        ),
    }
    Ok(())
}
