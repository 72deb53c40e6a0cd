//! One integration test binary (linked once): the harness and one module per area.

mod fakes;
mod harness;

mod bot_check;
mod cli;
mod config;
mod core_auth;
mod core_client_log;
mod core_conferences;
mod core_invitation;
mod core_openapi;
mod health;
mod migrations;
mod resilience;
mod template_api;
