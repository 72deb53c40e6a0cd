//! The add-in's log batches.

use crate::harness::{Backend, TestEnv};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn client_log_lines(env: &TestEnv) -> Vec<Value> {
    let dir = PathBuf::from(&env.srv.config.log.dir).join("client");
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            out.extend(
                text.lines()
                    .map(|l| serde_json::from_str::<Value>(l).expect("each line is JSON")),
            );
        }
    }
    out
}

async fn wait_lines(env: &TestEnv, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = client_log_lines(env);
        if lines.len() >= n || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn batches_are_stored_one_line_per_event(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let http = &env.srv.http;
    let url = env.core("/api/log/json");
    let array = json!([
        {"Timestamp": "2026-12-04T10:00:00+03:00", "Level": "Information", "MessageTemplate": "Started"},
        {"Timestamp": "2026-12-04T10:00:01+03:00", "Level": "Error", "RenderedMessage": "line one\n{\"forged\":\"line\"}\r\nline three"}
    ]);
    let r = http.post(&url).json(&array).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = http
        .post(&url)
        .json(&json!({"events": [{"Level": "Warning", "MessageTemplate": "third"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let lines = wait_lines(&env, 3).await;
    assert_eq!(
        lines.len(),
        3,
        "a message with newlines must stay one line: {lines:?}"
    );
    assert_eq!(lines[0]["event"]["MessageTemplate"], "Started");
    assert_eq!(
        lines[1]["event"]["RenderedMessage"],
        "line one\n{\"forged\":\"line\"}\r\nline three"
    );
    assert_eq!(lines[2]["event"]["MessageTemplate"], "third");
    for l in &lines {
        assert_eq!(l["remote_addr"], "127.0.0.1");
        assert!(chrono::DateTime::parse_from_rfc3339(l["received_at"].as_str().unwrap()).is_ok());
    }
    // the service log is a different file
    assert!(
        !PathBuf::from(&env.srv.config.log.dir)
            .join("client")
            .join("core.log")
            .exists()
    );

    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_json");
    let r = http
        .post(&url)
        .json(&json!({"level": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let big = format!("[{{\"m\":\"{}\"}}]", "x".repeat(1024 * 1024 + 10));
    let r = http
        .post(&url)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "payload_too_large"
    );
    env.srv.stop().await;
}

async fn rate_limited_per_address(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| c.client_log.rate_per_minute = 3).await else {
        return;
    };
    let url = env.core("/api/log/json");
    for _ in 0..3 {
        assert_eq!(
            env.srv
                .http
                .post(&url)
                .json(&json!([]))
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
    }
    let r = env
        .srv
        .http
        .post(&url)
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "too_many_requests"
    );
    env.srv.stop().await;
}

crate::both_backends!(
    batches_are_stored_one_line_per_event,
    rate_limited_per_address
);
