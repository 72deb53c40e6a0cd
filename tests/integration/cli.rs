//! The binary as an administrator runs it.

use crate::harness::{Backend, TestDb, guide_env, xmeet_bin};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `xmeet ARGS` in an empty folder with exactly `env` as environment.
fn xmeet(dir: &std::path::Path, env: &[(String, String)], args: &[&str]) -> Output {
    Command::new(xmeet_bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().cloned())
        .output()
        .expect("run xmeet")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn version() {
    let d = tempfile::tempdir().unwrap();
    let o = xmeet(d.path(), &[], &["--version"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("xmeet {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn config_check_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    let o = xmeet(d.path(), &[], &["config", "--check"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bad = [("XMEET_BOT__URL".to_owned(), "nope".to_owned())];
    let o = xmeet(d.path(), &bad, &["config", "--check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("bot.url is not a URL"), "{}", text(&o));
    // serve refuses the same configuration with the same code
    let o = xmeet(d.path(), &bad, &["serve", "--role", "core"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn config_output_with_the_guide_env_shows_no_secret() {
    let d = tempfile::tempdir().unwrap();
    let mut env: Vec<(String, String)> = guide_env("core.env").into_iter().collect();
    env.extend(guide_env("template.env"));
    let o = xmeet(d.path(), &env, &["config"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    for secret in [
        "3bb326abc5609fed301dd3c0431",
        "0000000000000000000000000000000000000000",
        "Pass1234",
        "JFRINXV0LGIhLXlEVzlYdXlae316UU0zJzR9WVUtIWQ",
    ] {
        assert!(!out.contains(secret), "secret {secret} shown:\n{out}");
    }
    assert!(out.contains("url = \"https://api.bot.express/api/v1/conference_bot/conferences/\""));
    assert!(out.contains("auth = \"bearer\""));
}

fn migrate_twice(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    let env = [("XMEET_DATABASE__URL".to_owned(), db.url.clone())];
    let first = xmeet(db.dir.path(), &env, &["migrate"]);
    assert!(first.status.success(), "{}", text(&first));
    let out = text(&first);
    assert!(out.contains("applied  2026-12-04-000000_initial"), "{out}");
    assert!(out.contains("seed: created the account `admin`"), "{out}");
    assert!(
        out.contains("seed: created the active invitation templates ru, en"),
        "{out}"
    );

    let second = xmeet(db.dir.path(), &env, &["migrate"]);
    assert!(second.status.success());
    let out = text(&second);
    assert!(out.contains("no pending migrations"), "{out}");
    assert!(out.contains("seed: nothing to do"), "{out}");

    let status = xmeet(db.dir.path(), &env, &["migrate", "--status"]);
    let out = text(&status);
    assert!(out.contains("applied  2026-12-04-000000_initial"), "{out}");
    assert!(out.contains("1 applied, 0 pending"), "{out}");
}

#[test]
fn migrate_twice_sqlite() {
    migrate_twice(Backend::Sqlite)
}

#[test]
fn migrate_twice_postgres() {
    migrate_twice(Backend::Postgres)
}

/// With the guide's core.env pointed at a real PostgreSQL: migrate, then the pending check
/// of serve; without migrate, serve refuses to start.
#[test]
fn legacy_core_env_against_postgres() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    let u = url::Url::parse(&db.url).unwrap();
    let npgsql = format!(
        "Host={};Port={};Database={};Username={};Password=Pass1234;Pooling=true;Minimum Pool Size=1;Maximum Pool Size=4;Include Error Detail=True;",
        u.host_str().unwrap(),
        u.port().unwrap_or(5432),
        u.path().trim_start_matches('/'),
        if u.username().is_empty() {
            "postgres"
        } else {
            u.username()
        },
    );
    let mut env: Vec<(String, String)> = guide_env("core.env").into_iter().collect();
    env.retain(|(k, _)| !k.starts_with("Serilog__") && k != "DatabaseOptions__Connection");
    env.push(("DatabaseOptions__Connection".into(), npgsql));
    env.push(("XMEET_CORE__LISTEN".into(), "127.0.0.1:0".into()));
    env.push((
        "XMEET_LOG__DIR".into(),
        db.dir.path().join("logs").display().to_string(),
    ));

    let o = xmeet(db.dir.path(), &env, &["serve", "--role", "core"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("run `xmeet migrate`"), "{}", text(&o));
    assert!(!text(&o).contains("Pass1234"));

    let o = xmeet(db.dir.path(), &env, &["migrate"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("database: postgresql"));
    assert!(!text(&o).contains("Pass1234"), "{}", text(&o));

    let (code, out) =
        serve_until_ready_then_term(db.dir.path(), &env, &["serve", "--role", "core"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("Pass1234"));
}

/// Start `xmeet serve`, wait for its "listening" line, check /health/ready, send SIGTERM,
/// and return the exit code and everything it printed.
fn serve_until_ready_then_term(
    dir: &std::path::Path,
    env: &[(String, String)],
    args: &[&str],
) -> (Option<i32>, String) {
    let mut child = Command::new(xmeet_bin())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().cloned())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn xmeet");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = String::new();
    let mut core = None;
    while core.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("xmeet is listening") {
                core = line
                    .split("core=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .map(str::to_owned);
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("xmeet exited early with {status}:\n{seen}");
        }
    }
    let core = core.unwrap_or_else(|| panic!("no listening line:\n{seen}"));
    let ready = reqwest::blocking_get(&format!("http://{core}/health/ready"));
    assert_eq!(ready, 200, "{seen}");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        seen.push_str(&line);
        seen.push('\n');
    }
    (status.code(), seen)
}

#[test]
fn serve_all_with_no_configuration_is_ready_and_stops_on_sigterm() {
    let d = tempfile::tempdir().unwrap();
    let env = [
        ("XMEET_CORE__LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "XMEET_TEMPLATE__LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
    ];
    let (code, out) = serve_until_ready_then_term(d.path(), &env, &["serve", "--role", "all"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stopped"), "{out}");
    // the embedded default: a SQLite file under ./data, logs under ./logs
    assert!(d.path().join("data/xmeet.db").is_file());
    assert!(d.path().join("logs").is_dir());
}

mod reqwest {
    /// A tiny blocking GET returning the status (the tests' reqwest is async only).
    pub fn blocking_get(url: &str) -> u16 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            ::reqwest::get(url)
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        })
    }
}

#[test]
fn admin_set_password_from_stdin() {
    use std::io::Write;
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    let env = [("XMEET_DATABASE__URL".to_owned(), db.url.clone())];
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(xmeet_bin())
            .args(args)
            .current_dir(db.dir.path())
            .env_clear()
            .envs(env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run(&["admin", "set-password", "--login", "admin"], "short\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("at least 10 characters"));
    let o = run(
        &["admin", "set-password", "--login", "admin"],
        "a long enough password\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("password of `admin` set"));
    let o = run(
        &["admin", "set-password", "--login", "Rescue"],
        "another long password\n",
    );
    assert!(
        text(&o).contains("created the account `rescue`"),
        "{}",
        text(&o)
    );
    // the password is stored as an Argon2id hash and the forced change is over
    use diesel::prelude::*;
    let mut c =
        diesel::SqliteConnection::establish(db.url.trim_start_matches("sqlite://")).unwrap();
    let rows: Vec<(String, String, bool)> = xmeet::db::schema::admins::table
        .select((
            xmeet::db::schema::admins::login,
            xmeet::db::schema::admins::password_hash,
            xmeet::db::schema::admins::must_change_password,
        ))
        .order(xmeet::db::schema::admins::login)
        .load(&mut c)
        .unwrap();
    assert_eq!(rows.len(), 2);
    for (login, hash, must) in rows {
        assert!(hash.starts_with("$argon2id$"), "{login}: {hash}");
        assert!(!must);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn health_command_for_container_healthchecks() {
    let d = tempfile::tempdir().unwrap();
    let (core, template) = (free_port(), free_port());
    let env = [
        ("XMEET_CORE__LISTEN".to_owned(), format!("127.0.0.1:{core}")),
        (
            "XMEET_TEMPLATE__LISTEN".to_owned(),
            format!("127.0.0.1:{template}"),
        ),
    ];
    // nothing runs yet: unhealthy
    let o = xmeet(d.path(), &env, &["health", "--timeout", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let mut child = Command::new(xmeet_bin())
        .args(["serve", "--role", "core"])
        .current_dir(d.path())
        .env_clear()
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = xmeet(d.path(), &env, &["health", "--timeout", "1"]);
        if o.status.success() {
            let out = text(&o);
            assert!(
                out.contains(&format!("ready      http://127.0.0.1:{core}/health/ready")),
                "{out}"
            );
            assert!(
                out.contains("not running"),
                "the template role does not run here: {out}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "never healthy: {}", text(&o));
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = format!("http://127.0.0.1:{template}/health/ready");
    assert_eq!(
        xmeet(d.path(), &env, &["health", "--url", &url])
            .status
            .code(),
        Some(1)
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
