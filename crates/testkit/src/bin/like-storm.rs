//! `like-storm`: many users liking a few videos at once through the gateway,
//! then each video's `likeCount` read back. Prints one JSON line.
//!
//! Settings: `LIKE_STORM_GATEWAY` (http://127.0.0.1:8080), `LIKE_STORM_CLERK`
//! (http://127.0.0.1:8091, a clerk-sim, where the users are made),
//! `LIKE_STORM_USERS` (1000), `LIKE_STORM_VIDEOS` (10, each by its own
//! creator) and `LIKE_STORM_CONCURRENCY` (64). Every user likes every video
//! once, in a shuffled order.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use futures_util::{stream, StreamExt};
use rand::seq::SliceRandom;
use serde_json::{json, Value};

use testkit::bench::{clerk_token, percentile, setting};

async fn tokens(
    http: &reqwest::Client,
    clerk: &str,
    range: std::ops::Range<usize>,
) -> anyhow::Result<Vec<String>> {
    stream::iter(range)
        .map(|n| clerk_token(http, clerk, n))
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let gateway = setting("LIKE_STORM_GATEWAY", "http://127.0.0.1:8080");
    let clerk = setting("LIKE_STORM_CLERK", "http://127.0.0.1:8091");
    let users: usize = setting("LIKE_STORM_USERS", "1000").parse()?;
    let videos: usize = setting("LIKE_STORM_VIDEOS", "10").parse()?;
    let concurrency: usize = setting("LIKE_STORM_CONCURRENCY", "64").parse()?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;

    let creators = tokens(&http, &clerk, 0..videos).await?;
    let mut ids = Vec::with_capacity(videos);
    for (n, creator) in creators.iter().enumerate() {
        let video: Value = http
            .post(format!("{gateway}/api/videos"))
            .bearer_auth(creator)
            .json(&json!({
                "caption": format!("Like storm {n} #likestorm"),
                "videoUrl": format!("https://cdn.example.com/like-storm/{n}.mp4"),
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        ids.push(video["id"].as_str().context("video id")?.to_owned());
    }
    let likers = tokens(&http, &clerk, videos..videos + users).await?;
    let mut pairs: Vec<(usize, usize)> = (0..users)
        .flat_map(|u| (0..videos).map(move |v| (u, v)))
        .collect();
    pairs.shuffle(&mut rand::thread_rng());

    let started = Instant::now();
    let outcomes: Vec<(u16, f64)> = stream::iter(pairs)
        .map(|(u, v)| {
            let request = http
                .put(format!("{gateway}/api/videos/{}/like", ids[v]))
                .bearer_auth(&likers[u]);
            async move {
                let sent = Instant::now();
                let status = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        // The body is read so that the connection is reused.
                        let _ = response.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                (status, sent.elapsed().as_secs_f64() * 1000.0)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let secs = started.elapsed().as_secs_f64();

    let mut statuses = BTreeMap::<String, usize>::new();
    for (status, _) in &outcomes {
        *statuses.entry(status.to_string()).or_default() += 1;
    }
    let mut latencies: Vec<f64> = outcomes.iter().map(|(_, ms)| *ms).collect();
    latencies.sort_by(f64::total_cmp);
    let mut counts = Vec::with_capacity(videos);
    for id in &ids {
        let video: Value = http
            .get(format!("{gateway}/api/videos/{id}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        counts.push(video["likeCount"].as_i64().context("likeCount")?);
    }
    let exact = counts.iter().all(|c| *c == users as i64);
    println!(
        "{}",
        json!({
            "likes": outcomes.len(),
            "users": users,
            "videos": videos,
            "concurrency": concurrency,
            "secs": secs,
            "likesPerSec": outcomes.len() as f64 / secs,
            "p50Ms": percentile(&latencies, 0.50),
            "p99Ms": percentile(&latencies, 0.99),
            "statuses": statuses,
            "likeCounts": counts,
            "expectedPerVideo": users,
            "exact": exact,
        })
    );
    Ok(())
}
