//! social's own subcommand: `social recount`.

use clap::Subcommand;
use common::runner::{Command, Lazy};

use crate::Social;

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Check every like, comment, reply, follower, following and video counter
    /// against the rows it counts, fix the ones that drifted, and print how many
    /// were checked and fixed (JSON); safe while the service runs
    Recount,
}

impl Command<Social> for Commands {
    async fn run(self, settings: Lazy<Social>) -> anyhow::Result<()> {
        match self {
            Commands::Recount => {
                let settings = settings.load()?;
                let db = common::db::Db::from_settings(&settings.common);
                let report = db
                    .run(|conn| Ok(crate::db::recount::recount(conn)?))
                    .await
                    .map_err(|e| anyhow::anyhow!("recount failed: {e}"))?;
                println!(
                    "{}",
                    serde_json::json!({
                        "checked": report.checked(),
                        "fixed": report.fixed(),
                        "counters": report,
                    })
                );
            }
        }
        Ok(())
    }
}
