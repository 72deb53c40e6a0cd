//! Conferences through the fake bot: the exact requests it receives, every error mapping,
//! Idempotency-Key, and that nobody reaches someone else's conference.

use crate::fakes::{BOT_TOKEN, BotMode};
use crate::harness::{Backend, TestEnv};
use serde_json::{Value, json};
use std::time::Duration;

fn times() -> (String, String) {
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    let end = start + chrono::Duration::hours(1);
    (start.to_rfc3339(), end.to_rfc3339())
}

fn request() -> Value {
    let (s, e) = times();
    json!({
        "name": "Weekly sync",
        "start_at": s,
        "end_at": e,
        "members": [" Bob@Example.com ", "bob@example.com", "carol@example.com"],
        "admins": ["dave@example.com"],
        "link_type": "corporate",
        "access_code": "4711",
        "locale": "en-US"
    })
}

async fn post(env: &TestEnv, token: &str, body: &Value) -> (u16, Value) {
    let r = env
        .srv
        .http
        .post(env.core("/api/conferences"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn create_sends_the_documented_request(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let alice = env.token("Alice@Example.com");
    let body = request();
    let (status, created) = post(&env, &alice, &body).await;
    assert_eq!(status, 201, "{created}");

    let reqs = env.bot.requests();
    assert_eq!(reqs.len(), 1);
    let sent = &reqs[0];
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/api/v1/conference_bot/conferences/");
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Bearer {BOT_TOKEN}").as_str())
    );
    let start = chrono::DateTime::parse_from_rfc3339(body["start_at"].as_str().unwrap()).unwrap();
    let expected_start = start
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    assert_eq!(sent.body["start_at"], expected_start);
    assert!(sent.body["end_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(sent.body["creator"], "alice@example.com");
    assert_eq!(sent.body["contact_type"], "email");
    assert_eq!(sent.body["name"], "Weekly sync");
    assert_eq!(
        sent.body["members"],
        json!(["bob@example.com", "carol@example.com"])
    );
    assert_eq!(
        sent.body["admins"],
        json!(["alice@example.com", "dave@example.com"])
    );
    assert_eq!(
        sent.body["link"],
        json!({"link_type": "corporate", "access_code": "4711"})
    );

    let call_id = created["call_id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "Weekly sync");
    assert_eq!(created["link"]["link_type"], "corporate");
    assert_eq!(created["link"]["access_code"], "4711");
    let link = created["link"]["link"].as_str().unwrap().to_owned();
    assert!(link.starts_with("https://cts.test/join/"));
    assert_eq!(
        created["members"],
        json!(["bob@example.com", "carol@example.com"])
    );
    let inv = &created["invitation"];
    assert_eq!(inv["locale"], "en");
    assert!(inv["template_id"].as_i64().unwrap() > 0);
    let html = inv["html"].as_str().unwrap();
    assert!(
        html.starts_with(&format!(
            "<div id=\"xmeet-invitation\" data-call-id=\"{call_id}\">"
        )),
        "{html}"
    );
    assert!(html.contains(&link));
    assert!(html.contains("4711"));

    // our record: GET and the list show it
    let got: Value = env
        .srv
        .http
        .get(env.core(&format!("/api/conferences/{call_id}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["call_id"], call_id.as_str());
    assert_eq!(got["link"]["link"], link.as_str());
    let list: Value = env
        .srv
        .http
        .get(env.core("/api/conferences"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["conferences"].as_array().unwrap().len(), 1);

    // change: POST {base}{call_id} with actor = the token's e-mail, only what changed
    let r = env.srv.http.put(env.core(&format!("/api/conferences/{call_id}"))).bearer_auth(&alice)
        .json(&json!({"name": "Renamed", "actor": "mallory@example.com", "members": ["eve@example.com"]}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(changed["name"], "Renamed");
    assert_eq!(changed["members"], json!(["eve@example.com"]));
    assert!(
        changed["invitation"]["html"]
            .as_str()
            .unwrap()
            .contains("Renamed")
    );
    let sent = env.bot.requests().pop().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(
        sent.path,
        format!("/api/v1/conference_bot/conferences/{call_id}")
    );
    assert_eq!(sent.body["actor"], "alice@example.com");
    assert_eq!(sent.body["name"], "Renamed");
    assert_eq!(sent.body["members"], json!(["eve@example.com"]));
    assert!(sent.body.get("start_at").is_none());
    assert!(sent.body.get("link").is_none());

    // delete: DELETE {base}{call_id} with {"actor"}
    let r = env
        .srv
        .http
        .delete(env.core(&format!("/api/conferences/{call_id}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let sent = env.bot.requests().pop().unwrap();
    assert_eq!(sent.method, "DELETE");
    assert_eq!(
        sent.path,
        format!("/api/v1/conference_bot/conferences/{call_id}")
    );
    assert_eq!(sent.body["actor"], "alice@example.com");
    let r = env
        .srv
        .http
        .get(env.core(&format!("/api/conferences/{call_id}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let list: Value = env
        .srv
        .http
        .get(env.core("/api/conferences"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["conferences"], json!([]));
    env.srv.stop().await;
}

async fn creator_mismatch_and_validation_make_no_bot_call(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let alice = env.token("alice@example.com");
    let mut body = request();
    body["creator"] = json!("boss@example.com");
    let (s, b) = post(&env, &alice, &body).await;
    assert_eq!((s, b["error"].as_str()), (403, Some("creator_mismatch")));

    // the same address in another case is fine
    body["creator"] = json!("ALICE@example.com");
    let (s, _) = post(&env, &alice, &body).await;
    assert_eq!(s, 201);
    env.bot.clear();

    let (s, e) = times();
    let bad = json!({
        "name": "",
        "start_at": e,
        "end_at": s,
        "members": ["ok@example.com", "not an address"],
        "admins": ["@nope"],
    });
    let (status, b) = post(&env, &alice, &bad).await;
    assert_eq!(status, 422, "{b}");
    assert_eq!(b["error"], "validation_failed");
    for field in ["name", "end_at", "members[1]", "admins[0]"] {
        assert!(b["details"][field].is_string(), "{field} missing in {b}");
    }
    let (status, b) = post(
        &env,
        &alice,
        &json!({"name": "x", "start_at": "tomorrow", "end_at": "later", "members": []}),
    )
    .await;
    assert_eq!(status, 422);
    assert!(b["details"]["start_at"].is_string());
    let (status, b) = post(&env, &alice, &json!({"name": "x"})).await;
    assert_eq!(status, 422);
    assert!(b["details"]["members"].is_string() && b["details"]["start_at"].is_string());
    let many: Vec<String> = (0..1001).map(|i| format!("u{i}@example.com")).collect();
    let mut big = request();
    big["members"] = json!(many);
    let (status, b) = post(&env, &alice, &big).await;
    assert_eq!(status, 422);
    assert!(b["details"]["members"].is_string());
    let mut long = request();
    long["name"] = json!("x".repeat(256));
    assert_eq!(post(&env, &alice, &long).await.0, 422);
    let mut wrong_type = request();
    wrong_type["members"] = json!("bob@example.com");
    assert_eq!(post(&env, &alice, &wrong_type).await.0, 422);
    assert_eq!(
        env.bot.requests().len(),
        0,
        "validation must happen before any bot call"
    );
    env.srv.stop().await;
}

async fn link_type_policy(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| {
        c.policy.allowed_link_types = vec!["corporate".into(), "trusts".into()];
        c.policy.password_required_link_types = vec!["trusts".into()];
    })
    .await
    else {
        return;
    };
    let t = env.token("alice@example.com");
    let mut body = request();
    body["link_type"] = json!("public");
    let (s, b) = post(&env, &t, &body).await;
    assert_eq!((s, b["error"].as_str()), (422, Some("validation_failed")));
    assert!(b["details"]["link_type"].is_string());

    body["link_type"] = json!("trusts");
    body["access_code"] = Value::Null;
    let (s, b) = post(&env, &t, &body).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (422, Some("access_code_required"))
    );
    assert_eq!(env.bot.requests().len(), 0);

    body.as_object_mut().unwrap().remove("link_type");
    let (s, b) = post(&env, &t, &body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(env.bot.requests()[0].body["link"]["link_type"], "corporate");
    env.srv.stop().await;

    // deny_link_type: the default whatever the body says
    let Some(env) = TestEnv::start(backend, |c| {
        c.policy.deny_link_type = true;
        c.policy.default_link_type = "trusts".into();
    })
    .await
    else {
        return;
    };
    let t = env.token("alice@example.com");
    let mut body = request();
    body["link_type"] = json!("public");
    let (s, _) = post(&env, &t, &body).await;
    assert_eq!(s, 201);
    assert_eq!(env.bot.requests()[0].body["link"]["link_type"], "trusts");
    env.srv.stop().await;
}

async fn every_bot_error_maps_as_documented(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| c.bot.timeout_secs = 1).await else {
        return;
    };
    let t = env.token("alice@example.com");
    let cases = [
        (400, "creator_not_found", 422),
        (400, "actor_not_found", 422),
        (400, "no_users_found", 422),
        (400, "invalid_attributes", 422),
        (400, "start_at_later_than_end_at", 422),
        (400, "end_at_earlier_than_now", 422),
        (400, "not_permitted", 403),
        (404, "conference_not_found", 404),
        (503, "multiple_users_found_by_email", 409),
        (503, "multiple_users_found_by_ad_login", 409),
    ];
    for (bot_status, reason, want) in cases {
        env.bot.set_mode(BotMode::Reason(bot_status, reason.into()));
        let r = env
            .srv
            .http
            .post(env.core("/api/conferences"))
            .bearer_auth(&t)
            .header("accept-language", "ru")
            .json(&request())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "{reason}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"], reason);
        assert!(!b["message"].as_str().unwrap().is_empty());
    }
    // Russian text for the guide's most common failure
    env.bot
        .set_mode(BotMode::Reason(400, "creator_not_found".into()));
    let r = env
        .srv
        .http
        .post(env.core("/api/conferences"))
        .bearer_auth(&t)
        .header("accept-language", "ru-RU,ru;q=0.9")
        .json(&request())
        .send()
        .await
        .unwrap();
    let b: Value = r.json().await.unwrap();
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("не зарегистрирован"),
        "{b}"
    );

    let transport = [
        (BotMode::Empty401, 502, "bot_auth_failed"),
        (BotMode::Html500, 502, "bot_unavailable"),
        (BotMode::Slow(Duration::from_secs(3)), 504, "bot_timeout"),
    ];
    for (mode, status, code) in transport {
        env.bot.set_mode(mode.clone());
        let (s, b) = post(&env, &t, &request()).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (status, Some(code)),
            "{mode:?}: {b}"
        );
        assert!(!b.to_string().contains(BOT_TOKEN));
        assert!(!b.to_string().contains("<html>"));
    }
    // the bot goes away: refused connection
    env.bot.stop().await;
    let (s, b) = post(&env, &t, &request()).await;
    assert_eq!((s, b["error"].as_str()), (502, Some("bot_unavailable")));
    // nothing was recorded for failed bookings
    let list: Value = env
        .srv
        .http
        .get(env.core("/api/conferences"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["conferences"], json!([]));
    let metrics = env
        .srv
        .http
        .get(env.core("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("xmeet_bot_calls_total{operation=\"create\",outcome=\"timeout\"}"),
        "{metrics}"
    );
    env.srv.stop().await;
}

async fn wrong_bot_token_is_bot_auth_failed(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| {
        c.bot.token = xmeet::config::Secret::new("Bearer wrong-token");
    })
    .await
    else {
        return;
    };
    let (s, b) = post(&env, &env.token("alice@example.com"), &request()).await;
    assert_eq!((s, b["error"].as_str()), (502, Some("bot_auth_failed")));
    // the configured "Bearer " prefix was not doubled
    assert_eq!(
        env.bot.requests()[0].authorization.as_deref(),
        Some("Bearer wrong-token")
    );
    env.srv.stop().await;
}

async fn idempotent_retries_book_once(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let t = env.token("alice@example.com");
    let body = request();
    let send = |key: &'static str| {
        let (http, url, t, body) = (
            env.srv.http.clone(),
            env.core("/api/conferences"),
            t.clone(),
            body.clone(),
        );
        async move {
            let r = http
                .post(url)
                .bearer_auth(t)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s1, b1) = send("key-1").await;
    let (s2, b2) = send("key-1").await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(b1, b2);
    assert_eq!(env.bot.count("POST"), 1);

    // the same key with another body is refused
    let r = env.srv.http.post(env.core("/api/conferences")).bearer_auth(&t).header("Idempotency-Key", "key-1")
        .json(&json!({"name": "Other", "start_at": body["start_at"], "end_at": body["end_at"], "members": []}))
        .send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "idempotency_key_reused"
    );

    // another person may use the same key for their own booking
    let bob = env.token("bob@example.com");
    let r = env
        .srv
        .http
        .post(env.core("/api/conferences"))
        .bearer_auth(&bob)
        .header("Idempotency-Key", "key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(env.bot.count("POST"), 2);

    // concurrent retries while the bot is slow: one bot call, one answer for all
    env.bot.clear();
    env.bot.set_mode(BotMode::Slow(Duration::from_millis(700)));
    let all = futures_util::future::join_all((0..6).map(|_| send("key-2"))).await;
    assert_eq!(
        env.bot.count("POST"),
        1,
        "concurrent retries must book once"
    );
    let first = &all[0].1;
    for (s, b) in &all {
        assert_eq!(*s, 201, "{b}");
        assert_eq!(b["call_id"], first["call_id"]);
    }

    // a failure a retry may fix does not stick to the key
    env.bot.clear();
    env.bot.set_mode(BotMode::Html500);
    assert_eq!(send("key-3").await.0, 502);
    env.bot.set_mode(BotMode::Ok);
    assert_eq!(send("key-3").await.0, 201);
    assert_eq!(env.bot.count("POST"), 2);
    env.srv.stop().await;
}

async fn nobody_reaches_someone_elses_conference(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let alice = env.token("alice@example.com");
    let mallory = env.token("mallory@example.com");
    let (_, created) = post(&env, &alice, &request()).await;
    let call_id = created["call_id"].as_str().unwrap();
    env.bot.clear();
    let url = env.core(&format!("/api/conferences/{call_id}"));
    let http = &env.srv.http;
    let r = http.get(&url).bearer_auth(&mallory).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "conference_not_found"
    );
    assert_eq!(
        http.put(&url)
            .bearer_auth(&mallory)
            .json(&json!({"name": "mine now"}))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        http.delete(&url)
            .bearer_auth(&mallory)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let r = http
        .get(env.core(&format!("/api/invitation?call_id={call_id}")))
        .bearer_auth(&mallory)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let list: Value = http
        .get(env.core("/api/conferences"))
        .bearer_auth(&mallory)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["conferences"], json!([]));
    assert!(
        env.bot.requests().is_empty(),
        "no bot call for someone else's conference"
    );
    // and without a token nothing at all
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(http.delete(&url).send().await.unwrap().status(), 401);
    env.srv.stop().await;
}

async fn change_keeps_the_policy_and_maps_bot_errors(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| {
        c.policy.password_required_link_types = vec!["public".into()];
    })
    .await
    else {
        return;
    };
    let alice = env.token("alice@example.com");
    let (_, created) = post(&env, &alice, &request()).await;
    let url = env.core(&format!(
        "/api/conferences/{}",
        created["call_id"].as_str().unwrap()
    ));
    let http = &env.srv.http;
    let r = http
        .put(&url)
        .bearer_auth(&alice)
        .json(&json!({"link_type": "public", "access_code": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "access_code_required"
    );
    let r = http
        .put(&url)
        .bearer_auth(&alice)
        .json(&json!({"start_at": "2030-01-01T12:00:00Z", "end_at": "2030-01-01T11:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    env.bot
        .set_mode(BotMode::Reason(400, "not_permitted".into()));
    let r = http
        .put(&url)
        .bearer_auth(&alice)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "not_permitted");
    env.bot.set_mode(BotMode::Ok);
    let r = http
        .put(&url)
        .bearer_auth(&alice)
        .json(&json!({"link_type": "public", "access_code": "999"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["link"]["link_type"], "public");
    assert_eq!(
        env.bot.requests().pop().unwrap().body["link"],
        json!({"link_type": "public", "access_code": "999"})
    );
    env.srv.stop().await;
}

crate::both_backends!(
    create_sends_the_documented_request,
    creator_mismatch_and_validation_make_no_bot_call,
    link_type_policy,
    every_bot_error_maps_as_documented,
    wrong_bot_token_is_bot_auth_failed,
    idempotent_retries_book_once,
    nobody_reaches_someone_elses_conference,
    change_keeps_the_policy_and_maps_bot_errors,
    host_overrides_reach_the_bot,
);

/// `http.host_overrides` replaces docker's extra_hosts: the bot's name resolves to the
/// configured address.
async fn host_overrides_reach_the_bot(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| {
        let u = url::Url::parse(&c.bot.url).unwrap();
        c.bot.url = format!("http://bot.xmeet.invalid:{}{}", u.port().unwrap(), u.path());
        c.http
            .host_overrides
            .insert("bot.xmeet.invalid".into(), "127.0.0.1".into());
    })
    .await
    else {
        return;
    };
    let (s, b) = post(&env, &env.token("alice@example.com"), &request()).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(env.bot.count("POST"), 1);
    env.srv.stop().await;
}
