//! What each subcommand does, once the command line is parsed and the configuration loaded.

use crate::cli::Role;
use crate::config::{AutoMigrate, Config, LoadedConfig, ValidationError};
use crate::db::{Backend, Db, DbConn, migrate, seed};
use crate::server::{self, AppState};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit status of an invalid configuration (SPEC §6: 2).
pub const EXIT_CONFIG: u8 = 2;

fn config_error(e: &ValidationError) -> ExitCode {
    eprintln!("configuration error: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn failure(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::FAILURE
}

fn warn_all(loaded: &LoadedConfig) {
    for w in &loaded.warnings {
        tracing::warn!(target: "xmeet::config", "{w}");
    }
}

/// `xmeet config [--check]`.
pub fn config(loaded: Result<LoadedConfig, ValidationError>, check: bool) -> ExitCode {
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => return config_error(&e),
    };
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    if check {
        println!("configuration is valid");
        return ExitCode::SUCCESS;
    }
    match &loaded.file {
        Some(f) => println!("# configuration file: {}", f.display()),
        None => println!("# configuration file: none (defaults and environment)"),
    }
    println!("# secrets are shown as ******** when set\n");
    print!("{}", loaded.config.to_masked_toml());
    ExitCode::SUCCESS
}

fn open_db(config: &Config) -> Result<Db, ExitCode> {
    Db::connect(&config.database).map_err(failure)
}

fn open_conn(config: &Config) -> Result<DbConn, ExitCode> {
    crate::db::open_single(&config.database).map_err(failure)
}

fn backend_of(conn: &DbConn) -> Backend {
    match conn {
        DbConn::Postgresql(_) => Backend::Postgres,
        DbConn::Sqlite(_) => Backend::Sqlite,
    }
}

/// `xmeet migrate [--status]`.
pub fn migrate(loaded: Result<LoadedConfig, ValidationError>, status_only: bool) -> ExitCode {
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => return config_error(&e),
    };
    crate::logging::init_cli(Some(&loaded.config));
    warn_all(&loaded);
    let mut conn = match open_conn(&loaded.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    println!(
        "database: {} ({})",
        backend_of(&conn).name(),
        loaded.config.database.url
    );
    if status_only {
        return match migrate::status(&mut conn) {
            Ok(all) => {
                for m in &all {
                    println!(
                        "{:8} {}",
                        if m.applied { "applied" } else { "pending" },
                        m.name
                    );
                }
                let pending = all.iter().filter(|m| !m.applied).count();
                println!("{} applied, {pending} pending", all.len() - pending);
                ExitCode::SUCCESS
            }
            Err(e) => failure(e),
        };
    }
    match migrate::run_pending(&mut conn, |name| println!("applied  {name}")) {
        Ok(done) if done.is_empty() => println!("no pending migrations"),
        Ok(done) => println!("{} migration(s) applied", done.len()),
        Err(e) => return failure(e),
    }
    match seed::seed(&mut conn) {
        Ok(report) => {
            if report.admin_created {
                println!(
                    "seed: created the account `{}` with an empty password; it must be changed at the first sign-in",
                    seed::DEFAULT_ADMIN
                );
            }
            if !report.templates_created.is_empty() {
                println!(
                    "seed: created the active invitation templates {}",
                    report.templates_created.join(", ")
                );
            }
            if !report.admin_created && report.templates_created.is_empty() {
                println!("seed: nothing to do");
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(format!("seeding failed: {e}")),
    }
}

/// The URL of a listen address as seen from this host (0.0.0.0 → 127.0.0.1).
fn local_url(listen: &str) -> Option<String> {
    let addr: std::net::SocketAddr = listen.parse().ok()?;
    let ip = if addr.ip().is_unspecified() {
        if addr.is_ipv6() {
            "[::1]".to_owned()
        } else {
            "127.0.0.1".to_owned()
        }
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    Some(format!("http://{ip}:{}/health/ready", addr.port()))
}

/// `xmeet health [--url URL]`.
pub fn health(
    loaded: Result<LoadedConfig, ValidationError>,
    url: Option<String>,
    timeout: u64,
) -> ExitCode {
    let urls: Vec<String> = match (url, &loaded) {
        (Some(u), _) => vec![u],
        (None, Ok(l)) => [&l.config.core.listen, &l.config.template.listen]
            .into_iter()
            .filter_map(|a| local_url(a))
            .collect(),
        (None, Err(e)) => return config_error(e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let explicit = urls.len() == 1;
    let healthy = runtime.block_on(async move {
        let client = match reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(timeout.max(1)))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return false;
            }
        };
        let mut answered = 0;
        let mut all_ready = true;
        for u in &urls {
            match client.get(u).send().await {
                Ok(r) if r.status().is_success() => {
                    answered += 1;
                    println!("ready      {u}");
                }
                Ok(r) => {
                    answered += 1;
                    all_ready = false;
                    println!("not ready  {u} (HTTP {})", r.status().as_u16());
                }
                // a listener this process does not run (role core or template only)
                Err(e) if !explicit && e.is_connect() => println!("not running {u}"),
                Err(e) => {
                    all_ready = false;
                    println!("no answer  {u}: {e}");
                }
            }
        }
        answered > 0 && all_ready
    });
    if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `xmeet bot-check`.
pub fn bot_check(
    loaded: Result<LoadedConfig, ValidationError>,
    opts: crate::botcheck::Options,
) -> ExitCode {
    crate::logging::init_cli(loaded.as_ref().ok().map(|l| &l.config));
    if opts.curl {
        return match &loaded {
            Ok(l) => {
                print!("{}", crate::botcheck::curl(&l.config, &opts));
                ExitCode::SUCCESS
            }
            Err(e) => config_error(e),
        };
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let report = runtime.block_on(crate::botcheck::run(loaded, &opts));
    if opts.json {
        match serde_json::to_string_pretty(&report) {
            Ok(j) => println!("{j}"),
            Err(e) => return failure(e),
        }
    } else {
        print!("{}", crate::botcheck::text(&report));
    }
    ExitCode::from(report.exit_code)
}

/// `xmeet admin …`.
pub fn admin(
    loaded: Result<LoadedConfig, ValidationError>,
    action: crate::cli::AdminCommand,
) -> ExitCode {
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => return config_error(&e),
    };
    crate::logging::init_cli(Some(&loaded.config));
    let mut conn = match open_conn(&loaded.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(e) = prepare_schema(&loaded.config, &mut conn) {
        return failure(e);
    }
    match action {
        crate::cli::AdminCommand::SetPassword { login } => {
            let mut line = String::new();
            if let Err(e) = std::io::stdin().read_line(&mut line) {
                return failure(format!("cannot read the password from stdin: {e}"));
            }
            let password = line.trim_end_matches(['\r', '\n']);
            match crate::template::auth::set_password(&mut conn, &login, password) {
                Ok(true) => println!(
                    "created the account `{}` with the given password",
                    login.trim().to_lowercase()
                ),
                Ok(false) => println!(
                    "password of `{}` set; its console sessions have ended",
                    login.trim().to_lowercase()
                ),
                Err(e) => return failure(e),
            }
            ExitCode::SUCCESS
        }
    }
}

/// Before serving: migrate where allowed, otherwise refuse to run on an old schema.
fn prepare_schema(config: &Config, conn: &mut DbConn) -> Result<(), String> {
    let auto = match config.database.auto_migrate {
        AutoMigrate::Always => true,
        AutoMigrate::Never => false,
        AutoMigrate::Auto => backend_of(conn) == Backend::Sqlite,
    };
    if auto {
        migrate::run_pending(
            conn,
            |name| tracing::info!(target: "xmeet::db", migration = name, "applied migration"),
        )
        .map_err(|e| e.to_string())?;
        let report = seed::seed(conn).map_err(|e| format!("seeding failed: {e}"))?;
        if report.admin_created {
            tracing::warn!(
                target: "xmeet::db",
                "created the account `admin` with an empty password: sign in at /front and change it"
            );
        }
        return Ok(());
    }
    let pending = migrate::pending(conn).map_err(|e| e.to_string())?;
    if !pending.is_empty() {
        return Err(format!(
            "the database schema is not current ({} pending migration(s): {}); run `xmeet migrate` first \
             (or set database.auto_migrate = true)",
            pending.len(),
            pending.join(", ")
        ));
    }
    Ok(())
}

/// `xmeet serve --role …`.
pub fn serve(loaded: Result<LoadedConfig, ValidationError>, role: Role) -> ExitCode {
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => return config_error(&e),
    };
    let config = Arc::new(loaded.config.clone());
    let guards = match crate::logging::init(&config, role) {
        Ok(g) => g,
        Err(e) => return failure(e),
    };
    warn_all(&loaded);
    if let Some(f) = &loaded.file {
        tracing::info!(target: "xmeet::config", file = %f.display(), "configuration file");
    }
    // the schema check on a connection of its own, before the pool exists
    let schema = open_conn(&config).and_then(|mut conn| {
        prepare_schema(&config, &mut conn).map_err(|e| {
            tracing::error!(target: "xmeet::db", "{e}");
            failure(e)
        })
    });
    if let Err(code) = schema {
        return code;
    }
    let db = match open_db(&config) {
        Ok(db) => db,
        Err(code) => return code,
    };
    if matches!(role, Role::Core | Role::All) && config.bot.url.is_empty() {
        tracing::warn!(
            target: "xmeet::core",
            "bot.url (ExpressOptions__Uri) is not set: conferences cannot be booked until it is"
        );
    }
    let system = actix_web::rt::System::new();
    let state = match AppState::new(config.clone(), db, role) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(target: "xmeet::server", "{e}");
            return failure(e);
        }
    };
    let result = system.block_on(async move {
        let running = server::start(state, role)?;
        tracing::info!(
            target: "xmeet::server",
            version = env!("CARGO_PKG_VERSION"),
            role = role.name(),
            core = running.core_addr.map(|a| a.to_string()).unwrap_or_default(),
            template = running.template_addr.map(|a| a.to_string()).unwrap_or_default(),
            "xmeet is listening"
        );
        server::shutdown_signal().await;
        tracing::info!(target: "xmeet::server", "stop requested: finishing in-flight requests");
        running.stop(true).await;
        match tokio::time::timeout(server::stop_grace(&config), running.wait()).await {
            Ok(r) => r,
            Err(_) => {
                tracing::warn!(target: "xmeet::server", "in-flight requests did not finish in time");
                Ok(())
            }
        }
    });
    let code = match result {
        Ok(()) => {
            tracing::info!(target: "xmeet::server", "stopped");
            0
        }
        Err(e) => {
            tracing::error!(target: "xmeet::server", error = %e, "cannot serve");
            eprintln!("error: {e}");
            1
        }
    };
    // Flush the logs, then leave without the C library's exit handlers: libpq's TLS
    // clean-up at exit can race with pool threads that still hold connections (seen as a
    // rare crash after a clean shutdown). The OS closes the connections.
    drop(guards);
    exit_now(code)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exit_now(code: u8) -> ExitCode {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; nothing after it runs.
    unsafe { libc::_exit(i32::from(code)) }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn exit_now(code: u8) -> ExitCode {
    ExitCode::from(code)
}
