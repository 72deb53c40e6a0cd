//! The console's files, embedded in the binary (no CDN, works offline), served with a
//! Content-Security-Policy that allows only our own scripts.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web/"]
#[exclude = "*.md"]
struct Files;

/// Only our own scripts; inline styles are needed by the visual editor; images may be
/// base64 `data:` URIs (the guide's logos); the preview is a sandboxed `srcdoc` frame.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn secured(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    b
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// `GET /front`: the single-page console.
pub async fn index() -> HttpResponse {
    match Files::get("index.html") {
        Some(f) => secured(HttpResponse::Ok())
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .body(f.data.into_owned()),
        None => HttpResponse::InternalServerError()
            .json(serde_json::json!({"error": "internal_error", "message": "the console is missing from this build"})),
    }
}

/// `GET /front/assets/…`.
pub async fn asset(path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    match Files::get(&path) {
        Some(f) if !path.ends_with(".html") => secured(HttpResponse::Ok())
            .content_type(content_type(&path))
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .body(f.data.into_owned()),
        _ => HttpResponse::NotFound().json(serde_json::json!({
            "error": "not_found",
            "message": format!("There is no console file {path}.")
        })),
    }
}
