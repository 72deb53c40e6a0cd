//! `POST /api/log/json`: the add-in's Serilog batches, appended one JSON line per event to the
//! client log (a rolling file apart from the service log).

use crate::config::Config;
use crate::http::AppError;
use crate::i18n::Lang;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::Value;
use std::io::Write;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing_appender::non_blocking::{NonBlocking, NonBlockingBuilder, WorkerGuard};

/// Largest batch accepted.
pub const MAX_BODY: usize = 1024 * 1024;

pub struct ClientLog {
    writer: Mutex<NonBlocking>,
    _guard: WorkerGuard,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    seen: AtomicU64,
}

impl ClientLog {
    pub fn open(config: &Config) -> Result<ClientLog, String> {
        let path = config.log_path(&config.log.client_file);
        let appender = crate::logging::rolling_appender(&path, config.log.keep_days)
            .map_err(|e| format!("log.client_file: {e}"))?;
        // not lossy: a full buffer slows the writer down instead of dropping events
        let (writer, guard) = NonBlockingBuilder::default().lossy(false).finish(appender);
        let per_minute =
            NonZeroU32::new(config.client_log.rate_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Ok(ClientLog {
            writer: Mutex::new(writer),
            _guard: guard,
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            seen: AtomicU64::new(0),
        })
    }

    /// One line per event. serde_json escapes control characters, so a message with a
    /// newline can never start a second line.
    fn write(&self, events: &[Value], remote: &str) -> std::io::Result<()> {
        let received_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut buf = Vec::with_capacity(events.len() * 256);
        for event in events {
            let line = serde_json::json!({
                "received_at": received_at,
                "remote_addr": remote,
                "event": event,
            });
            serde_json::to_writer(&mut buf, &line)?;
            buf.push(b'\n');
        }
        let mut w = self
            .writer
            .lock()
            .map_err(|_| std::io::Error::other("client log writer poisoned"))?;
        w.write_all(&buf)
    }

    fn allow(&self, ip: IpAddr) -> Result<(), u64> {
        if self
            .seen
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1024)
        {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            wait.as_secs().max(1)
        })
    }
}

/// The events of a batch: a JSON array, or `{"events": […]}` (Serilog's HTTP sink formats).
fn events_of(body: &[u8]) -> Result<Vec<Value>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    match v {
        Value::Array(events) => Ok(events),
        Value::Object(mut o) => match o.remove("events") {
            Some(Value::Array(events)) => Ok(events),
            _ => Err("expected a JSON array of events or {\"events\": [...]}".into()),
        },
        _ => Err("expected a JSON array of events or {\"events\": [...]}".into()),
    }
}

/// Store a batch of the add-in's log events.
#[utoipa::path(post, path = "/api/log/json", tag = "log",
    request_body(content = Vec<Object>, description = "Serilog events: a JSON array, or {\"events\": [...]}"),
    responses((status = 204, description = "stored"), (status = 400, body = crate::core::openapi::ErrorBody),
        (status = 413, body = crate::core::openapi::ErrorBody), (status = 429, body = crate::core::openapi::ErrorBody)))]
pub async fn post(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: Lang,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let log = state
        .client_log
        .as_ref()
        .ok_or_else(|| AppError::internal("client log is not open on this role"))?;
    let ip = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if let Err(wait) = log.allow(ip) {
        tracing::warn!(target: "xmeet::client_log", %ip, "client log rate limit reached");
        return Err(
            AppError::coded(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", lang)
                .with_header(actix_web::http::header::RETRY_AFTER, &wait.to_string()),
        );
    }
    let events = events_of(&body).map_err(|e| {
        AppError::bad_request("invalid_json", format!("The log batch is not valid: {e}"))
    })?;
    let remote = ip.to_string();
    log.write(&events, &remote)
        .map_err(|e| AppError::internal(format!("cannot write the client log: {e}")))?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::events_of;

    #[test]
    fn both_batch_shapes() {
        assert_eq!(events_of(br#"[{"a":1},{"b":2}]"#).unwrap().len(), 2);
        assert_eq!(events_of(br#"{"events":[{"a":1}]}"#).unwrap().len(), 1);
        assert!(events_of(br#"{"a":1}"#).is_err());
        assert!(events_of(b"nope").is_err());
    }
}
