//! What every Reelstack service needs and nothing a single service needs:
//!
//! - starting: [`runner`] (the command line of every binary), [`startup`]
//!   (database, Redis, revocations, listeners, background tasks), [`config`]
//!   (settings and the production guard), [`telemetry`];
//! - HTTP: [`server`] (defaults of every listener: envelope, 405, CORS, limits,
//!   shutdown), [`error`] (the envelope and stable codes), [`json`] (the body
//!   extractor), [`net`] (the client address behind trusted proxies), [`context`]
//!   (request id and trace), [`health`], [`metrics`], [`openapi`];
//! - identity: [`tokens`] (verification, revocation, extractors), [`issuer`]
//!   (issuer names), [`events`] (the user event auth sends the directory);
//! - data and dependencies: [`db`] (pool, blocking helper, migrations, raw
//!   SQL kept prepared),
//!   [`redis_conn`] (connections, channel following), [`ratelimit`],
//!   [`client`] (service-to-service HTTP), [`retry`] (backoff, the breaker),
//!   [`idempotency`] (`Idempotency-Key` answers stored and replayed), [`tasks`]
//!   (supervised background tasks, periodic ones), [`pagination`], [`domain`] (validated values
//!   several services accept), `storage` (object storage, with the `storage`
//!   feature), `images` (uploaded pictures: type, decoding, thumbnails, with
//!   the `images` feature).

pub mod client;
pub mod config;
pub mod context;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod health;
pub mod idempotency;
#[cfg(feature = "images")]
pub mod images;
pub mod issuer;
pub mod json;
pub mod metrics;
pub mod net;
pub mod openapi;
pub mod pagination;
pub mod ratelimit;
pub mod redis_conn;
pub mod retry;
pub mod runner;
pub mod server;
pub mod startup;
#[cfg(feature = "storage")]
pub mod storage;
pub mod tasks;
pub mod telemetry;
pub mod tokens;

pub use error::{ApiError, FieldErrors};
pub use json::Json;
