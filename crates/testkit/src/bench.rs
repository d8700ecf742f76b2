//! What the benchmark binaries (`live-bench`, `like-storm`) share: settings
//! from the environment, users at clerk-sim, resident memory and percentiles.

use anyhow::Context;
use serde_json::{json, Value};

/// `name` from the environment, or `default`.
pub fn setting(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// A new user at clerk-sim (`clerk`, its base URL) and a session token of theirs
/// valid for an hour.
pub async fn clerk_token(http: &reqwest::Client, clerk: &str, n: usize) -> anyhow::Result<String> {
    let user: Value = http
        .post(format!("{clerk}/__sim/users"))
        .json(&json!({"firstName": "Bench", "lastName": format!("User {n}"), "email": format!("bench-{n}-{}@bench.example", uuid::Uuid::now_v7().simple())}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let session: Value = http
        .post(format!("{clerk}/__sim/sessions"))
        .json(&json!({"userId": user["id"], "ttlSecs": 3600}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    session["token"]
        .as_str()
        .map(str::to_owned)
        .context("clerk-sim gave no token")
}

/// The summed resident memory of `pids`, in KiB (processes gone count 0).
pub fn rss_kib(pids: &[String]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

/// The `q` quantile (0..=1) of sorted values; 0 when there are none.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}
