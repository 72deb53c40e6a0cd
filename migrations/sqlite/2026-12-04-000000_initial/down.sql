DROP TABLE settings;
DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE conferences;
DROP TABLE template_versions;
DROP TABLE templates;
DROP TABLE admins;
