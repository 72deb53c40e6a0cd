use clap::Parser;
use std::process::ExitCode;
use xmeet::cli::{Cli, Command};
use xmeet::commands;

/// glibc gives every thread that allocates its own arena (up to 8 per core), and each keeps
/// freed memory: with the blocking pool's threads that is tens of MB of resident memory for
/// nothing. Two arenas are plenty for this workload.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    // SAFETY: mallopt only sets an allocator parameter; called once before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let flags = cli.config_flags();
    let loaded = xmeet::config::load(cli.config.clone(), &cli.env_files, flags);
    match cli.command {
        Command::Config { check } => commands::config(loaded, check),
        Command::Migrate { status } => commands::migrate(loaded, status),
        Command::Serve { role, .. } => commands::serve(loaded, role),
        Command::Admin { action } => commands::admin(loaded, action),
        Command::Health { url, timeout } => commands::health(loaded, url, timeout),
        Command::BotCheck {
            json,
            curl,
            timeout,
            create,
            creator,
            members,
            cleanup,
        } => commands::bot_check(
            loaded,
            xmeet::botcheck::Options {
                json,
                curl,
                timeout_secs: timeout,
                create,
                creator,
                members,
                cleanup,
            },
        ),
    }
}
