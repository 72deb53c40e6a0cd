//! How long one RS256 access-token check takes (signature, issuer, audience, times), the work
//! xmeet does for a token it has not seen before; later requests with the same token are
//! answered from a cache. `cargo run --release --example rs256`.

#[path = "../tests/integration/fakes.rs"]
#[allow(dead_code)]
mod fakes;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use std::time::Instant;

fn main() {
    let key = fakes::RsaKey::generate("bench");
    let decoding = DecodingKey::from_jwk(&serde_json::from_value(key.jwk.clone()).expect("jwk"))
        .expect("decoding key");
    let tokens: Vec<String> = (0..2000)
        .map(|i| {
            let mut c = fakes::FakeAdfs::claims(&format!("user{i}@example.com"));
            c["jti"] = serde_json::json!(i);
            fakes::FakeAdfs::sign_with(&key, &c)
        })
        .collect();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[fakes::ACCESS_TOKEN_ISSUER]);
    v.set_audience(&[fakes::RESOURCE]);
    v.validate_nbf = true;
    v.leeway = 300;
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for tok in &tokens {
            let d = jsonwebtoken::decode::<serde_json::Value>(tok, &decoding, &v).expect("valid");
            std::hint::black_box(d);
        }
        best = best.min(t.elapsed().as_secs_f64() / tokens.len() as f64);
    }
    println!(
        "RS256 check of a new 2048-bit token: {:.1} µs (best of 5 rounds of {})",
        best * 1e6,
        tokens.len()
    );
}
