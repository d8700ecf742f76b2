//! Processing of uploaded videos: `ffprobe` checks the file is a video no longer
//! than `VIDEO_MAX_SECONDS`; `ffmpeg` extracts a poster JPEG and an HLS rendition
//! (H.264 and AAC, at most 720 pixels high, segments of about 4 s). Jobs come
//! from PostgreSQL (`db::jobs`), a bounded number at once per replica; an
//! attempt that fails for a passing reason is retried with a backoff, one that
//! shows the file is unusable fails the video with a reason its owner reads.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::db::Db;
use common::retry::Backoff;
use common::storage::{self, Storage};
use serde::Deserialize;
use tokio::process::Command;
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use crate::config::SocialSettings;
use crate::db;
use crate::db::jobs::Claimed;

/// Where an upload's objects are kept.
pub mod keys {
    use uuid::Uuid;

    pub fn folder(id: Uuid) -> String {
        format!("videos/{id}")
    }
    pub fn original(id: Uuid) -> String {
        format!("videos/{id}/original")
    }
    pub fn poster(id: Uuid) -> String {
        format!("videos/{id}/poster.jpg")
    }
    pub fn hls(id: Uuid, file: &str) -> String {
        format!("videos/{id}/hls/{file}")
    }
}

/// The HLS playlist's name; segments are `seg_000.ts`, `seg_001.ts`, ...
pub const PLAYLIST: &str = "index.m3u8";
const MAX_HEIGHT: u32 = 720;
const SEGMENT_SECS: u32 = 4;
/// Waits between attempts of a job: 10 s doubling to 5 minutes.
const RETRY: Backoff = Backoff::new(Duration::from_secs(10), Duration::from_secs(300), 0.2);
/// How often idle replicas look for due jobs (an upload here wakes them at once).
const POLL: Duration = Duration::from_secs(2);

/// Why an attempt did not make the video ready.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The file cannot become a video: the owner is told why; no retry.
    #[error("{0}")]
    Unusable(String),
    /// Something that may pass (storage, a crashed tool): retried.
    #[error("{0}")]
    Passing(String),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Passing(format!("{e:#}"))
    }
}

/// What `ffprobe` found in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub duration_seconds: f64,
    pub width: u32,
    pub height: u32,
    pub has_audio: bool,
    pub content_type: &'static str,
}

#[derive(Deserialize)]
struct ProbeOutput {
    #[serde(default)]
    streams: Vec<ProbeStream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeStream {
    codec_type: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    /// Attached pictures (cover art) are video streams too.
    #[serde(default)]
    disposition: std::collections::HashMap<String, i64>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    format_name: Option<String>,
    duration: Option<String>,
}

/// The container names `ffprobe` reports, as HTTP types; anything else is not a
/// video this service serves.
fn content_type_of(format_name: &str) -> Option<&'static str> {
    let names: Vec<&str> = format_name.split(',').collect();
    if names.contains(&"mp4") || names.contains(&"mov") {
        Some(if names.contains(&"mp4") {
            "video/mp4"
        } else {
            "video/quicktime"
        })
    } else if names.contains(&"webm") || names.contains(&"matroska") {
        Some(if names.contains(&"webm") {
            "video/webm"
        } else {
            "video/x-matroska"
        })
    } else if names.contains(&"mpegts") {
        Some("video/mp2t")
    } else if names.contains(&"avi") {
        Some("video/x-msvideo")
    } else {
        None
    }
}

/// Reads `ffprobe -print_format json` output; `Unusable` for what is no video.
pub fn parse_probe(json: &str, max_seconds: u64) -> Result<Probe, Failure> {
    let not_video = || Failure::Unusable("the file is not a video".to_owned());
    let out: ProbeOutput = serde_json::from_str(json).map_err(|_| not_video())?;
    let format = out.format.ok_or_else(not_video)?;
    let content_type = format
        .format_name
        .as_deref()
        .and_then(content_type_of)
        .ok_or_else(not_video)?;
    let video = out
        .streams
        .iter()
        .find(|s| {
            s.codec_type.as_deref() == Some("video")
                && s.disposition.get("attached_pic").copied().unwrap_or(0) == 0
        })
        .ok_or_else(not_video)?;
    let (Some(width), Some(height)) = (video.width, video.height) else {
        return Err(not_video());
    };
    if width == 0 || height == 0 {
        return Err(not_video());
    }
    let duration_seconds: f64 = format
        .duration
        .as_deref()
        .and_then(|d| d.parse().ok())
        .filter(|d: &f64| d.is_finite() && *d > 0.0)
        .ok_or_else(|| Failure::Unusable("the video has no duration".to_owned()))?;
    if duration_seconds > max_seconds as f64 {
        return Err(Failure::Unusable(format!(
            "the video is {duration_seconds:.1} seconds long; at most {max_seconds} are accepted"
        )));
    }
    Ok(Probe {
        duration_seconds,
        width,
        height,
        has_audio: out
            .streams
            .iter()
            .any(|s| s.codec_type.as_deref() == Some("audio")),
        content_type,
    })
}

/// Processes uploads on this replica.
pub struct Processor {
    db: Db,
    storage: Storage,
    settings: SocialSettings,
    permits: Arc<Semaphore>,
    wake: Notify,
}

impl Processor {
    pub fn new(db: Db, storage: Storage, settings: SocialSettings) -> Self {
        let permits = Arc::new(Semaphore::new(settings.video_processing_concurrency.max(1)));
        Self {
            db,
            storage,
            settings,
            permits,
            wake: Notify::new(),
        }
    }

    /// A new job is waiting: look now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Claims and runs due jobs for the life of the process (unless this
    /// replica processes none).
    pub fn spawn(self: &Arc<Self>, tasks: &mut common::tasks::Tasks) {
        if self.settings.video_processing_concurrency == 0 {
            tracing::info!(
                "VIDEO_PROCESSING_CONCURRENCY=0: uploads are processed by other replicas"
            );
            return;
        }
        let processor = self.clone();
        tasks.spawn("video-processing", move || {
            let processor = processor.clone();
            async move { processor.run().await }
        });
    }

    async fn run(self: Arc<Self>) -> anyhow::Result<()> {
        let lease = i32::try_from(lease_secs(self.settings.video_processing_timeout_secs))
            .unwrap_or(i32::MAX);
        loop {
            let permit = self.permits.clone().acquire_owned().await?;
            let claimed = self
                .db
                .run(move |conn| Ok(db::jobs::claim(conn, lease)?))
                .await;
            match claimed {
                Ok(Some(job)) => {
                    let processor = self.clone();
                    tokio::spawn(async move {
                        processor.attempt(job).await;
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "no processing job claimed; trying again");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    async fn attempt(&self, job: Claimed) {
        let id = job.video_id;
        let started = std::time::Instant::now();
        let timeout = Duration::from_secs(self.settings.video_processing_timeout_secs.max(1));
        let outcome = match tokio::time::timeout(timeout, self.process(id)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::Passing(format!(
                "processing took longer than {} s",
                timeout.as_secs()
            ))),
        };
        let recorded = match outcome {
            Ok(media) => {
                tracing::info!(video = %id, secs = started.elapsed().as_secs_f64(), "video processed");
                self.db
                    .run(move |conn| db::jobs::finish_ready(conn, id, &media))
                    .await
                    .inspect(|still_there| {
                        if !still_there {
                            tracing::info!(video = %id, "video deleted while processing");
                        }
                    })
            }
            Err(Failure::Unusable(reason)) => {
                tracing::info!(video = %id, %reason, "upload is not a usable video");
                self.db
                    .run(move |conn| Ok(db::jobs::fail(conn, id, &reason)?))
                    .await
            }
            Err(Failure::Passing(error))
                if job.attempt >= self.settings.video_processing_attempts =>
            {
                tracing::warn!(video = %id, %error, attempt = job.attempt, "video processing failed for good");
                self.db
                    .run(move |conn| {
                        Ok(db::jobs::fail(
                            conn,
                            id,
                            "the video could not be processed; upload it again",
                        )?)
                    })
                    .await
            }
            Err(Failure::Passing(error)) => {
                let delay = RETRY.delay(u32::try_from(job.attempt).unwrap_or(1));
                tracing::warn!(video = %id, %error, attempt = job.attempt, retry_in = ?delay, "video processing failed; retrying");
                let secs = i32::try_from(delay.as_secs()).unwrap_or(300).max(1);
                self.db
                    .run(move |conn| {
                        db::jobs::retry_later(conn, id, &error, secs)?;
                        Ok(true)
                    })
                    .await
            }
        };
        match recorded {
            // A deleted video leaves nothing behind.
            Ok(false) => {
                if let Err(e) = self.storage.delete_prefix(&keys::folder(id)).await {
                    tracing::warn!(video = %id, error = %e, "objects of a deleted video left behind");
                }
            }
            Ok(true) => {}
            // The lease runs out and another attempt records it.
            Err(e) => tracing::warn!(video = %id, error = %e, "processing outcome not recorded"),
        }
    }

    /// One attempt: probe, poster, HLS, all stored; the video's media on success.
    async fn process(&self, id: Uuid) -> Result<db::models::Media, Failure> {
        let found = self
            .db
            .run(move |conn| Ok(db::videos::find(conn, id)?))
            .await
            .map_err(|e| Failure::Passing(e.to_string()))?;
        let Some(video) = found else {
            return Err(Failure::Passing("the video is gone".to_owned()));
        };
        let work = WorkDir::new(self.settings.video_work_dir.as_deref(), id).await?;
        let input = work.path.join("original");
        storage::download_to(&self.storage, &keys::original(id), &input).await?;
        let probe = self.probe(&input).await?;
        let poster = work.path.join("poster.jpg");
        self.poster(&input, &probe, &poster).await?;
        let hls = work.path.join("hls");
        tokio::fs::create_dir_all(&hls)
            .await
            .map_err(|e| Failure::Passing(format!("work folder: {e}")))?;
        self.hls(&input, &probe, &hls).await?;
        storage::upload_file(&self.storage, &keys::poster(id), &poster).await?;
        let mut files = tokio::fs::read_dir(&hls)
            .await
            .map_err(|e| Failure::Passing(format!("work folder: {e}")))?;
        while let Some(entry) = files
            .next_entry()
            .await
            .map_err(|e| Failure::Passing(format!("work folder: {e}")))?
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            storage::upload_file(&self.storage, &keys::hls(id, &name), &entry.path()).await?;
        }
        let mut media = video.media();
        media.duration_seconds = Some((probe.duration_seconds * 1000.0).round() / 1000.0);
        media.width = i32::try_from(probe.width).ok();
        media.height = i32::try_from(probe.height).ok();
        media.content_type = Some(probe.content_type.to_owned());
        media.poster = true;
        media.hls = true;
        Ok(media)
    }

    async fn probe(&self, input: &Path) -> Result<Probe, Failure> {
        probe(&self.settings, input).await
    }

    async fn poster(&self, input: &Path, probe: &Probe, out: &Path) -> Result<(), Failure> {
        ffmpeg(poster_command(&self.settings, input, probe, out), "poster").await
    }

    async fn hls(&self, input: &Path, probe: &Probe, dir: &Path) -> Result<(), Failure> {
        ffmpeg(hls_command(&self.settings, input, probe, dir), "HLS").await
    }
}

/// Probes `input`: what it is, or `Unusable` when it is no video this service takes.
pub async fn probe(settings: &SocialSettings, input: &Path) -> Result<Probe, Failure> {
    let out = run(probe_command(settings, input), "ffprobe").await?;
    // ffprobe exits non-zero on what it cannot read: not a video.
    if !out.status.success() {
        return Err(Failure::Unusable("the file is not a video".to_owned()));
    }
    parse_probe(
        &String::from_utf8_lossy(&out.stdout),
        settings.video_max_seconds,
    )
}

/// The commands of one attempt, in the order it runs them; `social
/// media-commands` prints them so the benchmark can time them alone.
pub fn probe_command(settings: &SocialSettings, input: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(&settings.ffprobe_path);
    cmd.args([
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ])
    .arg(input);
    cmd
}

/// The poster: a frame a second in (or halfway, for shorter clips).
pub fn poster_command(
    settings: &SocialSettings,
    input: &Path,
    probe: &Probe,
    out: &Path,
) -> std::process::Command {
    let at = (probe.duration_seconds / 2.0).min(1.0);
    let mut cmd = std::process::Command::new(&settings.ffmpeg_path);
    cmd.args(["-v", "error", "-y", "-ss", &format!("{at:.3}")])
        .arg("-i")
        .arg(input)
        .args(["-frames:v", "1", "-vf", &scale_filter(), "-q:v", "3"])
        .arg(out);
    cmd
}

/// The HLS rendition: playlist and segments in `dir`.
pub fn hls_command(
    settings: &SocialSettings,
    input: &Path,
    probe: &Probe,
    dir: &Path,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(&settings.ffmpeg_path);
    cmd.args(["-v", "error", "-y", "-i"]).arg(input);
    cmd.args(["-map", "0:v:0"]);
    if probe.has_audio {
        cmd.args(["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k", "-ac", "2"]);
    }
    cmd.args([
        "-vf",
        &scale_filter(),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-force_key_frames",
        &format!("expr:gte(t,n_forced*{SEGMENT_SECS})"),
        "-f",
        "hls",
        "-hls_time",
        &SEGMENT_SECS.to_string(),
        "-hls_playlist_type",
        "vod",
        "-hls_segment_filename",
    ])
    .arg(dir.join("seg_%03d.ts"))
    .arg(dir.join(PLAYLIST));
    cmd
}

/// How long a claimed job is held: its attempt's time limit, and time to record
/// the outcome (a tenth of the limit, at least 10 s). After that a job whose
/// replica stopped is claimed again.
pub fn lease_secs(timeout_secs: u64) -> u64 {
    timeout_secs.saturating_add((timeout_secs / 10).max(10))
}

/// At most 720 pixels high, never upscaled, aspect kept, both sides even (H.264).
fn scale_filter() -> String {
    format!("scale=-2:'trunc(min({MAX_HEIGHT},ih)/2)*2'")
}

async fn run(cmd: std::process::Command, what: &str) -> Result<std::process::Output, Failure> {
    let mut cmd = Command::from(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd.output()
        .await
        .map_err(|e| Failure::Passing(format!("{what} could not be started: {e}")))
}

/// Runs ffmpeg; a failure (a file that probes but does not decode, a crash) is
/// retried, with its last line of error kept on the job.
async fn ffmpeg(cmd: std::process::Command, what: &str) -> Result<(), Failure> {
    let out = run(cmd, "ffmpeg").await?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("").trim().to_owned();
    tracing::info!(step = what, error = %last, "ffmpeg failed");
    Err(Failure::Passing(format!("ffmpeg ({what}) failed: {last}")))
}

/// A scratch folder of one attempt, removed when it ends.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    async fn new(root: Option<&str>, id: Uuid) -> Result<Self, Failure> {
        let root = root.map_or_else(std::env::temp_dir, PathBuf::from);
        let path = root.join(format!("social-{id}-{}", Uuid::now_v7().simple()));
        tokio::fs::create_dir_all(&path)
            .await
            .map_err(|e| Failure::Passing(format!("work folder {}: {e}", path.display())))?;
        Ok(Self { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "work folder not removed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP4: &str = r#"{"streams":[{"codec_type":"video","width":1280,"height":720},{"codec_type":"audio"}],
        "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"2.500000"}}"#;

    #[test]
    fn a_lease_outlasts_the_attempt_it_holds() {
        assert_eq!(lease_secs(600), 660);
        assert_eq!(lease_secs(2), 12);
    }

    #[test]
    fn a_probed_mp4_is_a_video() {
        let probe = parse_probe(MP4, 180).unwrap();
        assert_eq!(
            probe,
            Probe {
                duration_seconds: 2.5,
                width: 1280,
                height: 720,
                has_audio: true,
                content_type: "video/mp4",
            }
        );
    }

    #[test]
    fn what_is_not_a_short_video_is_unusable_with_a_reason() {
        let long = MP4.replace("2.500000", "181.2");
        match parse_probe(&long, 180) {
            Err(Failure::Unusable(reason)) => {
                assert_eq!(
                    reason,
                    "the video is 181.2 seconds long; at most 180 are accepted"
                )
            }
            other => panic!("{other:?}"),
        }
        let image = r#"{"streams":[{"codec_type":"video","width":10,"height":10}],
            "format":{"format_name":"png_pipe","duration":"0.04"}}"#;
        let cover_only = r#"{"streams":[{"codec_type":"audio"},{"codec_type":"video","width":10,"height":10,"disposition":{"attached_pic":1}}],
            "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"3"}}"#;
        for json in [image, cover_only, "{}", "not json"] {
            assert!(
                matches!(parse_probe(json, 180), Err(Failure::Unusable(r)) if r == "the file is not a video"),
                "{json}"
            );
        }
    }
}
