//! Prometheus metrics in text format, process-wide: requests by route and status, request
//! latency, bot calls by outcome, token rejections by reason, JWKS refreshes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{LazyLock, Mutex};

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, String), u64>,
    histograms: BTreeMap<(&'static str, String), Histogram>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect::<Vec<_>>()
        .join(",")
}

fn inc(name: &'static str, pairs: &[(&str, &str)]) {
    if let Ok(mut r) = REGISTRY.lock() {
        *r.counters.entry((name, labels(pairs))).or_default() += 1;
    }
}

pub fn http_request(role: &str, route: &str, method: &str, status: u16, seconds: f64) {
    let status = status.to_string();
    let counter = labels(&[
        ("role", role),
        ("route", route),
        ("method", method),
        ("status", &status),
    ]);
    let histogram = labels(&[("role", role), ("route", route)]);
    // one lock for both figures of a request
    let Ok(mut r) = REGISTRY.lock() else { return };
    *r.counters
        .entry(("xmeet_http_requests_total", counter))
        .or_default() += 1;
    let h = r
        .histograms
        .entry(("xmeet_http_request_duration_seconds", histogram))
        .or_default();
    for (i, b) in BUCKETS.iter().enumerate() {
        if seconds <= *b {
            h.counts[i] += 1;
        }
    }
    h.sum += seconds;
    h.count += 1;
}

/// `operation`: create | change | delete | probe; `outcome`: ok, a bot reason, auth_failed,
/// unavailable, timeout.
pub fn bot_call(operation: &str, outcome: &str) {
    inc(
        "xmeet_bot_calls_total",
        &[("operation", operation), ("outcome", outcome)],
    );
}

pub fn token_rejected(reason: &str) {
    inc("xmeet_token_rejections_total", &[("reason", reason)]);
}

pub fn jwks_refresh(outcome: &str) {
    inc("xmeet_jwks_refreshes_total", &[("outcome", outcome)]);
}

const HELP: &[(&str, &str, &str)] = &[
    (
        "xmeet_http_requests_total",
        "counter",
        "HTTP requests by role, route, method and status.",
    ),
    (
        "xmeet_http_request_duration_seconds",
        "histogram",
        "HTTP request latency by role and route.",
    ),
    (
        "xmeet_bot_calls_total",
        "counter",
        "Calls to the Conference Notifier Bot by operation and outcome.",
    ),
    (
        "xmeet_token_rejections_total",
        "counter",
        "AD FS access tokens rejected, by reason.",
    ),
    (
        "xmeet_jwks_refreshes_total",
        "counter",
        "AD FS key-set fetches by outcome.",
    ),
];

/// The Prometheus text exposition of everything counted so far.
pub fn render() -> String {
    let mut out = String::new();
    let Ok(r) = REGISTRY.lock() else {
        return out;
    };
    for (name, kind, help) in HELP {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        if *kind == "counter" {
            for ((n, l), v) in r.counters.range((*name, String::new())..) {
                if n != name {
                    break;
                }
                let _ = writeln!(out, "{name}{{{l}}} {v}");
            }
        } else {
            for ((n, l), h) in r.histograms.range((*name, String::new())..) {
                if n != name {
                    break;
                }
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(out, "{name}_bucket{{{l},le=\"{b}\"}} {}", h.counts[i]);
                }
                let _ = writeln!(out, "{name}_bucket{{{l},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "{name}_sum{{{l}}} {}", h.sum);
                let _ = writeln!(out, "{name}_count{{{l}}} {}", h.count);
            }
        }
    }
    out
}

/// `GET /metrics`.
pub async fn endpoint() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(render())
}
