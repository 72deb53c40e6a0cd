# syntax=docker/dockerfile:1
# xmeet: one image for the core role, the template role, both, and `xmeet migrate`.
# Same toolchain and features as CI (Rust 1.95, default features, release profile,
# binary target/release/xmeet).

ARG RUST_VERSION=1.95
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN} AS build
WORKDIR /src
# libpq for diesel's PostgreSQL backend (SQLite is built in)
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*
# 1) dependencies only, in their own layer: a change to our code does not rebuild them
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src \
 && echo 'fn main() {}' > src/main.rs \
 && echo '' > src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src target/release/xmeet target/release/deps/xmeet-* target/release/deps/libxmeet-* target/release/.fingerprint/xmeet-*
# 2) our code (migrations and the console are embedded into the binary)
COPY src ./src
COPY migrations ./migrations
COPY web ./web
RUN cargo build --release --locked \
 && strip target/release/xmeet \
 && ./target/release/xmeet --version

FROM debian:${DEBIAN}-slim AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="xmeet" \
      org.opencontainers.image.description="Book eXpress video conferences from Microsoft Outlook: the core and template services in one binary" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://example.invalid/xmeet"
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata libpq5 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 xmeet \
 && useradd --system --uid 10001 --gid xmeet --home-dir /var/lib/xmeet --shell /usr/sbin/nologin xmeet \
 && mkdir -p /var/lib/xmeet /var/log/xmeet /etc/xmeet /usr/local/share/ca-certificates /public/express-meeting-logs/client \
 && chown -R xmeet:xmeet /var/lib/xmeet /var/log/xmeet /public/express-meeting-logs
COPY --from=build /src/target/release/xmeet /usr/bin/xmeet
COPY packaging/debian/xmeet.toml /etc/xmeet/xmeet.toml
# The guide's appendix 1 mounts extra CA certificates at /usr/local/share/ca-certificates:
# xmeet trusts every *.crt/*.pem there without update-ca-certificates.
ENV XMEET_CONFIG=/etc/xmeet/xmeet.toml \
    XMEET_TLS__CA_DIR=/usr/local/share/ca-certificates
USER xmeet
WORKDIR /var/lib/xmeet
VOLUME ["/var/lib/xmeet", "/var/log/xmeet"]
EXPOSE 7100 7200
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["xmeet", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["xmeet"]
CMD ["serve", "--role", "all"]
