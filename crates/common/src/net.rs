//! The client's address: the gateway's `X-Real-IP`, believed only when the peer
//! is a trusted proxy (loopback by default), so per-IP limits key on the real
//! client and a client cannot pick its own address by sending the header.

use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};

use crate::error::ApiError;

/// One address or CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    network: IpAddr,
    prefix: u8,
}

impl Block {
    fn parse(raw: &str) -> Result<Self, String> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?} has an invalid prefix length"))?,
        };
        Ok(Self { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The peers allowed to name the client in `X-Real-IP` (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Block>);

impl TrustedProxies {
    /// Comma-separated addresses and CIDR blocks (`127.0.0.0/8,::1,10.0.0.0/8`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Block::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(peer))
    }

    /// The client of `req`: `X-Real-IP` when the peer is trusted and the header
    /// is an address, else the peer itself.
    pub fn client_of(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr().map(|a| a.ip())?;
        if self.trusts(peer) {
            let forwarded = req
                .headers()
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if let Some(client) = forwarded {
                return Some(client);
            }
        }
        Some(peer)
    }
}

/// The client address of a request, as a handler argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl ClientIp {
    pub fn of(req: &HttpRequest) -> Self {
        let proxies = req.app_data::<web::Data<TrustedProxies>>();
        let ip = match proxies {
            Some(proxies) => proxies.client_of(req),
            None => req.peer_addr().map(|a| a.ip()),
        };
        Self(ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_match_their_addresses_only() {
        let proxies = TrustedProxies::parse("127.0.0.0/8, ::1, 10.1.0.0/16").unwrap();
        for ok in [
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "10.1.200.3",
            "::ffff:127.0.0.1",
        ] {
            assert!(proxies.trusts(ok.parse().unwrap()), "{ok}");
        }
        for no in ["128.0.0.1", "10.2.0.1", "::2", "192.168.1.1"] {
            assert!(!proxies.trusts(no.parse().unwrap()), "{no}");
        }
        assert!(!TrustedProxies::parse("")
            .unwrap()
            .trusts("127.0.0.1".parse().unwrap()));
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .unwrap()
            .trusts("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in ["localhost", "10.0.0.0/33", "::1/129", "1.2.3.4/x"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[actix_web::test]
    async fn the_header_is_believed_from_trusted_peers_only() {
        use actix_web::test::TestRequest;
        let proxies = TrustedProxies::parse("127.0.0.1").unwrap();
        let from_gateway = TestRequest::default()
            .peer_addr("127.0.0.1:5000".parse().unwrap())
            .insert_header(("x-real-ip", "203.0.113.7"))
            .to_http_request();
        assert_eq!(
            proxies.client_of(&from_gateway),
            Some("203.0.113.7".parse().unwrap())
        );
        let spoofed = TestRequest::default()
            .peer_addr("198.51.100.9:5000".parse().unwrap())
            .insert_header(("x-real-ip", "203.0.113.7"))
            .to_http_request();
        assert_eq!(
            proxies.client_of(&spoofed),
            Some("198.51.100.9".parse().unwrap())
        );
    }
}
