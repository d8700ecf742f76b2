//! `/health/live`, `/health/ready` and `/health`: liveness never touches
//! dependencies; readiness checks the database and Redis, reports `degraded`
//! while revocations wait for Redis, and turns 503 as soon as shutdown begins.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use diesel::RunQueryDsl;
use serde_json::json;

use crate::db::Db;
use crate::redis_conn::RedisHandle;
use crate::tokens::RevocationList;

#[derive(Clone)]
pub struct HealthState {
    pub service: &'static str,
    pub version: &'static str,
    pub db: Option<Db>,
    pub redis: Option<RedisHandle>,
    /// Redis down makes the service `degraded` (still ready) instead of unready:
    /// for services that keep working without it.
    pub redis_optional: bool,
    /// Revocations Redis has not taken yet make the service `degraded`: other
    /// services may still accept those sessions' tokens.
    pub revocations: Option<RevocationList>,
    pub shutting_down: Arc<AtomicBool>,
}

impl HealthState {
    pub fn new(
        service: &'static str,
        version: &'static str,
        db: Option<Db>,
        redis: Option<RedisHandle>,
    ) -> Self {
        Self {
            service,
            version,
            db,
            redis,
            redis_optional: false,
            revocations: None,
            shutting_down: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Readiness stays 200 (`"status": "degraded"`) while Redis is down.
    pub fn with_optional_redis(mut self) -> Self {
        self.redis_optional = true;
        self
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready))
        .route("/health", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn ready(state: web::Data<HealthState>) -> HttpResponse {
    let mut ok = true;
    let mut degraded = false;
    let mut checks = serde_json::Map::new();
    if let Some(db) = &state.db {
        let probe = db.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        });
        let result = tokio::time::timeout(Duration::from_secs(2), probe).await;
        let healthy = matches!(result, Ok(Ok(())));
        ok &= healthy;
        checks.insert(
            "database".into(),
            json!(if healthy { "ok" } else { "down" }),
        );
    }
    match &state.redis {
        Some(redis) => {
            let result = tokio::time::timeout(Duration::from_secs(1), redis.ping()).await;
            let healthy = matches!(result, Ok(Ok(())));
            if state.redis_optional {
                degraded |= !healthy;
            } else {
                ok &= healthy;
            }
            checks.insert("redis".into(), json!(if healthy { "ok" } else { "down" }));
        }
        None => {
            checks.insert("redis".into(), json!("disabled"));
        }
    }
    if let Some(revocations) = &state.revocations {
        let unpublished = revocations.unpublished();
        if unpublished > 0 {
            degraded = true;
            checks.insert(
                "revocations".into(),
                json!(format!("{unpublished} not yet published to Redis")),
            );
        }
    }
    if state.is_shutting_down() {
        ok = false;
        checks.insert("shutdown".into(), json!("in progress"));
    }
    let body = json!({
        "status": match (ok, degraded) {
            (false, _) => "unavailable",
            (true, true) => "degraded",
            (true, false) => "ok",
        },
        "service": state.service,
        "version": state.version,
        "checks": checks,
    });
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
