//! auth's own subcommands: `auth keys rotate` and `auth hash-bench [rounds]`.

use clap::Subcommand;
use common::runner::{Command, Lazy};

use crate::Auth;

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Signing keys
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Time one Argon2id hash (19 MiB, t=2, p=1), reusing and allocating memory
    HashBench {
        /// How many hashes to time
        #[arg(default_value_t = 50)]
        rounds: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Add a new signing key; the previous ones stay published until their tokens
    /// have expired, and running replicas pick the new one up within a minute
    Rotate,
}

impl Command<Auth> for Commands {
    async fn run(self, settings: Lazy<Auth>) -> anyhow::Result<()> {
        match self {
            Commands::Keys {
                action: KeysAction::Rotate,
            } => {
                let settings = settings.load()?;
                let db = common::db::Db::from_settings(&settings.common);
                let ttl = settings.service.auth_access_token_ttl_secs;
                let kid = db
                    .run(move |conn| crate::keys::rotate(conn, ttl))
                    .await
                    .map_err(|e| anyhow::anyhow!("rotation failed: {e}"))?;
                tracing::info!(%kid, "new signing key active; previous keys stay published until their tokens expire");
            }
            Commands::HashBench { rounds } => {
                let (reused, fresh) = crate::password::bench_single_hash(19_456, 2, 1, rounds)?;
                println!("{{\"rounds\":{rounds},\"reusedMemoryMs\":{reused:.3},\"freshAllocationMs\":{fresh:.3}}}");
            }
        }
        Ok(())
    }
}
