-- Uploaded files (Reticulum's owned_files and stored_files in one table). The bytes are blobs in the data folder
-- named by sha256, shared by every row with the same content. expires_at (unix ms) is NULL exactly while the file
-- has refs (something keeps it: a pinned object, an avatar, a scene).
CREATE TABLE files (
    id           TEXT    NOT NULL PRIMARY KEY,
    sha256       TEXT    NOT NULL CHECK (length(sha256) = 64),
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    name         TEXT    NOT NULL,
    access_token TEXT    NOT NULL,
    account_id   INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER
) STRICT;

-- "Does another row still use this blob?" after each sweep.
CREATE INDEX files_sha256 ON files (sha256);
-- "My uploads", newest first.
CREATE INDEX files_account ON files (account_id, created_at) WHERE account_id IS NOT NULL;
-- The sweeper's scan for expired rows.
CREATE INDEX files_expires_at ON files (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE file_refs (
    file_id    TEXT    NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    ref        TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (file_id, ref)
) STRICT, WITHOUT ROWID;
