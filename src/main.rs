use clap::Parser;
use std::process::ExitCode;
use xmeet::cli::{Cli, Command};
use xmeet::commands;

fn main() -> ExitCode {
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
