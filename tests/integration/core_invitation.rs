//! Invitations: placeholders, escaping, conditional blocks, the locale chain.

use crate::fakes::BotMode;
use crate::harness::{Backend, TestEnv};
use diesel::prelude::*;
use serde_json::{Value, json};
use xmeet::db::schema::templates;

async fn invitation(env: &TestEnv, token: &str, query: &str) -> (u16, Value) {
    let r = env
        .srv
        .http
        .get(env.core(&format!("/api/invitation{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

fn template_ids(env: &TestEnv) -> (i64, i64) {
    let mut c = env.srv.db.get().unwrap();
    let ru: i64 = templates::table
        .filter(templates::locale.eq("ru"))
        .select(templates::id)
        .first(&mut c)
        .unwrap();
    let en: i64 = templates::table
        .filter(templates::locale.eq("en"))
        .select(templates::id)
        .first(&mut c)
        .unwrap();
    (ru, en)
}

async fn placeholders_are_filled_and_escaped(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    env.bot.set_sip_number(Some("8005551234"));
    let t = env.token("alice@example.com");
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let body = json!({
        "name": "<script>alert(1)</script> & co",
        "start_at": start.to_rfc3339(),
        "end_at": (start + chrono::Duration::minutes(30)).to_rfc3339(),
        "members": [],
        "access_code": null,
    });
    let r = env
        .srv
        .http
        .post(env.core("/api/conferences"))
        .bearer_auth(&t)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let call_id = created["call_id"].as_str().unwrap();
    let (s, inv) = invitation(&env, &t, &format!("?locale=en-GB&call_id={call_id}")).await;
    assert_eq!(s, 200, "{inv}");
    let html = inv["html"].as_str().unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
        "{html}"
    );
    assert!(!html.contains("<script>"));
    assert!(html.contains(created["link"]["link"].as_str().unwrap()));
    assert!(
        html.contains("8005551234"),
        "SIP number from the bot: {html}"
    );
    assert!(html.contains("alice@example.com"));
    // no access code: the conditional line is hidden
    assert!(!html.contains("Access code"), "{html}");
    assert!(html.contains(&format!("data-call-id=\"{call_id}\"")));

    // with an access code the line is there
    let mut with_code = body.clone();
    with_code["access_code"] = json!("2468");
    with_code["name"] = json!("Second");
    let r = env
        .srv
        .http
        .post(env.core("/api/conferences"))
        .bearer_auth(&t)
        .json(&with_code)
        .send()
        .await
        .unwrap();
    let created: Value = r.json().await.unwrap();
    let html = created["invitation"]["html"].as_str().unwrap();
    assert!(
        html.contains("Access code") && html.contains("2468"),
        "{html}"
    );
    env.bot.set_mode(BotMode::Ok);
    env.srv.stop().await;
}

async fn locale_chain(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let t = env.token("alice@example.com");
    let (ru, en) = template_ids(&env);
    let (_, inv) = invitation(&env, &t, "?locale=ru-RU").await;
    assert_eq!(
        (inv["locale"].as_str(), inv["template_id"].as_i64()),
        (Some("ru"), Some(ru))
    );
    assert!(inv["html"].as_str().unwrap().contains("Подключиться"));
    let (_, inv) = invitation(&env, &t, "?locale=en").await;
    assert_eq!(inv["template_id"].as_i64(), Some(en));
    // unknown language → templates.default_locale (en)
    let (_, inv) = invitation(&env, &t, "?locale=de-DE").await;
    assert_eq!(inv["template_id"].as_i64(), Some(en));
    // no locale: Accept-Language
    let r = env
        .srv
        .http
        .get(env.core("/api/invitation"))
        .bearer_auth(&t)
        .header("accept-language", "ru-RU,ru;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["template_id"].as_i64(),
        Some(ru)
    );

    // the default locale has no active template: any active one
    {
        let mut c = env.srv.db.get().unwrap();
        diesel::update(templates::table.filter(templates::id.eq(en)))
            .set(templates::active.eq(false))
            .execute(&mut c)
            .unwrap();
        xmeet::render::bump_generation(&mut c).unwrap();
    }
    // the change reaches the renderer through the generation row (within its 1 s recheck)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, inv) = invitation(&env, &t, "?locale=fr-FR").await;
        if inv["template_id"].as_i64() == Some(ru) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {inv}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (s, _) = invitation(&env, &t, "?call_id=no-such-call").await;
    assert_eq!(s, 404);
    let r = env
        .srv
        .http
        .get(env.core("/api/invitation"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    env.srv.stop().await;
}

crate::both_backends!(placeholders_are_filled_and_escaped, locale_chain);
