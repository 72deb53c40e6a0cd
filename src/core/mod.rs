//! The core role (default port 7100): the API the Outlook add-in talks to (SPEC §3).

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    crate::http::health_routes(cfg);
}
