//! `GET /api/openapi.json`: the OpenAPI 3 description of the core role, generated from the
//! handlers' annotations.

use actix_web::HttpResponse;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable snake_case code, e.g. `invalid_token`.
    pub error: String,
    /// What happened and what to do, in the language of `Accept-Language`.
    pub message: String,
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub status: String,
}

/// Liveness: the process runs.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, body = Status)))]
#[allow(dead_code)]
fn live() {}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = Object), (status = 503, body = ErrorBody)))]
#[allow(dead_code)]
fn ready() {}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, content_type = "text/plain", body = String)))]
#[allow(dead_code)]
fn metrics() {}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health", responses((status = 200, body = Object)))]
#[allow(dead_code)]
fn openapi() {}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("AD FS access token"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "xmeet core API", description = "The API the Outlook add-in talks to (SPEC §3)."),
    paths(
        live, ready, metrics, openapi,
        super::auth::settings, super::auth::token, super::auth::refresh, super::auth::me,
        super::auth::client_config,
        super::conferences::create, super::conferences::list, super::conferences::get,
        super::conferences::change, super::conferences::delete,
        super::invitation::get,
        super::client_log::post,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
pub struct CoreApi;

/// The document as JSON (built once).
pub fn json() -> &'static str {
    static DOC: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        CoreApi::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned())
    });
    &DOC
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}
