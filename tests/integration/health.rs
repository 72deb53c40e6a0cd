//! Health endpoints and the JSON error shape of both roles.

use crate::harness::{Backend, TcpProxy, TestDb, TestServer, test_config};
use std::time::{Duration, Instant};

async fn get_status(http: &reqwest::Client, url: &str) -> (u16, serde_json::Value) {
    let r = http.get(url).send().await.expect("request");
    let status = r.status().as_u16();
    let body = r.json().await.expect("JSON body");
    (status, body)
}

async fn wait_for_status(http: &reqwest::Client, url: &str, want: u16) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get_status(http, url).await;
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "{url} stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn live_and_ready_on_both_roles(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let srv = TestServer::start(test_config(&db)).await;
    for base in [&srv.core, &srv.template] {
        let (s, b) = get_status(&srv.http, &format!("{base}/health/live")).await;
        assert_eq!((s, b), (200, serde_json::json!({"status": "ok"})));
        let (s, b) = get_status(&srv.http, &format!("{base}/health/ready")).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["checks"]["database"], "ok");
    }
    srv.stop().await;
}

/// Make the database unreachable, then bring it back: ready goes 503 and returns to 200
/// without a restart.
async fn ready_follows_the_database(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let mut config = test_config(&db);
    let proxy = match backend {
        Backend::Postgres => {
            let target = format!("127.0.0.1:{}", db.port().unwrap_or(5432))
                .parse()
                .unwrap();
            let proxy = TcpProxy::start(target).await;
            config.database.url = xmeet::db::DatabaseUrl::new(db.url_via(&proxy));
            Some(proxy)
        }
        Backend::Sqlite => None,
    };
    let srv = TestServer::start(config).await;
    let ready = format!("{}/health/ready", srv.core);
    wait_for_status(&srv.http, &ready, 200).await;

    // take the database away
    let locker = match &proxy {
        Some(p) => {
            p.set_down(true);
            None
        }
        None => {
            // SQLite: the file goes away (a lost volume); xmeet must not create a new one
            let path = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
            let moved = path.with_extension("moved");
            std::fs::rename(&path, &moved).unwrap();
            Some((path, moved))
        }
    };
    let body = wait_for_status(&srv.http, &ready, 503).await;
    assert_eq!(body["error"], "not_ready");
    assert_eq!(body["details"]["down"][0], "database");
    // the live probe does not depend on the database
    let (s, _) = get_status(&srv.http, &format!("{}/health/live", srv.template)).await;
    assert_eq!(s, 200);

    // bring it back
    match (&proxy, locker) {
        (Some(p), _) => p.set_down(false),
        (None, Some((path, moved))) => {
            assert!(
                !path.exists(),
                "a new database file was created while it was missing"
            );
            std::fs::rename(&moved, &path).unwrap();
        }
        (None, None) => unreachable!(),
    }
    wait_for_status(&srv.http, &ready, 200).await;
    wait_for_status(&srv.http, &format!("{}/health/ready", srv.template), 200).await;
    srv.stop().await;
}

async fn every_framework_error_is_json(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let srv = TestServer::start(test_config(&db)).await;
    for base in [&srv.core, &srv.template] {
        let r = srv
            .http
            .get(format!("{base}/no/such/path"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let b: serde_json::Value = r.json().await.unwrap();
        assert_eq!(b["error"], "not_found");
        assert!(b["message"].as_str().unwrap().contains("/no/such/path"));

        let r = srv
            .http
            .delete(format!("{base}/health/live"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405);
        let b: serde_json::Value = r.json().await.unwrap();
        assert_eq!(b["error"], "method_not_allowed");
        assert!(b["message"].is_string());
    }
    srv.stop().await;
}

crate::both_backends!(
    live_and_ready_on_both_roles,
    ready_follows_the_database,
    every_framework_error_is_json,
);

/// The JSON body rules every role uses, on a route that takes a body.
#[actix_web::test]
async fn json_body_errors_have_the_error_shape() {
    use actix_web::{App, HttpResponse, test, web};
    #[derive(serde::Deserialize)]
    struct Body {
        #[allow(dead_code)]
        name: String,
    }
    let app = test::init_service(
        App::new()
            .app_data(xmeet::http::json_config(64))
            .wrap(xmeet::http::json_errors())
            .route(
                "/echo",
                web::post().to(|_b: web::Json<Body>| async { HttpResponse::NoContent().finish() }),
            ),
    )
    .await;
    let cases: [(&str, &str, u16, &str); 4] = [
        ("{not json", "application/json", 400, "invalid_json"),
        (
            "{\"name\": 5}",
            "application/json",
            422,
            "validation_failed",
        ),
        (
            &"x".repeat(100),
            "application/json",
            413,
            "payload_too_large",
        ),
        (
            "{\"name\":\"a\"}",
            "text/plain",
            415,
            "unsupported_media_type",
        ),
    ];
    for (body, ctype, status, code) in cases {
        let req = test::TestRequest::post()
            .uri("/echo")
            .insert_header(("content-type", ctype))
            .set_payload(body.to_owned())
            .to_request();
        let resp = test::call_service(&app, req).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        let json: serde_json::Value = test::read_body_json(resp).await;
        assert_eq!(json["error"], code, "{json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let ok = test::TestRequest::post()
        .uri("/echo")
        .set_json(serde_json::json!({"name": "a"}))
        .to_request();
    assert_eq!(test::call_service(&app, ok).await.status(), 204);
}
