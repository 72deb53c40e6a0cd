//! AD FS sign-in and access-token checks of the core role.

use crate::fakes::{self, FakeAdfs, RsaKey};
use crate::harness::{Backend, TestEnv};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

async fn me(env: &TestEnv, token: &str) -> (u16, Value, Option<String>) {
    let r = env
        .srv
        .http
        .get(env.core("/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let www = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, r.json().await.unwrap(), www)
}

async fn assert_rejected(env: &TestEnv, token: &str, what: &str) {
    let (status, body, www) = me(env, token).await;
    assert_eq!(status, 401, "{what}: {body}");
    assert_eq!(body["error"], "invalid_token", "{what}");
    assert!(
        www.is_some_and(|w| w.starts_with("Bearer")),
        "{what}: no WWW-Authenticate"
    );
}

fn with(mut claims: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    f(claims.as_object_mut().unwrap());
    claims
}

async fn token_checks(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let email = "Alice.Smith@Example.COM";
    let good = env.token(email);
    let (status, body, _) = me(&env, &good).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"email": "alice.smith@example.com", "name": "Test User"})
    );

    let now = chrono::Utc::now().timestamp();
    let base = FakeAdfs::claims("bob@example.com");
    let key = env.adfs.current_key();

    // alg: none
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"key-1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(base.to_string());
    assert_rejected(&env, &format!("{header}.{payload}."), "alg none").await;

    // HS256 signed with the RSA public key as the secret
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    h.kid = Some(key.kid.clone());
    let hs = jsonwebtoken::encode(
        &h,
        &base,
        &jsonwebtoken::EncodingKey::from_secret(&key.public_der).unwrap(),
    )
    .unwrap();
    assert_rejected(&env, &hs, "HS256 with the public key").await;

    let cases = [
        (
            "expired beyond leeway",
            with(base.clone(), |c| {
                c.insert("exp".into(), json!(now - 400));
            }),
        ),
        (
            "nbf beyond leeway",
            with(base.clone(), |c| {
                c.insert("nbf".into(), json!(now + 400));
            }),
        ),
        (
            "wrong aud",
            with(base.clone(), |c| {
                c.insert("aud".into(), json!("http://other.test"));
            }),
        ),
        (
            "wrong iss",
            with(base.clone(), |c| {
                c.insert("iss".into(), json!("http://evil.test/adfs/services/trust"));
            }),
        ),
        (
            "discovery issuer instead of access_token_issuer",
            with(base.clone(), |c| {
                c.insert("iss".into(), json!(format!("{}/adfs", env.adfs.url)));
            }),
        ),
        (
            "no e-mail claim",
            with(base.clone(), |c| {
                c.remove("email");
                c.remove("upn");
            }),
        ),
    ];
    for (what, claims) in cases {
        assert_rejected(&env, &env.adfs.sign(&claims), what).await;
    }

    // unknown kid
    let stranger = RsaKey::generate("unknown-kid");
    assert_rejected(&env, &FakeAdfs::sign_with(&stranger, &base), "unknown kid").await;

    // tampered payload: another e-mail under the original signature
    let parts: Vec<&str> = good.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(FakeAdfs::claims("mallory@example.com").to_string());
    assert_rejected(
        &env,
        &format!("{}.{forged}.{}", parts[0], parts[2]),
        "tampered payload",
    )
    .await;

    // garbage and a missing header
    assert_rejected(&env, "not-a-jwt", "garbage").await;
    let r = env.srv.http.get(env.core("/api/me")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // inside the leeway is fine; upn stands in for a missing email claim
    let lenient = with(base.clone(), |c| {
        c.insert("exp".into(), json!(now - 100));
        c.remove("email");
        c.insert("upn".into(), json!("Carol@Example.com"));
    });
    let (status, body, _) = me(&env, &env.adfs.sign(&lenient)).await;
    assert_eq!(
        (status, body["email"].as_str()),
        (200, Some("carol@example.com"))
    );

    // the rejections are counted by reason
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
    for reason in [
        "algorithm",
        "expired",
        "audience",
        "issuer",
        "no_email",
        "unknown_key",
        "signature",
        "malformed",
        "missing",
    ] {
        assert!(
            metrics.contains(&format!(
                "xmeet_token_rejections_total{{reason=\"{reason}\"}}"
            )),
            "{reason} not counted:\n{metrics}"
        );
    }
    env.srv.stop().await;
}

async fn key_rotation_and_adfs_outage(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let (s, _, _) = me(&env, &env.token("dave@example.com")).await;
    assert_eq!(s, 200);

    // AD FS publishes a new key and signs with it: accepted without restart
    let fetches = env.adfs.jwks_fetches();
    let new_key = env.adfs.rotate("key-2");
    let rotated = FakeAdfs::sign_with(&new_key, &FakeAdfs::claims("dave@example.com"));
    let (s, b, _) = me(&env, &rotated).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        env.adfs.jwks_fetches(),
        fetches + 1,
        "one refetch for the new kid"
    );
    // a second unknown kid within 30 s causes no further fetch
    let stranger = RsaKey::generate("key-x");
    assert_rejected(
        &env,
        &FakeAdfs::sign_with(&stranger, &FakeAdfs::claims("dave@example.com")),
        "unknown kid",
    )
    .await;
    assert_eq!(
        env.adfs.jwks_fetches(),
        fetches + 1,
        "refetch is rate-limited"
    );

    // AD FS goes away: new tokens signed with the cached keys still pass
    env.adfs.stop().await;
    let fresh = FakeAdfs::sign_with(
        &new_key,
        &with(FakeAdfs::claims("erin@example.com"), |c| {
            c.insert("jti".into(), json!("another-token"));
        }),
    );
    let (s, b, _) = me(&env, &fresh).await;
    assert_eq!((s, b["email"].as_str()), (200, Some("erin@example.com")));
    // an unknown key cannot be checked while AD FS is down
    let stranger = RsaKey::generate("key-3");
    assert_rejected(
        &env,
        &FakeAdfs::sign_with(&stranger, &FakeAdfs::claims("x@example.com")),
        "unknown kid, AD FS down",
    )
    .await;
    env.srv.stop().await;
}

async fn sign_in_flow(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |_| {}).await else {
        return;
    };
    let http = &env.srv.http;
    let s: Value = http
        .get(env.core("/api/auth/settings"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        s["authorize_url"],
        format!("{}/adfs/oauth2/authorize/", env.adfs.url)
    );
    assert_eq!(s["client_id"], fakes::CLIENT_ID);
    assert_eq!(s["resource"], fakes::RESOURCE);
    assert_eq!(s["redirect_uri"], "http://127.0.0.1:4414");

    env.adfs.add_code("code-1", "frank@example.com");
    let r = http
        .post(env.core("/api/auth/token"))
        .json(&json!({"code": "code-1", "redirect_uri": "http://127.0.0.1:4415"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["expires_in"], 3600);
    assert!(t.get("id_token").is_none());
    let sent = env.adfs.token_requests().pop().unwrap();
    assert_eq!(sent["grant_type"], "authorization_code");
    assert_eq!(sent["resource"], fakes::RESOURCE);
    assert_eq!(sent["client_secret"], fakes::CLIENT_SECRET);
    assert_eq!(sent["redirect_uri"], "http://127.0.0.1:4415");
    let (status, body, _) = me(&env, t["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["email"].as_str()),
        (200, Some("frank@example.com"))
    );

    // the code is used up
    let r = http
        .post(env.core("/api/auth/token"))
        .json(&json!({"code": "code-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let r = http
        .post(env.core("/api/auth/refresh"))
        .json(&json!({"refresh_token": t["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["access_token"].is_string());

    let r = http
        .post(env.core("/api/auth/token"))
        .json(&json!({"code": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    // AD FS down: 502 adfs_unavailable, quickly
    env.adfs.stop().await;
    let started = std::time::Instant::now();
    let r = http
        .post(env.core("/api/auth/token"))
        .json(&json!({"code": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "adfs_unavailable"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    env.srv.stop().await;
}

async fn wrong_client_secret_is_an_operator_problem(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| {
        c.adfs.client_secret = xmeet::config::Secret::new("wrong-secret");
    })
    .await
    else {
        return;
    };
    env.adfs.add_code("code-2", "gina@example.com");
    let r = env
        .srv
        .http
        .post(env.core("/api/auth/token"))
        .header("accept-language", "ru-RU")
        .json(&json!({"code": "code-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["error"], "adfs_client_rejected");
    assert!(
        b["message"].as_str().unwrap().contains("AD FS отклонил"),
        "{b}"
    );
    assert!(!b.to_string().contains("wrong-secret"));
    env.srv.stop().await;
}

async fn client_config_is_the_policy(backend: Backend) {
    let Some(env) = TestEnv::start(backend, |c| {
        c.policy.default_link_type = "trusts".into();
        c.policy.allowed_link_types = vec!["trusts".into(), "corporate".into()];
        c.policy.password_required_link_types = vec!["trusts".into()];
        c.policy.background_token_refresh = true;
        c.policy.token_refresh_period_secs = 600;
    })
    .await
    else {
        return;
    };
    let b: Value = env
        .srv
        .http
        .get(env.core("/api/client-config"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        b,
        json!({
            "default_link_type": "trusts",
            "allowed_link_types": ["trusts", "corporate"],
            "deny_link_type": false,
            "password_required_link_types": ["trusts"],
            "background_token_refresh": true,
            "token_refresh_period_secs": 600
        })
    );
    env.srv.stop().await;
}

crate::both_backends!(
    token_checks,
    key_rotation_and_adfs_outage,
    sign_in_flow,
    wrong_client_secret_is_an_operator_problem,
    client_config_is_the_policy,
);
