//! `xmeet bot-check` against the fake bot and fake AD FS, run as an administrator would.

use crate::fakes::{self, BOT_TOKEN, FakeAdfs, FakeBot};
use crate::harness::{Backend, TestDb, xmeet_bin};
use serde_json::Value;
use std::sync::Arc;

struct Run {
    code: i32,
    out: String,
}

async fn bot_check(db: &TestDb, env: &[(&str, String)], args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(xmeet_bin());
    cmd.arg("bot-check")
        .args(args)
        .current_dir(db.dir.path())
        .env_clear()
        .env("XMEET_DATABASE__URL", &db.url)
        .env("XMEET_LOG__LEVEL", "error");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().await.expect("run bot-check");
    Run {
        code: o.status.code().unwrap_or(-1),
        out: format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    }
}

/// A migrated SQLite database, so the database step is ok.
fn migrated_db() -> TestDb {
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let o = std::process::Command::new(xmeet_bin())
        .arg("migrate")
        .current_dir(db.dir.path())
        .env_clear()
        .env("XMEET_DATABASE__URL", &db.url)
        .output()
        .unwrap();
    assert!(o.status.success());
    db
}

fn env_for(adfs: &FakeAdfs, bot_url: &str, token: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("XMEET_BOT__URL", bot_url.to_owned()),
        ("XMEET_ADFS__URL", adfs.url.clone()),
        ("XMEET_ADFS__CLIENT_ID", fakes::CLIENT_ID.to_owned()),
        ("XMEET_ADFS__CLIENT_SECRET", fakes::CLIENT_SECRET.to_owned()),
        ("XMEET_ADFS__RESOURCE", fakes::RESOURCE.to_owned()),
    ];
    if let Some(t) = token {
        env.push(("XMEET_BOT__TOKEN", t.to_owned()));
    }
    env
}

fn line<'a>(out: &'a str, step: &str) -> &'a str {
    out.lines()
        .find(|l| l.len() > 6 && l[6..].starts_with(step))
        .unwrap_or_else(|| panic!("no step `{step}` in:\n{out}"))
}

fn status_of(out: &str, step: &str) -> String {
    line(out, step)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn protected_bot_with_the_right_token_is_all_ok() {
    let db = migrated_db();
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let r = bot_check(&db, &env_for(&adfs, &bot.url, Some(BOT_TOKEN)), &[]).await;
    assert_eq!(r.code, 0, "{}", r.out);
    for step in [
        "configuration",
        "database",
        "bot host resolves",
        "bot TCP connect",
        "bot TLS",
        "bot refuses unauthenticated calls",
        "bot accepts our credentials",
        "AD FS discovery",
        "AD FS keys (JWKS)",
        "AD FS client credentials",
    ] {
        assert_eq!(status_of(&r.out, step), "ok", "{step}:\n{}", r.out);
    }
    assert!(!r.out.contains("warn  "), "{}", r.out);
    assert!(!r.out.contains(BOT_TOKEN));
    // the probe created nothing: only POSTs that the bot answered with an error
    assert!(
        bot.requests()
            .iter()
            .all(|q| q.body.get("creator").is_none())
    );
}

#[actix_web::test]
async fn a_bot_open_to_anyone_is_a_warning() {
    let db = migrated_db();
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start_with(None).await);
    let r = bot_check(&db, &env_for(&adfs, &bot.url, None), &[]).await;
    assert_eq!(r.code, 0, "{}", r.out);
    let l = line(&r.out, "bot refuses unauthenticated calls");
    assert!(l.starts_with("warn") && l.contains("anyone"), "{}", r.out);
    assert!(
        r.out.contains("BEARER_TOKEN"),
        "the hint says how to protect it"
    );
}

#[actix_web::test]
async fn a_wrong_token_fails_naming_the_key() {
    let db = migrated_db();
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let r = bot_check(
        &db,
        &env_for(
            &adfs,
            &bot.url,
            Some("Bearer Wrong-token-0123456789abcdefXYZ"),
        ),
        &[],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.out);
    assert_eq!(status_of(&r.out, "bot accepts our credentials"), "fail");
    assert!(
        r.out.contains("ExpressOptions__Token") && r.out.contains("bot.token"),
        "{}",
        r.out
    );
    assert!(!r.out.contains("Wrong-token"), "the token never shows");
    // the AD FS steps ran all the same
    assert_eq!(status_of(&r.out, "AD FS client credentials"), "ok");
}

#[actix_web::test]
async fn an_unreachable_bot_fails_at_tcp_and_adfs_is_still_checked() {
    let db = migrated_db();
    let adfs = FakeAdfs::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/api/v1/conference_bot/conferences/");
    let r = bot_check(
        &db,
        &env_for(&adfs, &url, Some(BOT_TOKEN)),
        &["--timeout", "3"],
    )
    .await;
    assert_eq!(r.code, 1, "{}", r.out);
    assert_eq!(status_of(&r.out, "bot host resolves"), "ok");
    assert_eq!(status_of(&r.out, "bot TCP connect"), "fail");
    assert_eq!(status_of(&r.out, "bot accepts our credentials"), "skip");
    assert_eq!(status_of(&r.out, "AD FS discovery"), "ok");
    assert_eq!(status_of(&r.out, "AD FS client credentials"), "ok");
}

#[actix_web::test]
async fn wrong_adfs_secret_is_invalid_client() {
    let db = migrated_db();
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let mut env = env_for(&adfs, &bot.url, Some(BOT_TOKEN));
    env.retain(|(k, _)| *k != "XMEET_ADFS__CLIENT_SECRET");
    env.push(("XMEET_ADFS__CLIENT_SECRET", "not-the-secret".into()));
    let r = bot_check(&db, &env, &[]).await;
    assert_eq!(r.code, 1);
    let l = line(&r.out, "AD FS client credentials");
    assert!(
        l.starts_with("fail") && l.contains("invalid_client"),
        "{}",
        r.out
    );
    assert!(r.out.contains("ServiceClientSecret"));
    assert!(!r.out.contains("not-the-secret"));
}

#[actix_web::test]
async fn create_and_cleanup_make_exactly_one_conference() {
    let db = migrated_db();
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let r = bot_check(
        &db,
        &env_for(&adfs, &bot.url, Some(BOT_TOKEN)),
        &[
            "--create",
            "--creator",
            "User001@mydomain.com",
            "--members",
            "user002@mydomain.com",
            "--cleanup",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}", r.out);
    let created: Vec<_> = bot
        .requests()
        .into_iter()
        .filter(|q| q.body.get("creator").is_some())
        .collect();
    assert_eq!(created.len(), 1, "{:?}", bot.requests());
    assert_eq!(created[0].body["name"], "test_plugin_001");
    assert_eq!(created[0].body["creator"], "user001@mydomain.com");
    assert_eq!(
        created[0].body["members"],
        serde_json::json!(["user002@mydomain.com"])
    );
    assert_eq!(bot.count("DELETE"), 1);
    assert_eq!(status_of(&r.out, "bot deletes test_plugin_001"), "ok");
}

#[actix_web::test]
async fn json_matches_the_text_and_exit_codes() {
    let db = migrated_db();
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start_with(None).await);
    let env = env_for(&adfs, &bot.url, None);
    let text = bot_check(&db, &env, &[]).await;
    let json = bot_check(&db, &env, &["--json"]).await;
    assert_eq!(json.code, text.code);
    let doc: Value = serde_json::from_str(&json.out).expect("--json prints one JSON document");
    let steps = doc["steps"].as_array().unwrap();
    let text_steps: Vec<&str> = text
        .out
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("result:"))
        .collect();
    assert_eq!(steps.len(), text_steps.len());
    for (s, l) in steps.iter().zip(text_steps) {
        assert!(l.starts_with(s["status"].as_str().unwrap()), "{l}");
        assert!(l[6..].starts_with(s["name"].as_str().unwrap()), "{l}");
        assert!(s["elapsed_ms"].is_u64());
        assert!(s.get("hint").is_some());
    }
    assert_eq!(doc["ok"], true);

    let bad = bot_check(&db, &[("XMEET_BOT__URL", "not a url".into())], &["--json"]).await;
    assert_eq!(bad.code, 2, "{}", bad.out);
    let doc: Value = serde_json::from_str(&bad.out).unwrap();
    assert_eq!(doc["steps"][0]["name"], "configuration");
    assert_eq!(doc["steps"][0]["status"], "fail");
}

/// The guide's core.env as it is, pointed at the fakes: a weak token is a warning.
#[actix_web::test]
async fn legacy_core_env_and_a_weak_token() {
    let db = migrated_db();
    let adfs = FakeAdfs::start().await;
    let bot = FakeBot::start_with(Some("Bearer 3bb326abc5609fed301dd3c0431".into())).await;
    let mut env: Vec<(String, String)> =
        crate::harness::guide_env("core.env").into_iter().collect();
    env.retain(|(k, _)| !k.starts_with("Serilog") && k != "DatabaseOptions__Connection");
    for (k, v) in env.iter_mut() {
        match k.as_str() {
            "ExpressOptions__Uri" => *v = bot.url.clone(),
            "AuthorizationOptions__Configuration__Url" => *v = adfs.url.clone(),
            "AuthorizationOptions__Configuration__ServiceClientId" => *v = fakes::CLIENT_ID.into(),
            "AuthorizationOptions__Configuration__ServiceClientSecret" => {
                *v = fakes::CLIENT_SECRET.into()
            }
            "AuthorizationOptions__Configuration__Resource" => *v = fakes::RESOURCE.into(),
            _ => {}
        }
    }
    let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let r = bot_check(&db, &env, &[]).await;
    assert_eq!(r.code, 0, "{}", r.out);
    assert_eq!(status_of(&r.out, "bot accepts our credentials"), "ok");
    let l = line(&r.out, "bot token strength");
    assert!(
        l.starts_with("warn") && l.contains("27 characters"),
        "{}",
        r.out
    );
    assert!(!r.out.contains("3bb326abc5609fed301dd3c0431"));

    let curl = bot_check(&db, &env, &["--curl"]).await;
    assert_eq!(curl.code, 0);
    assert!(
        curl.out.contains("Authorization: Bearer ********"),
        "{}",
        curl.out
    );
    assert!(curl.out.contains("client_secret=********"));
    assert!(
        !curl.out.contains("3bb326abc5609fed301dd3c0431")
            && !curl.out.contains(fakes::CLIENT_SECRET)
    );
}

/// TLS in front of the fake bot with a certificate made here: untrusted, then trusted once
/// it is configured as an extra CA.
#[actix_web::test]
async fn self_signed_bot_certificate() {
    let db = migrated_db();
    let (adfs, bot) = (FakeAdfs::start().await, FakeBot::start().await);
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = ck.cert.pem();
    let cert_der = ck.cert.der().clone();
    let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert_der], key_der)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let plain = url::Url::parse(&bot.url).unwrap();
    let target = format!("127.0.0.1:{}", plain.port().unwrap());
    // a TLS front on its own thread, forwarding to the plain fake bot
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener.into_std().unwrap()).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, target) = (acceptor.clone(), target.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut out) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut out).await;
                });
            }
        });
    });
    let https = format!("https://localhost:{port}{}", plain.path());
    let env = env_for(&adfs, &https, Some(BOT_TOKEN));
    let r = bot_check(&db, &env, &["--timeout", "5"]).await;
    assert_eq!(r.code, 1, "{}", r.out);
    let l = line(&r.out, "bot TLS");
    assert!(
        l.starts_with("fail") && l.contains("not trusted"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("tls.ca_files"),
        "the hint names the CA setting"
    );

    let ca = db.dir.path().join("bot-ca.pem");
    std::fs::write(&ca, cert_pem).unwrap();
    let mut env = env;
    env.push(("XMEET_TLS__CA_FILES", ca.display().to_string()));
    let r = bot_check(&db, &env, &["--timeout", "5"]).await;
    assert_eq!(r.code, 0, "{}", r.out);
    assert_eq!(status_of(&r.out, "bot TLS"), "ok");
    assert_eq!(status_of(&r.out, "bot accepts our credentials"), "ok");
}
