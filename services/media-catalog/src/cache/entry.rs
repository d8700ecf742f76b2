//! A cached answer: the normalized JSON body as sent to clients, its ETag, and
//! when it was stored, stops being fresh and stops being usable at all.

use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

/// Milliseconds since the Unix epoch (entries are shared between replicas, so
/// their times are wall-clock times).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub body: Bytes,
    /// A strong ETag, quoted: `"<hex>"`.
    pub etag: String,
    pub stored_at: i64,
    pub fresh_until: i64,
    pub stale_until: i64,
}

impl Entry {
    pub fn new(body: Bytes, ttl: Duration, stale_window: Duration) -> Self {
        let now = now_ms();
        let digest = Sha256::digest(&body);
        let etag = format!(
            "\"{}\"",
            digest[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let fresh_until = now.saturating_add(millis(ttl));
        Self {
            body,
            etag,
            stored_at: now,
            fresh_until,
            stale_until: fresh_until.saturating_add(millis(stale_window)),
        }
    }

    pub fn is_fresh(&self, now: i64) -> bool {
        now < self.fresh_until
    }

    pub fn is_usable(&self, now: i64) -> bool {
        now < self.stale_until
    }

    /// Whole seconds of freshness left (for `max-age` and `Cache-Status: ttl`).
    pub fn fresh_secs(&self, now: i64) -> u64 {
        u64::try_from((self.fresh_until - now).max(0) / 1000).unwrap_or(0)
    }

    /// How long the entry is worth keeping from `now` on.
    pub fn lifetime(&self, now: i64) -> Duration {
        Duration::from_millis(u64::try_from(self.stale_until - now).unwrap_or(0))
    }

    /// `v1 <stored> <fresh> <stale> <etag>\n<body>`: the body stays raw bytes.
    pub fn encode(&self) -> Vec<u8> {
        let header = format!(
            "v1 {} {} {} {}\n",
            self.stored_at, self.fresh_until, self.stale_until, self.etag
        );
        let mut out = Vec::with_capacity(header.len() + self.body.len());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    pub fn decode(raw: &[u8]) -> Option<Self> {
        let split = raw.iter().position(|b| *b == b'\n')?;
        let header = std::str::from_utf8(&raw[..split]).ok()?;
        let mut parts = header.split(' ');
        if parts.next()? != "v1" {
            return None;
        }
        let stored_at = parts.next()?.parse().ok()?;
        let fresh_until = parts.next()?.parse().ok()?;
        let stale_until = parts.next()?.parse().ok()?;
        let etag = parts.next()?.to_owned();
        Some(Self {
            body: Bytes::copy_from_slice(&raw[split + 1..]),
            etag,
            stored_at,
            fresh_until,
            stale_until,
        })
    }
}

/// How an answer came about, as `Cache-Status` (RFC 9211) tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    /// Served from the cache without asking TMDB.
    Hit,
    /// Asked TMDB because nothing fresh was cached; `collapsed` when this request
    /// waited for another request's call (in this replica or another one).
    Fetched { was_stale: bool, collapsed: bool },
    /// TMDB failed and a stale copy was served (stale-if-error).
    StaleOnError { upstream_status: Option<u16> },
}

impl CacheStatus {
    pub fn header(self, entry: &Entry, now: i64) -> String {
        match self {
            Self::Hit => format!("reelstack; hit; ttl={}", entry.fresh_secs(now)),
            Self::Fetched {
                was_stale,
                collapsed,
            } => format!(
                "reelstack; fwd={}; {}",
                if was_stale { "stale" } else { "miss" },
                if collapsed { "collapsed" } else { "stored" }
            ),
            Self::StaleOnError { upstream_status } => match upstream_status {
                Some(status) => {
                    format!("reelstack; fwd=stale; fwd-status={status}; detail=stale-if-error")
                }
                None => "reelstack; fwd=stale; detail=stale-if-error".to_owned(),
            },
        }
    }

    /// The label of the `catalog_cache_total` metric.
    pub fn metric(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Fetched {
                collapsed: true, ..
            } => "collapsed",
            Self::Fetched { .. } => "miss",
            Self::StaleOnError { .. } => "stale_if_error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_through_their_encoding() {
        let entry = Entry::new(
            Bytes::from_static(b"{\"items\":[]}\n"),
            Duration::from_secs(60),
            Duration::from_secs(600),
        );
        let decoded = Entry::decode(&entry.encode()).unwrap();
        assert_eq!(decoded, entry);
        assert!(entry.is_fresh(entry.stored_at));
        assert!(!entry.is_fresh(entry.fresh_until));
        assert!(entry.is_usable(entry.fresh_until));
        assert_eq!(entry.fresh_secs(entry.stored_at), 60);
        assert!(Entry::decode(b"v2 1 2 3 \"x\"\nbody").is_none());
        assert!(Entry::decode(b"garbage").is_none());
    }

    #[test]
    fn the_etag_follows_the_body() {
        let a = Entry::new(Bytes::from_static(b"a"), Duration::ZERO, Duration::ZERO);
        let b = Entry::new(Bytes::from_static(b"b"), Duration::ZERO, Duration::ZERO);
        assert_ne!(a.etag, b.etag);
        assert!(a.etag.starts_with('"') && a.etag.ends_with('"') && a.etag.len() == 26);
    }
}
