-- Server-wide settings as text key/value pairs; the store package parses and validates them, so adding a setting
-- needs no migration.
CREATE TABLE site_settings (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
