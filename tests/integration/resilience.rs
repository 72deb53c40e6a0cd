//! Faults: the database, the bot, a shutdown, a template saved under load. Nothing may hang,
//! nothing may be lost, and everything must recover by itself.

use crate::fakes::{BotMode, FakeAdfs, FakeBot};
use crate::harness::{
    Backend, TcpProxy, TestDb, TestServer, configure_fakes, test_config, xmeet_bin,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn conference() -> Value {
    let start = chrono::Utc::now() + chrono::Duration::days(1);
    json!({"name": "Resilience", "start_at": start.to_rfc3339(), "end_at": (start + chrono::Duration::hours(1)).to_rfc3339(), "members": ["a@example.com"]})
}

async fn console_token(srv: &TestServer) -> String {
    let url = |p: &str| format!("{}/front/api{p}", srv.template);
    let r: Value = srv
        .http
        .post(url("/login"))
        .json(&json!({"login": "admin", "password": ""}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = r["token"].as_str().unwrap();
    let s = srv
        .http
        .post(url("/password"))
        .bearer_auth(t)
        .json(&json!({"current_password": "", "new_password": "resilient password"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 204);
    let r: Value = srv
        .http
        .post(url("/login"))
        .json(&json!({"login": "admin", "password": "resilient password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_owned()
}

/// The database goes away while xmeet runs: API calls answer 503 `database_unavailable`
/// within the pool timeout, and work again once it is back, without a restart.
async fn api_answers_503_while_the_database_is_down(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let mut c = test_config(&db);
    configure_fakes(&mut c, &adfs, &bot);
    c.database.pool_timeout_secs = 2;
    let proxy = match backend {
        Backend::Postgres => {
            let p = TcpProxy::start(
                format!("127.0.0.1:{}", db.port().unwrap_or(5432))
                    .parse()
                    .unwrap(),
            )
            .await;
            c.database.url = xmeet::db::DatabaseUrl::new(db.url_via(&p));
            Some(p)
        }
        Backend::Sqlite => None,
    };
    let srv = TestServer::start(c).await;
    let token = adfs.token_for("alice@example.com");
    let admin = console_token(&srv).await;
    let list = format!("{}/api/conferences", srv.core);
    let admins = format!("{}/front/api/admins", srv.template);
    assert_eq!(
        srv.http
            .get(&list)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let sqlite_file = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
    let moved = sqlite_file.with_extension("away");
    match &proxy {
        Some(p) => p.set_down(true),
        None => std::fs::rename(&sqlite_file, &moved).unwrap(),
    }
    for (url, auth) in [(&list, &token), (&admins, &admin)] {
        let started = Instant::now();
        let r = srv.http.get(url).bearer_auth(auth).send().await.unwrap();
        let took = started.elapsed();
        assert_eq!(r.status(), 503, "{url}");
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["error"], "database_unavailable");
        assert!(
            took < Duration::from_secs(8),
            "{url} took {took:?}: no hang beyond the pool timeout"
        );
    }
    let r = srv
        .http
        .post(&list)
        .bearer_auth(&token)
        .json(&conference())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503, "no booking while it cannot be recorded");
    assert_eq!(bot.count("POST"), 0);

    match &proxy {
        Some(p) => p.set_down(false),
        None => std::fs::rename(&moved, &sqlite_file).unwrap(),
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = srv
            .http
            .get(&list)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status();
        if s == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        srv.http
            .get(&admins)
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = srv
        .http
        .post(&list)
        .bearer_auth(&token)
        .json(&conference())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    srv.stop().await;
}

/// A bot that never answers: each create ends at the timeout with 504 and frees its worker;
/// 100 of them at once do not make the server unresponsive.
async fn a_hanging_bot_cannot_exhaust_the_server(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let mut c = test_config(&db);
    configure_fakes(&mut c, &adfs, &bot);
    c.bot.timeout_secs = 2;
    let srv = TestServer::start(c).await;
    bot.set_mode(BotMode::Slow(Duration::from_secs(120)));
    let token = adfs.token_for("alice@example.com");
    let started = Instant::now();
    let creates = futures_util::future::join_all((0..100).map(|_| {
        let (http, url, token) = (
            srv.http.clone(),
            format!("{}/api/conferences", srv.core),
            token.clone(),
        );
        async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&conference())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    }));
    let probe = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut worst = Duration::ZERO;
        for _ in 0..5 {
            let t = Instant::now();
            let s = srv
                .http
                .get(format!("{}/health/live", srv.core))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(s, 200);
            worst = worst.max(t.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        worst
    };
    let (results, worst) = tokio::join!(creates, probe);
    assert!(
        worst < Duration::from_secs(1),
        "health took {worst:?} while 100 creates hung"
    );
    for (s, b) in &results {
        assert_eq!((*s, b["error"].as_str()), (504, Some("bot_timeout")));
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // and the workers are free again
    bot.set_mode(BotMode::Ok);
    let r = srv
        .http
        .post(format!("{}/api/conferences", srv.core))
        .bearer_auth(&token)
        .json(&conference())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    srv.stop().await;
}

/// SIGTERM while a create waits for a slow bot: that request completes with 201 and its
/// conference is recorded; new connections are refused; the process exits 0.
async fn sigterm_finishes_the_booking_in_flight(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let migrate = tokio::process::Command::new(xmeet_bin())
        .arg("migrate")
        .current_dir(db.dir.path())
        .env_clear()
        .env("XMEET_DATABASE__URL", &db.url)
        .output()
        .await
        .unwrap();
    assert!(migrate.status.success());
    let mut child = tokio::process::Command::new(xmeet_bin())
        .args(["serve", "--role", "core"])
        .current_dir(db.dir.path())
        .env_clear()
        .env("XMEET_DATABASE__URL", &db.url)
        .env("XMEET_CORE__LISTEN", format!("127.0.0.1:{port}"))
        .env("XMEET_LOG__DIR", db.dir.path().join("logs"))
        .env("XMEET_BOT__URL", &bot.url)
        .env("XMEET_BOT__TOKEN", crate::fakes::BOT_TOKEN)
        .env("XMEET_ADFS__URL", &adfs.url)
        .env("XMEET_ADFS__CLIENT_ID", crate::fakes::CLIENT_ID)
        .env("XMEET_ADFS__RESOURCE", crate::fakes::RESOURCE)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http
        .get(format!("{base}/health/ready"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "xmeet did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bot.set_mode(BotMode::Slow(Duration::from_secs(2)));
    let token = adfs.token_for("alice@example.com");
    let create = tokio::spawn({
        let (http, url) = (http.clone(), format!("{base}/api/conferences"));
        async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&conference())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    });
    // the request is at the bot now
    let deadline = Instant::now() + Duration::from_secs(10);
    while bot.count("POST") == 0 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // new connections are refused soon after
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = create.await.unwrap();
    assert_eq!(status, 201, "{body}");
    let exit = child.wait().await.unwrap();
    assert_eq!(exit.code(), Some(0));
    // the conference was recorded before the process ended
    let call_id = body["call_id"].as_str().unwrap().to_owned();
    let cfg = xmeet::config::DatabaseConfig {
        url: xmeet::db::DatabaseUrl::new(db.url.clone()),
        ..Default::default()
    };
    let pool = xmeet::db::Db::connect(&cfg).unwrap();
    let found = tokio::task::spawn_blocking(move || {
        use diesel::prelude::*;
        use xmeet::db::schema::conferences::dsl as c;
        let mut conn = pool.get().unwrap();
        c::conferences
            .filter(c::call_id.eq(&call_id))
            .count()
            .get_result::<i64>(&mut conn)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(found, 1);
}

/// Invitations rendered while a template is saved: each is the old text or the new one.
async fn renders_are_old_or_new_during_a_save(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let mut c = test_config(&db);
    configure_fakes(&mut c, &adfs, &bot);
    let srv = TestServer::start(c).await;
    let admin = console_token(&srv).await;
    let templates: Value = srv
        .http
        .get(format!("{}/front/api/templates", srv.template))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let en = templates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["locale"] == "en")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let put = |html: &'static str| {
        let (http, url, admin) = (
            srv.http.clone(),
            format!("{}/front/api/templates/{en}", srv.template),
            admin.clone(),
        );
        async move {
            http.put(url)
                .bearer_auth(admin)
                .json(&json!({"html": html}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        put("<p>OLD {{ creator }}</p><p>{{ conference_name }} old</p>").await,
        200
    );
    let old = xmeet::render::wrap("<p>OLD bob@example.com</p><p> old</p>", "");
    let new = xmeet::render::wrap("<p>NEW bob@example.com</p><p> new</p>", "");
    let token = adfs.token_for("bob@example.com");
    // let every cache see the old text first
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let b: Value = srv
            .http
            .get(format!("{}/api/invitation?locale=en", srv.core))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if b["html"] == old.as_str() {
            break;
        }
        assert!(Instant::now() < deadline, "{b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let readers = futures_util::future::join_all((0..4).map(|_| {
        let (http, url, token) = (
            srv.http.clone(),
            format!("{}/api/invitation?locale=en", srv.core),
            token.clone(),
        );
        async move {
            let mut seen = Vec::new();
            for _ in 0..150 {
                let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
                let s = r.status().as_u16();
                let b: Value = r.json().await.unwrap();
                seen.push((s, b["html"].as_str().unwrap_or_default().to_owned()));
            }
            seen
        }
    }));
    let writer = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        put("<p>NEW {{ creator }}</p><p>{{ conference_name }} new</p>").await
    };
    let (seen, saved) = tokio::join!(readers, writer);
    assert_eq!(saved, 200);
    let all: Vec<(u16, String)> = seen.into_iter().flatten().collect();
    assert_eq!(all.len(), 600);
    for (s, html) in &all {
        assert_eq!(*s, 200);
        assert!(
            *html == old || *html == new,
            "a mixed or broken render: {html}"
        );
    }
    srv.stop().await;
}

crate::both_backends!(
    api_answers_503_while_the_database_is_down,
    a_hanging_bot_cannot_exhaust_the_server,
    sigterm_finishes_the_booking_in_flight,
    renders_are_old_or_new_during_a_save,
);
