-- xmeet schema for the whole product. Timestamps are UTC without zone.
-- SQLite twin of migrations/postgres: same tables, same names.

CREATE TABLE admins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    -- Argon2id PHC string; '' = no password set yet (first sign-in with an empty password)
    password_hash TEXT NOT NULL DEFAULT '',
    must_change_password BOOLEAN NOT NULL DEFAULT 0,
    -- raised on password change so that older console tokens stop working
    token_version BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX admins_login_key ON admins (login);

CREATE TABLE templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    locale TEXT NOT NULL,
    html TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX templates_one_active_per_locale ON templates (locale) WHERE active;

-- every saved text of every template, the current one included
CREATE TABLE template_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    template_id BIGINT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    locale TEXT NOT NULL,
    html TEXT NOT NULL,
    saved_at TIMESTAMP NOT NULL,
    saved_by TEXT NOT NULL DEFAULT '',
    UNIQUE (template_id, version)
);

-- conferences booked through xmeet (the bot has no read endpoint)
CREATE TABLE conferences (
    call_id TEXT PRIMARY KEY,
    creator TEXT NOT NULL,
    name TEXT NOT NULL,
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL,
    link_id TEXT,
    link_type TEXT NOT NULL,
    link TEXT,
    access_code TEXT,
    sip_number TEXT,
    members TEXT NOT NULL DEFAULT '[]',
    admins TEXT NOT NULL DEFAULT '[]',
    locale TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE INDEX conferences_creator_start ON conferences (creator, start_at);

CREATE TABLE idempotency_keys (
    creator TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    -- 'pending' while the first request runs, 'done' with its answer afterwards
    state TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (creator, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

-- small shared state every replica must agree on (generated console JWT key, seed marks,
-- template cache generation)
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
