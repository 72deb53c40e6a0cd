//! `GET /api/openapi.json` of the template role.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct AdminAuth;

impl Modify for AdminAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("console token from POST /front/api/login"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "xmeet template API", description = "The admin console's API (SPEC §5)."),
    paths(
        super::auth::login, super::auth::change_password,
        super::admins::list, super::admins::get, super::admins::create, super::admins::update,
        super::admins::delete,
        super::templates::list, super::templates::get, super::templates::create,
        super::templates::update, super::templates::delete, super::templates::history,
        super::templates::restore, super::templates::preview, super::templates::audit_list,
    ),
    components(schemas(crate::core::openapi::ErrorBody, crate::core::openapi::Status)),
    modifiers(&AdminAuth)
)]
pub struct TemplateApi;

pub fn json() -> &'static str {
    static DOC: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut doc = TemplateApi::openapi();
        // the health paths are the same on both roles
        let core = crate::core::openapi::CoreApi::openapi();
        for p in [
            "/health/live",
            "/health/ready",
            "/metrics",
            "/api/openapi.json",
        ] {
            if let Some(item) = core.paths.paths.get(p) {
                doc.paths.paths.insert(p.to_owned(), item.clone());
            }
        }
        doc.to_json().unwrap_or_else(|_| "{}".to_owned())
    });
    &DOC
}

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}
