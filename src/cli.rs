//! The command line.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "xmeet",
    version,
    about = "Book eXpress video conferences from Microsoft Outlook",
    long_about = "xmeet replaces express-meeting-core-service, express-meeting-template-service \
                  and ExpressMeeting.Tools.TemplatesDB.exe with one binary."
)]
pub struct Cli {
    /// Configuration file (else $XMEET_CONFIG, config/xmeet.toml, /etc/xmeet/xmeet.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Read variables from an env file in docker's env_file format, e.g. the old core.env
    /// (repeatable; the real environment wins).
    #[arg(long = "env-file", global = true, value_name = "PATH")]
    pub env_files: Vec<PathBuf>,

    /// Log level or filter (log.level), e.g. `debug` or `xmeet=debug,info`.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Log format on stdout (log.format).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormatArg>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// The add-in API (core.listen, default 0.0.0.0:7100).
    Core,
    /// The admin console (template.listen, default 0.0.0.0:7200).
    Template,
    /// Both, in one process.
    All,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Core => "core",
            Role::Template => "template",
            Role::All => "all",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server(s).
    Serve {
        #[arg(long, value_enum, default_value = "all")]
        role: Role,
        /// Listen address of the core role (core.listen).
        #[arg(long, value_name = "ADDR")]
        core_listen: Option<String>,
        /// Listen address of the template role (template.listen).
        #[arg(long, value_name = "ADDR")]
        template_listen: Option<String>,
    },
    /// Create or upgrade the database schema, then seed the defaults.
    Migrate {
        /// List applied and pending migrations; change nothing.
        #[arg(long)]
        status: bool,
    },
    /// Check the Conference Notifier Bot and AD FS end to end, the way the guide's curl
    /// commands do. Exit 0 when nothing failed (warnings allowed), 1 when a step failed,
    /// 2 when the configuration is invalid.
    BotCheck {
        /// One JSON document for monitoring.
        #[arg(long)]
        json: bool,
        /// Print the equivalent curl commands (secrets masked) instead of running the checks.
        #[arg(long, conflicts_with = "json")]
        curl: bool,
        /// Seconds to wait for each answer (default: bot.timeout_secs, adfs.timeout_secs).
        #[arg(long, value_name = "SECS")]
        timeout: Option<u64>,
        /// Really create the guide's test conference `test_plugin_001`.
        #[arg(long, requires = "creator")]
        create: bool,
        /// Its creator: an active eXpress user's e-mail.
        #[arg(long, value_name = "EMAIL")]
        creator: Option<String>,
        /// Its members (default: the creator).
        #[arg(long, value_name = "EMAIL", num_args = 1..)]
        members: Vec<String>,
        /// Delete the test conference again.
        #[arg(long, requires = "create")]
        cleanup: bool,
    },
    /// Probe /health/ready and exit 0 (ready) or 1 (not): a HEALTHCHECK without curl.
    /// Without --url it asks every configured listener (core.listen, template.listen) that
    /// answers, and is healthy when at least one answers and every answer is ready.
    Health {
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Seconds to wait for an answer.
        #[arg(long, default_value_t = 3)]
        timeout: u64,
    },
    /// Console accounts.
    Admin {
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Print the effective configuration as TOML, secrets masked.
    Config {
        /// Only validate: exit 0 when valid, 2 when not.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set an account's password, read from the first line of stdin (the account is created
    /// when it does not exist). Ends the account's console sessions.
    SetPassword {
        #[arg(long)]
        login: String,
    },
}

impl Cli {
    /// The flags that are configuration keys, as the last configuration layer.
    pub fn config_flags(&self) -> Vec<(String, String)> {
        let mut flags = Vec::new();
        if let Some(l) = &self.log_level {
            flags.push(("log.level".into(), l.clone()));
        }
        if let Some(f) = self.log_format {
            let f = match f {
                LogFormatArg::Text => "text",
                LogFormatArg::Json => "json",
            };
            flags.push(("log.format".into(), f.into()));
        }
        if let Command::Serve {
            core_listen,
            template_listen,
            ..
        } = &self.command
        {
            if let Some(a) = core_listen {
                flags.push(("core.listen".into(), a.clone()));
            }
            if let Some(a) = template_listen {
                flags.push(("template.listen".into(), a.clone()));
            }
        }
        flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags_become_config_keys() {
        let cli = Cli::parse_from([
            "xmeet",
            "--log-level",
            "debug",
            "serve",
            "--role",
            "core",
            "--core-listen",
            "127.0.0.1:9",
        ]);
        assert_eq!(
            cli.config_flags(),
            vec![
                ("log.level".to_owned(), "debug".to_owned()),
                ("core.listen".to_owned(), "127.0.0.1:9".to_owned())
            ]
        );
    }
}
