//! The test suite's fake AD FS and fake Conference Notifier Bot as one program, for the
//! benchmark (`bench/run`) and the contract fuzzing in CI. Prints, one per line:
//! `ADFS_URL=…`, `BOT_URL=…`, `BOT_TOKEN=…`, `TOKEN=…` (a valid access token for
//! `bench@example.com`, one hour), then serves until killed.

#[path = "../tests/integration/fakes.rs"]
#[allow(dead_code)]
mod fakes;

use std::io::Write;

#[actix_web::main]
async fn main() {
    let adfs = fakes::FakeAdfs::start().await;
    let bot = fakes::FakeBot::start_opts(Some(format!("Bearer {}", fakes::BOT_TOKEN)), true).await;
    bot.set_recording(false);
    let token = adfs.token_for("bench@example.com");
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ADFS_URL={}", adfs.url);
    let _ = writeln!(out, "BOT_URL={}", bot.url);
    let _ = writeln!(out, "BOT_TOKEN={}", fakes::BOT_TOKEN);
    let _ = writeln!(out, "CLIENT_ID={}", fakes::CLIENT_ID);
    let _ = writeln!(out, "CLIENT_SECRET={}", fakes::CLIENT_SECRET);
    let _ = writeln!(out, "RESOURCE={}", fakes::RESOURCE);
    let _ = writeln!(out, "TOKEN={token}");
    let _ = writeln!(out, "READY");
    drop(out);
    let _ = tokio::signal::ctrl_c().await;
}
