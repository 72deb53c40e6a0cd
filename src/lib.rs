//! xmeet: the server side of the eXpress meeting add-in for Microsoft Outlook.
//!
//! One binary replaces the vendor's core service (add-in API, port 7100), template service
//! (admin console, port 7200) and database tool. See SPEC.md in the shared folder and the
//! README for the contract.

pub mod adfs;
pub mod bot;
pub mod botcheck;
pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod db;
pub mod http;
pub mod i18n;
pub mod logging;
pub mod metrics;
pub mod outbound;
pub mod render;
pub mod server;
pub mod template;
