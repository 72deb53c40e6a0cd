//! Configuration: layering order, the guide's legacy env files, validation messages, the
//! committed config/xmeet.toml.

use crate::harness::guide_env;
use std::path::PathBuf;
use xmeet::config::{BotAuth, Config, ConfigSources, load_from};

fn sources(env: &[(&str, &str)]) -> (ConfigSources, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = ConfigSources {
        config_path: None,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        flags: Vec::new(),
        base_dir: dir.path().to_path_buf(),
        system_file: dir.path().join("no-such-system-file.toml"),
    };
    (s, dir)
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn defaults_without_any_source() {
    let (s, _d) = sources(&[]);
    let loaded = load_from(&s).unwrap();
    assert!(loaded.file.is_none());
    let c = loaded.config;
    assert_eq!(c.core.listen, "0.0.0.0:7100");
    assert_eq!(c.template.listen, "0.0.0.0:7200");
    assert_eq!(c.database.url.expose(), "sqlite://data/xmeet.db");
    assert_eq!(c.bot.timeout_secs, 30);
    assert_eq!(c.adfs.timeout_secs, 30);
    assert_eq!(c.bot.auth, BotAuth::None);
}

#[test]
fn layers_win_in_order_file_legacy_xmeet_flags() {
    let (mut s, dir) = sources(&[]);
    let file = write(
        &dir,
        "x.toml",
        r#"
        [bot]
        url = "https://file.example/bot/"
        timeout_secs = 11
        [adfs]
        url = "https://file-adfs.example"
        resource = "from-file"
        [core]
        listen = "127.0.0.1:9100"
        "#,
    );
    s.config_path = Some(file.clone());
    s.env = [
        ("ExpressOptions__Uri", "https://legacy.example/bot/"),
        (
            "AuthorizationOptions__Configuration__Resource",
            "from-legacy",
        ),
        ("XMEET_ADFS__RESOURCE", "from-xmeet"),
        ("XMEET_BOT__TIMEOUT_SECS", "12"),
        ("XMEET_CORE__LISTEN", "127.0.0.1:9200"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    s.flags = vec![("core.listen".into(), "127.0.0.1:9300".into())];
    let loaded = load_from(&s).unwrap();
    let c = &loaded.config;
    assert_eq!(loaded.file.as_deref(), Some(file.as_path()));
    // file only
    assert_eq!(c.adfs.url, "https://file-adfs.example");
    // legacy over file
    assert_eq!(c.bot.url, "https://legacy.example/bot/");
    // XMEET over legacy and file
    assert_eq!(c.adfs.resource, "from-xmeet");
    assert_eq!(c.bot.timeout_secs, 12);
    // flags over everything
    assert_eq!(c.core.listen, "127.0.0.1:9300");
    assert_eq!(loaded.origins["bot.url"], "ExpressOptions__Uri");
    assert_eq!(loaded.origins["adfs.resource"], "XMEET_ADFS__RESOURCE");
}

#[test]
fn file_lookup_order() {
    let (mut s, dir) = sources(&[]);
    let system = write(&dir, "etc/xmeet.toml", "[bot]\ntimeout_secs = 1\n");
    s.system_file = system.clone();
    assert_eq!(
        load_from(&s).unwrap().file.as_deref(),
        Some(system.as_path())
    );

    let local = write(&dir, "config/xmeet.toml", "[bot]\ntimeout_secs = 2\n");
    let l = load_from(&s).unwrap();
    assert_eq!(l.file.as_deref(), Some(local.as_path()));
    assert_eq!(l.config.bot.timeout_secs, 2);

    let from_env = write(&dir, "env.toml", "[bot]\ntimeout_secs = 3\n");
    s.env
        .insert("XMEET_CONFIG".into(), from_env.display().to_string());
    assert_eq!(load_from(&s).unwrap().config.bot.timeout_secs, 3);

    let flag = write(&dir, "flag.toml", "[bot]\ntimeout_secs = 4\n");
    s.config_path = Some(flag);
    assert_eq!(load_from(&s).unwrap().config.bot.timeout_secs, 4);

    s.config_path = Some(dir.path().join("missing.toml"));
    let e = load_from(&s).unwrap_err();
    assert_eq!(e.key, "--config");
    assert!(e.to_string().contains("missing.toml"), "{e}");
}

#[test]
fn guide_core_env_is_understood() {
    let env = guide_env("core.env");
    let (mut s, _d) = sources(&[]);
    s.env = env;
    let c = load_from(&s).unwrap().config;
    assert_eq!(
        c.bot.url,
        "https://api.bot.express/api/v1/conference_bot/conferences/"
    );
    assert_eq!(c.bot.auth, BotAuth::Bearer);
    // "Bearer " is taken off: we add it ourselves
    assert_eq!(c.bot.token.expose(), "3bb326abc5609fed301dd3c0431");
    assert_eq!(c.bot.login, "admin");
    assert_eq!(c.bot.password.expose(), "admin");
    assert_eq!(c.adfs.url, "https://adfs.mycompany");
    assert_eq!(c.adfs.client_id, "00000000-0000-0000-0000-000000000000");
    assert_eq!(
        c.adfs.client_secret.expose(),
        "0000000000000000000000000000000000000000"
    );
    assert_eq!(c.adfs.resource, "http://local.express.ru:7100");
    let target = c.database.url.target().unwrap();
    assert_eq!(target.backend(), xmeet::db::Backend::Postgres);
    assert_eq!(c.database.min_connections, 50);
    assert_eq!(c.database.max_connections, 100);
    assert_eq!(
        c.log.core_file,
        "/public/express-meeting-logs/coreservise.log"
    );
    assert_eq!(
        c.log.client_file,
        "/public/express-meeting-logs/client/plugin.log"
    );
    assert_eq!(
        c.log_path(&c.log.client_file),
        PathBuf::from("/public/express-meeting-logs/client/plugin.log")
    );
}

#[test]
fn guide_template_env_is_understood() {
    let (mut s, _d) = sources(&[]);
    s.env = guide_env("template.env");
    let c = load_from(&s).unwrap().config;
    assert_eq!(
        c.admin.jwt_key.expose(),
        "JFRINXV0LGIhLXlEVzlYdXlae316UU0zJzR9WVUtIWQ"
    );
    assert_eq!(c.admin.jwt_issuer, "http://127.0.0.1");
    assert_eq!(c.admin.jwt_audience, "http://127.0.0.1");
    assert_eq!(
        c.log.template_file,
        "/public/express-meeting-logs/templateservise.log"
    );
    assert_eq!(c.database.max_connections, 100);
}

#[test]
fn guide_dot_env_ports_set_the_listen_ports() {
    let (mut s, dir) = sources(&[]);
    s.env = guide_env(".env");
    s.env
        .insert("EXPRESS_MEETING_CORE_SERVICE_PORT".into(), "7300".into());
    let file = write(&dir, "x.toml", "[template]\nlisten = \"127.0.0.1:1\"\n");
    s.config_path = Some(file);
    let c = load_from(&s).unwrap().config;
    assert_eq!(c.core.listen, "0.0.0.0:7300");
    // the port replaces the port only, the file's host is kept
    assert_eq!(c.template.listen, "127.0.0.1:7200");
}

#[test]
fn legacy_names_are_case_insensitive_and_basic_scheme_works() {
    let (s, _d) = sources(&[
        (
            "EXPRESSOPTIONS__URI",
            "https://cts.example/api/v1/conference_bot/conferences",
        ),
        ("ExpressOptions__AuthenticationScheme", "Basic"),
        ("expressoptions__userlogin", "bot"),
        ("ExpressOptions__UserPassword", "pw"),
        ("ASPNETCORE_ENVIRONMENT", "Production"),
        ("AuthorizationOptions__AuthType", "adfs"),
    ]);
    let c = load_from(&s).unwrap().config;
    assert_eq!(c.bot.auth, BotAuth::Basic);
    assert_eq!(c.bot.login, "bot");
    assert_eq!(
        c.bot.url,
        "https://cts.example/api/v1/conference_bot/conferences"
    );
}

fn error_of(env: &[(&str, &str)]) -> String {
    let (s, _d) = sources(env);
    load_from(&s).unwrap_err().to_string()
}

#[test]
fn validation_names_the_key() {
    assert_eq!(
        error_of(&[("XMEET_BOT__URL", "not a url")]),
        "bot.url is not a URL (expected https://host/api/v1/conference_bot/conferences/) (set by XMEET_BOT__URL)"
    );
    assert!(error_of(&[("ExpressOptions__Uri", "ftp://x")]).starts_with("bot.url is not a URL"),);
    assert!(error_of(&[("ExpressOptions__Uri", "ftp://x")]).contains("ExpressOptions__Uri"));
    assert_eq!(
        error_of(&[("XMEET_BOT__TIMEOUT_SECS", "soon")]),
        "bot.timeout_secs is invalid: `soon` is not a whole number (set by XMEET_BOT__TIMEOUT_SECS)"
    );
    assert_eq!(
        error_of(&[("XMEET_BOT__TIMOUT_SECS", "3")]),
        "bot.timout_secs is not a configuration key (set by XMEET_BOT__TIMOUT_SECS)"
    );
    assert!(
        error_of(&[("XMEET_DATABASE__URL", "mydb.sqlite")]).starts_with("database.url is neither"),
    );
    assert!(error_of(&[("XMEET_CORE__LISTEN", "7100")]).starts_with("core.listen is `7100`"),);
    assert!(
        error_of(&[
            ("XMEET_DATABASE__MIN_CONNECTIONS", "5"),
            ("XMEET_DATABASE__MAX_CONNECTIONS", "2")
        ])
        .starts_with("database.min_connections (5) must be smaller than or equal to database.max_connections (2)")
    );
    assert_eq!(
        error_of(&[("ExpressOptions__AuthenticationScheme", "Kerberos")]),
        "ExpressOptions__AuthenticationScheme is `Kerberos`; use StaticToken or Basic"
    );
    assert!(
        error_of(&[("XMEET_POLICY__DEFAULT_LINK_TYPE", "secret")])
            .starts_with("policy.default_link_type is `secret`")
    );
    assert!(
        error_of(&[("XMEET_ADMIN__TOKEN_TTL_SECS", "86400")])
            .starts_with("admin.token_ttl_secs must be between 1 and 43200")
    );
    assert!(
        error_of(&[("XMEET_TLS__CA_FILES", "/no/such/ca.pem")])
            .starts_with("tls.ca_files names `/no/such/ca.pem`")
    );
    assert!(
        error_of(&[("DatabaseOptions__Connection", "Host=h;Port=x")]).starts_with(
            "database.url is not a valid connection string: `Port` must be a whole number"
        )
    );
}

/// What a shell makes of the guide's unquoted connection string: cut at the first `;`.
#[test]
fn a_connection_string_cut_by_the_shell_is_refused_with_the_reason() {
    let e = error_of(&[("DatabaseOptions__Connection", "Host=127.0.0.1")]);
    assert!(e.starts_with("database.url names no Database="), "{e}");
    assert!(
        e.contains("--env-file") && e.contains("DatabaseOptions__Connection"),
        "{e}"
    );
}

/// `set -a; . ./core.env` in a shell loses every value with a space: the token line is not
/// set at all and the connection string stops at `Minimum`. xmeet still starts, and says why
/// the bot will refuse it.
#[test]
fn a_shell_sourced_core_env_still_loads() {
    let mut env = guide_env("core.env");
    env.remove("ExpressOptions__Token");
    env.insert(
        "DatabaseOptions__Connection".into(),
        "Host=127.0.0.1;Port=5432;Database=express_meeting_db;Username=db_express;Password=Pass1234;Pooling=true;Minimum".into(),
    );
    let (mut s, _d) = sources(&[]);
    s.env = env;
    let loaded = load_from(&s).unwrap();
    assert_eq!(loaded.config.bot.auth, BotAuth::Bearer);
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("bot.token is empty") && w.contains("--env-file")),
        "{:?}",
        loaded.warnings
    );
    assert!(
        loaded.warnings.iter().any(|w| w.contains("`Minimum`")),
        "{:?}",
        loaded.warnings
    );
    assert_eq!(
        loaded.config.database.url.target().unwrap().backend(),
        xmeet::db::Backend::Postgres
    );
}

#[test]
fn env_files_read_like_docker_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "core.env",
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/reference/guide-env/core.env"),
        )
        .unwrap(),
    );
    let (s, _d) = sources(&[("ExpressOptions__Uri", "https://from-env.example/bot/")]);
    let c = s.with_env_files(&[path]).unwrap();
    let loaded = load_from(&c).unwrap();
    assert_eq!(
        loaded.config.bot.token.expose(),
        "3bb326abc5609fed301dd3c0431"
    );
    assert_eq!(loaded.config.database.max_connections, 100);
    assert_eq!(loaded.config.bot.url, "https://from-env.example/bot/");
    let (s, _d) = sources(&[]);
    assert_eq!(
        s.with_env_files(&[dir.path().join("missing.env")])
            .unwrap_err()
            .key,
        "--env-file"
    );
}

#[test]
fn validation_errors_never_show_secrets() {
    let e = error_of(&[
        ("XMEET_BOT__TOKEN", "Bearer super-secret-token-1234567890"),
        ("XMEET_BOT__URL", "::"),
    ]);
    assert!(!e.contains("super-secret"), "{e}");
    let e = error_of(&[("XMEET_DATABASE__URL", "Host=h;Password=Hunter2;Port=x")]);
    assert!(!e.contains("Hunter2"), "{e}");
}

#[test]
fn env_lists_and_maps() {
    let (s, _d) = sources(&[
        ("XMEET_POLICY__ALLOWED_LINK_TYPES", "Corporate, trusts"),
        ("XMEET_POLICY__DEFAULT_LINK_TYPE", "trusts"),
        ("XMEET_POLICY__DENY_LINK_TYPE", "yes"),
        (
            "XMEET_HTTP__HOST_OVERRIDES",
            "api.bot.express=10.0.0.5, adfs.mycompany=10.0.0.6",
        ),
        ("XMEET_ADFS__EMAIL_CLAIMS", "upn"),
        ("XMEET_BOT__TOKEN", "12345"),
    ]);
    let c = load_from(&s).unwrap().config;
    assert_eq!(c.policy.allowed_link_types, vec!["corporate", "trusts"]);
    assert!(c.policy.deny_link_type);
    assert_eq!(c.http.host_overrides["api.bot.express"], "10.0.0.5");
    assert_eq!(c.http.host_overrides.len(), 2);
    assert_eq!(c.adfs.email_claims, vec!["upn"]);
    assert_eq!(c.bot.token.expose(), "12345");
}

#[test]
fn masked_toml_hides_every_secret() {
    let (mut s, _d) = sources(&[]);
    s.env = guide_env("core.env");
    s.env.extend(guide_env("template.env"));
    let c = load_from(&s).unwrap().config;
    let out = c.to_masked_toml();
    for secret in [
        "3bb326abc5609fed301dd3c0431",
        "0000000000000000000000000000000000000000",
        "Pass1234",
        "JFRINXV0LGIhLXlEVzlYdXlae316UU0zJzR9WVUtIWQ",
    ] {
        assert!(!out.contains(secret), "secret {secret} in:\n{out}");
    }
    assert!(out.contains("token = \"********\""));
    assert!(out.contains("Password=********;"));
    // the masked output is itself a readable configuration
    let _: toml::Table = out.parse().unwrap();
}

/// Key paths of a TOML table, treating `http.host_overrides` as one key.
fn keys(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) if key != "http.host_overrides" => keys(inner, &key, out),
            _ => out.push(key),
        }
    }
}

#[test]
fn committed_config_file_matches_the_struct() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/xmeet.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // every key in the file is a real key, with the built-in default as its value
    let parsed: Config = toml::from_str(&text).expect("config/xmeet.toml parses into Config");
    assert_eq!(
        parsed,
        Config::default(),
        "config/xmeet.toml must show the defaults"
    );
    // every key of the struct is in the file
    let mut file_keys = Vec::new();
    keys(&text.parse().unwrap(), "", &mut file_keys);
    let mut struct_keys = Vec::new();
    keys(
        &toml::to_string(&Config::default())
            .unwrap()
            .parse()
            .unwrap(),
        "",
        &mut struct_keys,
    );
    file_keys.sort();
    struct_keys.sort();
    assert_eq!(file_keys, struct_keys);
    // and every key line is documented by a comment somewhere above it in its block
    let mut commented = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            commented = true;
        } else if line.starts_with('[') || line.is_empty() {
            commented = false;
        } else if line.contains('=') {
            let key = line.split('=').next().unwrap().trim();
            assert!(
                commented,
                "key `{key}` in config/xmeet.toml has no comment above it"
            );
        }
    }
}

#[test]
fn loading_the_committed_file_changes_nothing() {
    let (mut s, _d) = sources(&[]);
    s.config_path = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config/xmeet.toml"));
    let from_file = load_from(&s).unwrap().config;
    s.config_path = None;
    let from_defaults = load_from(&s).unwrap().config;
    assert_eq!(from_file, from_defaults);
}

#[test]
fn unknown_xmeet_names_without_nesting_are_not_keys() {
    let (s, _d) = sources(&[
        ("XMEET_TEST_POSTGRES_URL", "postgres://x"),
        ("XMEET_REQUIRE_POSTGRES", "1"),
    ]);
    assert!(load_from(&s).is_ok());
}
