//! The OpenAPI document of the core role covers every route of SPEC §3.

use crate::harness::{Backend, TestEnv};
use serde_json::Value;

/// SPEC §3, the table of the core role.
const SPEC_ROUTES: &[(&str, &str)] = &[
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("get", "/api/openapi.json"),
    ("get", "/api/auth/settings"),
    ("post", "/api/auth/token"),
    ("post", "/api/auth/refresh"),
    ("get", "/api/me"),
    ("get", "/api/client-config"),
    ("post", "/api/conferences"),
    ("get", "/api/conferences"),
    ("get", "/api/conferences/{call_id}"),
    ("put", "/api/conferences/{call_id}"),
    ("delete", "/api/conferences/{call_id}"),
    ("get", "/api/invitation"),
    ("post", "/api/log/json"),
];

async fn every_route_is_documented_and_served(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let doc: Value = env
        .srv
        .http
        .get(env.core("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in SPEC_ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} missing from openapi.json"
        );
    }
    // and every documented operation exists on the server (not the router's 404/405)
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = env.core(&path.replace("{call_id}", "00000000-0000-0000-0000-000000000000"));
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = env
                .srv
                .http
                .request(m, &url)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_ne!(r.status(), 405, "{method} {path}");
            if r.status() == 404 {
                let b: Value = r.json().await.unwrap();
                assert_ne!(
                    b["error"], "not_found",
                    "{method} {path} is not routed: {b}"
                );
            }
        }
    }
    env.srv.stop().await;
}

crate::both_backends!(every_route_is_documented_and_served);
