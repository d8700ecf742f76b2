//! What every Reelstack service needs and nothing a single service needs:
//! the error envelope, token verification, configuration, telemetry, the database
//! pool and start-up sequence, health and metrics endpoints, pagination, rate
//! limiting, the service-to-service client, validated values several services
//! accept, OpenAPI helpers and the HTTP defaults every service is served with.

pub mod client;
pub mod config;
pub mod context;
pub mod db;
pub mod domain;
pub mod error;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod ratelimit;
pub mod redis_conn;
pub mod server;
pub mod startup;
pub mod telemetry;
pub mod tokens;

pub use error::{ApiError, FieldErrors};
