//! One integration test binary (linked once): the harness and one module per area.

mod harness;

mod cli;
mod config;
mod health;
mod migrations;
