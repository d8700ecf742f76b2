//! The real `auth` binary as a process: graceful shutdown on SIGTERM and OTLP
//! export with the caller's trace id.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use testkit::TestDb;

use crate::helpers::PASSWORD;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Process {
    child: Child,
    base: String,
    _db: TestDb,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

async fn start(extra: &[(&str, &str)]) -> Process {
    let db = TestDb::of::<auth::Auth>().unwrap();
    let port = free_port();
    let mail = testkit::mail::mail_dir();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auth"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", port.to_string())
        .env("INTERNAL_PORT", "0")
        .env("DATABASE_URL", &db.url)
        .env("MAIL_DIR", mail)
        .env("MIGRATE_ON_START", "false")
        .env("WORKERS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(resp) = reqwest::get(format!("{base}/health/ready")).await {
            if resp.status() == StatusCode::OK {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "auth did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Process {
        child,
        base,
        _db: db,
    }
}

#[tokio::test]
async fn sigterm_turns_readiness_off_first_and_lets_requests_finish() {
    let mut process = start(&[("SHUTDOWN_DELAY_SECS", "2")]).await;
    let client = reqwest::Client::new();
    let email = crate::helpers::unique_email();
    let resp = client
        .post(format!("{}/api/auth/signup", process.base))
        .json(&json!({"name": "Ada", "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    // Logins in flight (each waits for an Argon2 verification) when SIGTERM arrives.
    let in_flight: Vec<_> = (0..6)
        .map(|_| {
            let client = client.clone();
            let url = format!("{}/api/auth/login", process.base);
            let body = json!({"email": email, "password": PASSWORD});
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let kill = Command::new("kill")
        .args(["-TERM", &process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = client
        .get(format!("{}/health/ready", process.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness turns 503 first"
    );
    let live = client
        .get(format!("{}/health/live", process.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.status(),
        StatusCode::OK,
        "still serving during the delay"
    );
    for task in in_flight {
        assert_eq!(
            task.await.unwrap().unwrap(),
            StatusCode::OK,
            "in-flight requests finish"
        );
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = process.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "did not exit after the delay"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "clean exit: {status:?}");
}

#[tokio::test]
async fn spans_are_exported_over_otlp_with_the_callers_trace_id() {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    // (content type, body) of each export request.
    type Exports = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let received: Exports = Arc::default();
    let sink = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let collector_port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let sink = sink.clone();
        App::new().route(
            "/v1/traces",
            web::post().to(move |req: HttpRequest, body: web::Bytes| {
                let sink = sink.clone();
                async move {
                    let ct = req
                        .headers()
                        .get("content-type")
                        .map(|v| v.to_str().unwrap_or("").to_owned())
                        .unwrap_or_default();
                    sink.lock().unwrap().push((ct, body.to_vec()));
                    HttpResponse::Ok().finish()
                }
            }),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);

    let endpoint = format!("http://127.0.0.1:{collector_port}");
    let process = start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("RUST_LOG", "info"),
    ])
    .await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let resp = reqwest::Client::new()
        .get(format!("{}/health/live", process.base))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let wanted: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&trace_id[i * 2..i * 2 + 2], 16).unwrap())
        .collect();
    let started = Instant::now();
    loop {
        {
            let batches = received.lock().unwrap();
            if batches
                .iter()
                .any(|(_, body)| body.windows(16).any(|w| w == wanted.as_slice()))
            {
                let (ct, _) = &batches[0];
                assert!(ct.starts_with("application/x-protobuf"), "{ct}");
                assert!(
                    batches
                        .iter()
                        .any(|(_, b)| b.windows(4).any(|w| w == b"auth")),
                    "service.name in the resource"
                );
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no span with the caller's trace id was exported"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every service binary has one command line: `serve` (the default), `migrate`,
/// `openapi`, `health`, and auth's own `keys rotate` and `hash-bench`.
#[tokio::test]
async fn the_command_line_is_the_common_one_plus_auth_s_own() {
    let help = Command::new(env!("CARGO_BIN_EXE_auth"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for command in [
        "serve",
        "migrate",
        "openapi",
        "health",
        "keys",
        "hash-bench",
    ] {
        assert!(text.contains(command), "{command} missing from:\n{text}");
    }
    let document = Command::new(env!("CARGO_BIN_EXE_auth"))
        .arg("openapi")
        .env_clear()
        .output()
        .unwrap();
    assert!(document.status.success(), "openapi needs no settings");
    let committed = std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../proto-docs/auth.openapi.json"),
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&document.stdout), committed);
    let unknown = Command::new(env!("CARGO_BIN_EXE_auth"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

/// `auth health` (a container HEALTHCHECK) exits 0 while the service is ready,
/// and 1 once it is gone.
#[tokio::test]
async fn the_health_subcommand_reports_readiness() {
    let mut process = start(&[]).await;
    let port = process.base.rsplit(':').next().unwrap().to_owned();
    let health = || {
        Command::new(env!("CARGO_BIN_EXE_auth"))
            .args(["health", "--timeout", "1"])
            .env_clear()
            .env("PORT", &port)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
    };
    assert!(health().success());
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    assert_eq!(health().code(), Some(1));
}

/// Production refuses to start with a development credential of this
/// repository (compose, `make run`, examples) or without Redis, and says why.
#[tokio::test]
async fn production_refuses_development_secrets_and_a_missing_redis() {
    let refused = |extra: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_auth"));
        cmd.arg("serve")
            .env_clear()
            .env("APP_ENV", "production")
            .env("PORT", "0")
            .env(
                "DATABASE_URL",
                "postgres://u:strong-secret@127.0.0.1:1/auth",
            );
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let redis = testkit::redis_url();
    let message = refused(&[]);
    assert!(
        message.contains("REDIS_URL is required in production"),
        "{message}"
    );
    let message = refused(&[
        ("REDIS_URL", redis.as_str()),
        ("AUTH_INTERNAL_CLIENTS", "meetings:compose-only-dev-secret"),
    ]);
    assert!(
        message.contains("AUTH_INTERNAL_CLIENTS holds a development credential"),
        "{message}"
    );
    let message = refused(&[
        ("REDIS_URL", redis.as_str()),
        (
            "DATABASE_URL",
            "postgres://postgres:reelstack-local@db:5432/auth",
        ),
    ]);
    assert!(
        message.contains("DATABASE_URL holds a development credential"),
        "{message}"
    );
}
