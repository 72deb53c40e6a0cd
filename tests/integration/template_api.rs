//! The console API under /front/api on both backends.

use crate::harness::{Backend, TestDb, TestServer, test_config};
use serde_json::{Value, json};

struct Console {
    srv: TestServer,
    _db: TestDb,
}

impl Console {
    async fn start(
        backend: Backend,
        tweak: impl FnOnce(&mut xmeet::config::Config),
    ) -> Option<Console> {
        let db = TestDb::new(backend)?;
        let mut c = test_config(&db);
        tweak(&mut c);
        let srv = TestServer::start(c).await;
        Some(Console { srv, _db: db })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/front/api{path}", self.srv.template)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.srv.http.request(m, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn login(&self, login: &str, password: &str) -> (u16, Value) {
        self.call(
            "POST",
            "/login",
            None,
            Some(json!({"login": login, "password": password})),
        )
        .await
    }

    /// Sign in as the seeded admin, do the forced password change, return a usable token.
    async fn admin_token(&self) -> String {
        let (s, b) = self.login("admin", "").await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["must_change_password"], true);
        let first = b["token"].as_str().unwrap().to_owned();
        let (s, _) = self
            .call(
                "POST",
                "/password",
                Some(&first),
                Some(json!({"current_password": "", "new_password": "correct horse battery"})),
            )
            .await;
        assert_eq!(s, 204);
        let (s, b) = self.login("admin", "correct horse battery").await;
        assert_eq!(s, 200);
        assert_eq!(b["must_change_password"], false);
        b["token"].as_str().unwrap().to_owned()
    }
}

async fn first_sign_in_forces_a_password_change(backend: Backend) {
    let Some(c) = Console::start(backend, |_| {}).await else {
        return;
    };
    let (s, b) = c.login("admin", "").await;
    assert_eq!(s, 200);
    assert!(chrono::DateTime::parse_from_rfc3339(b["expires_at"].as_str().unwrap()).is_ok());
    let t = b["token"].as_str().unwrap().to_owned();
    for (m, p) in [
        ("GET", "/admins"),
        ("GET", "/templates"),
        ("GET", "/audit"),
        ("POST", "/preview"),
    ] {
        let (s, b) = c.call(m, p, Some(&t), Some(json!({"html": "x"}))).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (403, Some("password_change_required")),
            "{m} {p}"
        );
    }
    let (s, b) = c
        .call(
            "POST",
            "/password",
            Some(&t),
            Some(json!({"current_password": "", "new_password": "short"})),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (422, Some("validation_failed")));
    let (s, _) = c
        .call(
            "POST",
            "/password",
            Some(&t),
            Some(json!({"current_password": "wrong", "new_password": "long enough pw"})),
        )
        .await;
    assert_eq!(s, 422);
    let (s, _) = c
        .call(
            "POST",
            "/password",
            Some(&t),
            Some(json!({"current_password": "", "new_password": "long enough pw"})),
        )
        .await;
    assert_eq!(s, 204);
    // the change ends the old session; the empty password no longer works
    assert_eq!(c.call("GET", "/admins", Some(&t), None).await.0, 401);
    assert_eq!(c.login("admin", "").await.0, 401);
    let (s, b) = c.login("ADMIN", "long enough pw").await;
    assert_eq!((s, b["must_change_password"].as_bool()), (200, Some(false)));
    c.srv.stop().await;
}

async fn login_failures_and_brute_force(backend: Backend) {
    let Some(c) = Console::start(backend, |cfg| cfg.admin.max_login_failures = 3).await else {
        return;
    };
    let _ = c.admin_token().await;
    let (s1, b1) = c.login("admin", "wrong password").await;
    let (s2, b2) = c.login("nobody", "wrong password").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(
        b1, b2,
        "an unknown login answers exactly like a wrong password"
    );
    assert_eq!(b1["error"], "invalid_credentials");
    let _ = c.login("admin", "wrong again").await;
    let _ = c.login("admin", "and again").await;
    let r = c
        .srv
        .http
        .post(c.url("/login"))
        .json(&json!({"login": "admin", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        429,
        "even the right password waits once the login is locked"
    );
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    c.srv.stop().await;
}

async fn admin_crud(backend: Backend) {
    let Some(c) = Console::start(backend, |_| {}).await else {
        return;
    };
    let t = c.admin_token().await;
    let evil = "<img src=x onerror=alert(1)>";
    let (s, a) = c.call("POST", "/admins", Some(&t), Some(json!({"login": "Olga", "display_name": evil, "email": "olga@example.com", "password": "olga password 1"}))).await;
    assert_eq!(s, 201, "{a}");
    assert_eq!(a["login"], "olga");
    assert_eq!(a["display_name"], evil);
    assert!(a.get("password_hash").is_none() && a.get("password").is_none());
    let id = a["id"].as_i64().unwrap();
    let (s, _) = c
        .call(
            "POST",
            "/admins",
            Some(&t),
            Some(json!({"login": "olga", "password": "another pw 123"})),
        )
        .await;
    assert_eq!(s, 409);
    let (s, b) = c
        .call(
            "POST",
            "/admins",
            Some(&t),
            Some(json!({"login": "x", "password": "short"})),
        )
        .await;
    assert_eq!((s, b["error"].as_str()), (422, Some("validation_failed")));

    let (s, list) = c.call("GET", "/admins", Some(&t), None).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        !list.to_string().contains("argon2"),
        "no hash ever leaves the server"
    );

    // PUT accepts what GET returned
    let (_, mut got) = c
        .call("GET", &format!("/admins/{id}"), Some(&t), None)
        .await;
    got["display_name"] = json!("Olga P.");
    let (s, upd) = c
        .call("PUT", &format!("/admins/{id}"), Some(&t), Some(got))
        .await;
    assert_eq!(s, 200, "{upd}");
    assert_eq!(upd["display_name"], "Olga P.");

    // the new admin signs in; deleting her ends her session at once
    let (s, b) = c.login("olga", "olga password 1").await;
    assert_eq!(s, 200);
    let olga = b["token"].as_str().unwrap().to_owned();
    assert_eq!(c.call("GET", "/admins", Some(&olga), None).await.0, 200);
    assert_eq!(
        c.call("DELETE", &format!("/admins/{id}"), Some(&t), None)
            .await
            .0,
        204
    );
    assert_eq!(c.call("GET", "/admins", Some(&olga), None).await.0, 401);
    assert_eq!(
        c.call("GET", &format!("/admins/{id}"), Some(&t), None)
            .await
            .0,
        404
    );

    // the last admin stays
    let (_, list) = c.call("GET", "/admins", Some(&t), None).await;
    let me = list[0]["id"].as_i64().unwrap();
    let (s, b) = c
        .call("DELETE", &format!("/admins/{me}"), Some(&t), None)
        .await;
    assert_eq!((s, b["error"].as_str()), (409, Some("last_admin")));
    c.srv.stop().await;
}

async fn console_tokens_are_checked(backend: Backend) {
    let Some(c) = Console::start(backend, |cfg| {
        cfg.admin.jwt_key = xmeet::config::Secret::new("test-console-key-0123456789");
        cfg.admin.jwt_issuer = "http://127.0.0.1".into();
        cfg.admin.jwt_audience = "http://127.0.0.1".into();
    })
    .await
    else {
        return;
    };
    let good = c.admin_token().await;
    assert_eq!(c.call("GET", "/admins", Some(&good), None).await.0, 200);
    // take the admin id out of the good token
    let claims: Value = {
        use base64::Engine;
        let part = good.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    let now = chrono::Utc::now().timestamp();
    let make = |key: &str, iss: &str, aud: &str, exp: i64| {
        let body = json!({"sub": claims["sub"], "ver": claims["ver"], "iss": iss, "aud": aud, "iat": now, "exp": exp});
        jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &body,
            &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let key = "test-console-key-0123456789";
    let local = "http://127.0.0.1";
    assert_eq!(
        c.call(
            "GET",
            "/admins",
            Some(&make(key, local, local, now + 600)),
            None
        )
        .await
        .0,
        200,
        "a token made the same way works"
    );
    for (what, tok) in [
        (
            "wrong key",
            make("another-key-0123456789", local, local, now + 600),
        ),
        ("wrong issuer", make(key, "http://evil", local, now + 600)),
        ("wrong audience", make(key, local, "http://evil", now + 600)),
        ("expired", make(key, local, local, now - 600)),
        ("garbage", "abc.def.ghi".into()),
    ] {
        let (s, b) = c.call("GET", "/admins", Some(&tok), None).await;
        assert_eq!(
            (s, b["error"].as_str()),
            (401, Some("invalid_token")),
            "{what}"
        );
    }
    assert_eq!(c.call("GET", "/admins", None, None).await.0, 401);
    c.srv.stop().await;
}

async fn templates_history_and_audit(backend: Backend) {
    let Some(c) = Console::start(backend, |_| {}).await else {
        return;
    };
    let t = c.admin_token().await;
    let (_, list) = c.call("GET", "/templates", Some(&t), None).await;
    let en_seed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["locale"] == "en")
        .unwrap()
        .clone();
    assert_eq!(en_seed["active"], true);

    let (s, b) = c.call("POST", "/templates", Some(&t), Some(json!({"name": "Broken", "locale": "en", "html": "<p>ok</p>\n<p>{% if x %}never closed</p>"}))).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (422, Some("template_syntax_error")),
        "{b}"
    );
    assert!(b["details"]["line"].as_u64().is_some());
    assert!(b["message"].as_str().unwrap().contains("line"));

    let (s, created) = c.call("POST", "/templates", Some(&t), Some(json!({"name": "Corporate EN", "locale": "en", "html": "<p>v1 {{ conference_link }}</p>", "active": true}))).await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["version"], 1);
    // at most one active per locale: the seeded one was switched off
    let (_, seed_now) = c
        .call(
            "GET",
            &format!("/templates/{}", en_seed["id"]),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(seed_now["active"], false);

    // edits keep every earlier text
    let (_, mut got) = c
        .call("GET", &format!("/templates/{id}"), Some(&t), None)
        .await;
    got["html"] = json!("<p>v2</p>");
    let (s, v2) = c
        .call("PUT", &format!("/templates/{id}"), Some(&t), Some(got))
        .await;
    assert_eq!((s, v2["version"].as_i64()), (200, Some(2)));
    let (_, v3) = c
        .call(
            "PUT",
            &format!("/templates/{id}"),
            Some(&t),
            Some(json!({"html": "<p>v3</p>"})),
        )
        .await;
    assert_eq!(v3["version"], 3);
    let (s, hist) = c
        .call("GET", &format!("/templates/{id}/history"), Some(&t), None)
        .await;
    assert_eq!(s, 200);
    let versions: Vec<i64> = hist
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, vec![2, 1], "earlier versions, newest first");
    assert_eq!(hist[1]["html"], "<p>v1 {{ conference_link }}</p>");
    assert_eq!(hist[1]["saved_by"], "admin");

    let (s, restored) = c
        .call(
            "POST",
            &format!("/templates/{id}/history/1/restore"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(restored["html"], "<p>v1 {{ conference_link }}</p>");
    assert_eq!(restored["version"], 4);
    let (_, hist) = c
        .call("GET", &format!("/templates/{id}/history"), Some(&t), None)
        .await;
    assert_eq!(
        hist[0]["html"], "<p>v3</p>",
        "the replaced text became a version too"
    );
    assert_eq!(
        c.call(
            "POST",
            &format!("/templates/{id}/history/99/restore"),
            Some(&t),
            None
        )
        .await
        .0,
        404
    );

    let (s, p) = c.call("POST", "/preview", Some(&t), Some(json!({"html": "<a href=\"{{conference_link}}\">{{ conference_name }}</a>", "locale": "en"}))).await;
    assert_eq!(s, 200);
    assert!(
        p["html"]
            .as_str()
            .unwrap()
            .contains("https://cts.example/join/"),
        "{p}"
    );
    assert_eq!(
        c.call(
            "POST",
            "/preview",
            Some(&t),
            Some(json!({"html": "{{ broken"}))
        )
        .await
        .0,
        422
    );

    assert_eq!(
        c.call("DELETE", &format!("/templates/{id}"), Some(&t), None)
            .await
            .0,
        204
    );
    assert_eq!(
        c.call("GET", &format!("/templates/{id}"), Some(&t), None)
            .await
            .0,
        404
    );

    let (s, audit) = c.call("GET", "/audit", Some(&t), None).await;
    assert_eq!(s, 200);
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "template.delete",
        "template.restore",
        "template.update",
        "template.create",
        "admin.password_change",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert_eq!(audit[0]["action"], "template.delete");
    assert_eq!(audit[0]["actor"], "admin");
    assert_eq!(
        audit[0]["details"]["html"], "<p>v1 {{ conference_link }}</p>",
        "a deleted text stays in the audit log"
    );
    c.srv.stop().await;
}

async fn console_is_served_with_security_headers(backend: Backend) {
    let Some(c) = Console::start(backend, |_| {}).await else {
        return;
    };
    let r = c
        .srv
        .http
        .get(format!("{}/front", c.srv.template))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let html = r.text().await.unwrap();
    assert!(html.contains("/front/assets/app.js"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN"
    );
    for asset in [
        "app.js",
        "i18n.js",
        "app.css",
        "vendor/jodit/jodit.fat.min.js",
        "vendor/jodit/jodit.fat.min.css",
    ] {
        let r = c
            .srv
            .http
            .get(format!("{}/front/assets/{asset}", c.srv.template))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
    assert_eq!(
        c.srv
            .http
            .get(format!("{}/front/assets/nope.js", c.srv.template))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    c.srv.stop().await;
}

crate::both_backends!(
    first_sign_in_forces_a_password_change,
    login_failures_and_brute_force,
    admin_crud,
    console_tokens_are_checked,
    templates_history_and_audit,
    console_is_served_with_security_headers,
);

/// The generated console key is kept in the database: a token survives a restart.
#[actix_web::test]
async fn generated_key_survives_a_restart() {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let c1 = Console {
        srv: TestServer::start(test_config(&db)).await,
        _db: TestDb::new(Backend::Sqlite).unwrap(),
    };
    let t = c1.admin_token().await;
    c1.srv.stop().await;
    let c2 = Console {
        srv: TestServer::start(test_config(&db)).await,
        _db: TestDb::new(Backend::Sqlite).unwrap(),
    };
    assert_eq!(c2.call("GET", "/admins", Some(&t), None).await.0, 200);
    c2.srv.stop().await;
}

/// SPEC §5, the console API.
const SPEC_ROUTES: &[(&str, &str)] = &[
    ("post", "/front/api/login"),
    ("post", "/front/api/password"),
    ("get", "/front/api/admins"),
    ("post", "/front/api/admins"),
    ("get", "/front/api/admins/{id}"),
    ("put", "/front/api/admins/{id}"),
    ("delete", "/front/api/admins/{id}"),
    ("get", "/front/api/templates"),
    ("post", "/front/api/templates"),
    ("get", "/front/api/templates/{id}"),
    ("put", "/front/api/templates/{id}"),
    ("delete", "/front/api/templates/{id}"),
    ("get", "/front/api/templates/{id}/history"),
    (
        "post",
        "/front/api/templates/{id}/history/{version}/restore",
    ),
    ("post", "/front/api/preview"),
    ("get", "/front/api/audit"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
];

async fn openapi_covers_the_console_api(backend: Backend) {
    let Some(c) = Console::start(backend, |_| {}).await else {
        return;
    };
    let doc: Value = c
        .srv
        .http
        .get(format!("{}/api/openapi.json", c.srv.template))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in SPEC_ROUTES {
        assert!(
            paths.get(*path).and_then(|p| p.get(*method)).is_some(),
            "{method} {path} missing"
        );
    }
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let url = format!(
                "{}{}",
                c.srv.template,
                path.replace("{id}", "1").replace("{version}", "1")
            );
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = c
                .srv
                .http
                .request(m, &url)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_ne!(r.status(), 405, "{method} {path}");
            if r.status() == 404 {
                let b: Value = r.json().await.unwrap();
                assert!(
                    !b["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("There is nothing at this address"),
                    "{method} {path} is not routed"
                );
            }
        }
    }
    c.srv.stop().await;
}

mod openapi {
    use super::*;
    crate::both_backends!(openapi_covers_the_console_api);
}
