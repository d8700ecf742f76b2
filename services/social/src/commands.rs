//! social's own subcommands: `social recount` and `social media-commands`.

use clap::Subcommand;
use common::runner::{Command, Lazy};

use crate::{processing, Social};

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Check every like, comment, reply, follower, following and video counter
    /// against the rows it counts, fix the ones that drifted, and print how many
    /// were checked and fixed (JSON); safe while the service runs
    Recount,
    /// Print, as a JSON array of argument lists, the ffprobe and ffmpeg commands
    /// that processing runs for FILE with its outputs under WORKDIR (`make
    /// bench` times them alone, beside the pipeline)
    MediaCommands {
        file: std::path::PathBuf,
        workdir: std::path::PathBuf,
    },
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
            Commands::MediaCommands { file, workdir } => {
                let settings = settings.load()?.service;
                let probe = processing::probe(&settings, &file)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                let hls = workdir.join("hls");
                let commands = [
                    processing::probe_command(&settings, &file),
                    processing::poster_command(
                        &settings,
                        &file,
                        &probe,
                        &workdir.join("poster.jpg"),
                    ),
                    processing::hls_command(&settings, &file, &probe, &hls),
                ];
                let argv: Vec<Vec<String>> = commands
                    .iter()
                    .map(|c| {
                        std::iter::once(c.get_program())
                            .chain(c.get_args())
                            .map(|a| a.to_string_lossy().into_owned())
                            .collect()
                    })
                    .collect();
                println!("{}", serde_json::json!({ "hlsDir": hls, "commands": argv }));
            }
        }
        Ok(())
    }
}
