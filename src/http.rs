//! Shared HTTP pieces: the JSON error type, the safety net that turns every framework error
//! into that shape, request logging, and the health endpoints both roles serve.

use crate::db::{Db, DbError};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::time::{Duration, Instant};

/// How long `/health/ready` waits for a database connection.
pub const READY_DB_TIMEOUT: Duration = Duration::from_secs(2);

/// Default limit of a JSON body; routes that take more say so themselves.
pub const JSON_LIMIT: usize = 256 * 1024;

/// Every error answer: `{"error": "<snake_case_code>", "message": "…", "details"?: …}`.
#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
            details: None,
            headers: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// An error whose message the person in Outlook reads, in their language.
    pub fn coded(status: StatusCode, code: &'static str, lang: crate::i18n::Lang) -> Self {
        let message = crate::i18n::message(code, lang).unwrap_or(code);
        Self::new(status, code, message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A failure whose cause must not reach the client: log it, answer a generic 500.
    pub fn internal(cause: impl fmt::Display) -> Self {
        tracing::error!(target: "xmeet::http", error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on the server. The administrator can find the cause in the service log.",
        )
    }

    pub fn database_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "The database does not answer. Try again in a minute; if it persists, tell your administrator.",
        )
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        for (k, v) in &self.headers {
            resp.insert_header((k.clone(), v.clone()));
        }
        resp.json(ErrorBody {
            error: self.code,
            message: &self.message,
            details: self.details.as_ref(),
        })
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => {
                tracing::warn!(target: "xmeet::db", error = %cause, "database unavailable");
                AppError::database_unavailable()
            }
            DbError::Query(diesel::result::Error::NotFound) => {
                AppError::not_found("Nothing was found at this address.")
            }
            other => AppError::internal(other),
        }
    }
}

/// The stable code for a bare status, used when the framework answers by itself.
fn code_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        406 => "not_acceptable",
        408 => "request_timeout",
        411 => "length_required",
        413 => "payload_too_large",
        414 => "uri_too_long",
        415 => "unsupported_media_type",
        422 => "validation_failed",
        429 => "too_many_requests",
        431 => "headers_too_large",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        s if s >= 500 => "internal_error",
        _ => "bad_request",
    }
}

fn message_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "There is nothing at this address.",
        405 => "This address does not accept this method.",
        413 => "The request body is too large.",
        415 => "The request body must be JSON (Content-Type: application/json).",
        s if s >= 500 => "Something went wrong on the server.",
        _ => "The request could not be understood.",
    }
}

/// The safety net: any error answer that is not already JSON becomes the JSON error shape,
/// so no client ever sees an HTML page or a framework message.
pub fn json_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let mut message = message_for(status).to_owned();
        if status == StatusCode::METHOD_NOT_ALLOWED || status == StatusCode::NOT_FOUND {
            message = format!(
                "{} ({} {})",
                message.trim_end_matches('.'),
                res.request().method(),
                res.request().path()
            );
        }
        let body = serde_json::json!({"error": code_for(status), "message": message}).to_string();
        let (req, mut resp) = res.into_parts();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let resp = resp.set_body(body).map_into_boxed_body();
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, resp).map_into_right_body(),
        ))
    })
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_owned())
        })
        .filter(|t| !t.is_empty())
}

/// Unknown path on a role's app.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::not_found(format!(
        "There is nothing at this address ({} {}).",
        req.method(),
        req.path()
    )))
}

/// JSON body errors (unparsable, wrong type, too large) in the error shape.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| {
            use actix_web::error::JsonPayloadError as E;
            let e = match &err {
                E::OverflowKnownLength { .. } | E::Overflow { .. } => AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("The request body is larger than {} KiB.", limit / 1024),
                ),
                E::ContentType => AppError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "The request body must be JSON (Content-Type: application/json).",
                ),
                E::Deserialize(de) if de.is_data() => AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    format!("The request body does not have the expected fields: {de}"),
                ),
                E::Deserialize(de) => AppError::bad_request(
                    "invalid_json",
                    format!("The request body is not valid JSON: {de}"),
                ),
                _ => AppError::bad_request("invalid_body", "The request body could not be read."),
            };
            e.into()
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        AppError::bad_request(
            "invalid_query",
            format!("The query string is not valid: {err}"),
        )
        .into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        AppError::not_found(format!("There is nothing at this address: {err}")).into()
    })
}

/// One log line per request: method, path (never the query: it may carry codes), status, time.
pub async fn log_request(
    role: &'static str,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let seconds = started.elapsed().as_secs_f64();
    crate::metrics::http_request(role, &route, method.as_str(), status, seconds);
    // a number, not a formatted string: nothing is allocated when the line is filtered out
    let ms = (seconds * 100_000.0).round() / 100.0;
    if status >= 500 {
        tracing::warn!(target: "xmeet::access", role, %method, %path, status, ms, %peer, "request");
    } else {
        tracing::info!(target: "xmeet::access", role, %method, %path, status, ms, %peer, "request");
    }
    Ok(res)
}

/// `GET /health/live`: the process runs.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /health/ready`: the database answers (checked on every call, so it recovers by itself).
pub async fn ready(db: web::Data<Db>) -> HttpResponse {
    match db.ping(READY_DB_TIMEOUT).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ok",
            "checks": {"database": "ok"}
        })),
        Err(e) => {
            tracing::warn!(target: "xmeet::health", error = %e, "not ready: database");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "error": "not_ready",
                "message": "The database does not answer.",
                "details": {"down": ["database"], "checks": {"database": "unavailable"}}
            }))
        }
    }
}

pub fn health_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").route(web::get().to(live)))
        .service(web::resource("/health/ready").route(web::get().to(ready)));
}
