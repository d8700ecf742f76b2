//! `live-bench`: one meeting, many live sockets spread over several replicas of
//! meeting-user-sync, and chat messages timed from their POST (through the
//! gateway) to their arrival at every socket. Prints one JSON line.
//!
//! Settings: `LIVE_BENCH_GATEWAY` (http://127.0.0.1:8080), `LIVE_BENCH_CLERK`
//! (http://127.0.0.1:8091, a clerk-sim), `LIVE_BENCH_REPLICAS` (comma-separated
//! base URLs of the replicas the sockets connect to directly),
//! `LIVE_BENCH_SOCKETS` (200), `LIVE_BENCH_MESSAGES` (50), `LIVE_BENCH_PIDS`
//! (comma-separated pids whose resident memory is read before and after).

use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{stream, SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use testkit::bench::{clerk_token, percentile, rss_kib, setting};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let gateway = setting("LIVE_BENCH_GATEWAY", "http://127.0.0.1:8080");
    let clerk = setting("LIVE_BENCH_CLERK", "http://127.0.0.1:8091");
    let replicas: Vec<String> = setting("LIVE_BENCH_REPLICAS", "http://127.0.0.1:8084")
        .split(',')
        .map(|r| r.trim().replacen("http://", "ws://", 1))
        .collect();
    let sockets: usize = setting("LIVE_BENCH_SOCKETS", "200").parse()?;
    let messages: usize = setting("LIVE_BENCH_MESSAGES", "50").parse()?;
    let pids: Vec<String> = setting("LIVE_BENCH_PIDS", "")
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let http = reqwest::Client::new();

    let host = clerk_token(&http, &clerk, 0).await?;
    let meeting: Value = http
        .post(format!("{gateway}/api/meetings"))
        .bearer_auth(&host)
        .json(&json!({"title": "Live benchmark"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = meeting["id"].as_str().context("meeting id")?.to_owned();
    let code = meeting["joinCode"].clone();
    let tokens: Vec<String> = stream::iter(1..=sockets)
        .map(|n| {
            let (http, clerk, gateway, code) =
                (http.clone(), clerk.clone(), gateway.clone(), code.clone());
            async move {
                let token = clerk_token(&http, &clerk, n).await?;
                http.post(format!("{gateway}/api/meetings/join"))
                    .bearer_auth(&token)
                    .json(&json!({"joinCode": code}))
                    .send()
                    .await?
                    .error_for_status()?;
                anyhow::Ok(token)
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;

    let rss_before = rss_kib(&pids);
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut readers = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let url = format!("{}/api/meetings/{id}/live", replicas[n % replicas.len()]);
        let mut request = url.into_client_request()?;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        let (mut sink, mut frames) = socket.split();
        match frames.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().contains("ready") => {}
            other => anyhow::bail!("socket {n} not ready: {other:?}"),
        }
        let arrivals = arrivals.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = frames.next().await {
                match frame {
                    Message::Text(text) => {
                        let at = Instant::now();
                        let Ok(event) = serde_json::from_str::<Value>(text.as_str()) else {
                            continue;
                        };
                        if let Some(k) = event["message"]["text"]
                            .as_str()
                            .and_then(|t| t.strip_prefix("bench-"))
                            .and_then(|k| k.parse().ok())
                        {
                            let _ = arrivals.send((k, at));
                        }
                    }
                    Message::Ping(payload) => {
                        let _ = sink.send(Message::Pong(payload)).await;
                    }
                    _ => {}
                }
            }
        }));
    }
    // Let the allocator settle, then read what the idle sockets cost.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = rss_kib(&pids);

    let mut latencies = Vec::with_capacity(sockets * messages);
    for k in 0..messages {
        let started = Instant::now();
        http.post(format!("{gateway}/api/meetings/{id}/messages"))
            .bearer_auth(&host)
            .json(&json!({"text": format!("bench-{k}")}))
            .send()
            .await?
            .error_for_status()?;
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while got < sockets {
            match tokio::time::timeout_at(deadline, arrived.recv()).await {
                Ok(Some((msg, at))) if msg == k => {
                    latencies.push(at.duration_since(started).as_secs_f64() * 1000.0);
                    got += 1;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let expected = sockets * messages;
    println!(
        "{}",
        json!({
            "sockets": sockets,
            "replicas": replicas.len(),
            "messages": messages,
            "deliveries": latencies.len(),
            "expectedDeliveries": expected,
            "p50Ms": percentile(&latencies, 0.50),
            "p99Ms": percentile(&latencies, 0.99),
            "maxMs": latencies.last().copied().unwrap_or(0.0),
            "rssBeforeKiB": rss_before,
            "rssAfterKiB": rss_after,
            "perSocketKiB": if sockets > 0 { rss_after.saturating_sub(rss_before) as f64 / sockets as f64 } else { 0.0 },
        })
    );
    for reader in readers {
        reader.abort();
    }
    Ok(())
}
