//! `clerk-sim`: the Clerk fake as a process, for `make run` and the benchmarks.
//! Settings: `CLERK_SIM_ADDR` (127.0.0.1:8091), `CLERK_SIM_SECRET_KEY`,
//! `CLERK_SIM_WEBHOOK_SECRET` (`whsec_…`; random when unset).

use testkit::clerk_sim::{ClerkSim, ClerkSimOptions};

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::var("CLERK_SIM_ADDR").unwrap_or_else(|_| "127.0.0.1:8091".to_owned());
    let sim = ClerkSim::start_on(
        &addr,
        ClerkSimOptions {
            issuer: None,
            secret_key: std::env::var("CLERK_SIM_SECRET_KEY").ok(),
            webhook_secret: std::env::var("CLERK_SIM_WEBHOOK_SECRET").ok(),
        },
    )?;
    println!(
        "clerk-sim listening on {} (issuer {}, JWKS {})",
        sim.url,
        sim.issuer(),
        sim.jwks_url
    );
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
