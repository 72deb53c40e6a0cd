//! The template role (default port 7200): the admin console and its API (SPEC §5).

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::http::health_routes(cfg);
}
