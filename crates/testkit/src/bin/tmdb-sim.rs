//! `tmdb-sim`: the TMDB fake as a process, for `make run` and the benchmarks.
//! Settings: `TMDB_SIM_ADDR` (127.0.0.1:8090), `TMDB_SIM_API_KEY`,
//! `TMDB_SIM_READ_TOKEN`, `TMDB_SIM_WORKERS` (2).

use testkit::tmdb_sim::{TmdbSim, DEFAULT_API_KEY, DEFAULT_READ_TOKEN};

fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let addr = setting("TMDB_SIM_ADDR", "127.0.0.1:8090");
    let workers = setting("TMDB_SIM_WORKERS", "2").parse().unwrap_or(2);
    let sim = TmdbSim::start_on(
        &addr,
        &setting("TMDB_SIM_API_KEY", DEFAULT_API_KEY),
        &setting("TMDB_SIM_READ_TOKEN", DEFAULT_READ_TOKEN),
        workers,
    )?;
    println!(
        "tmdb-sim listening on {} (API at {})",
        sim.url, sim.api_base
    );
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
