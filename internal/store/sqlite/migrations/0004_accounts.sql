-- Accounts, sign-in link tokens, room owners and invites (Reticulum's accounts, login_tokens,
-- hub_role_memberships and hub_invites). Emails are stored normalised (trimmed, lowercase) and unique.
-- min_token_issued_at is unix milliseconds; 0 means no token was ever revoked.
CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    email               TEXT    NOT NULL UNIQUE,
    is_admin            INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    state               TEXT    NOT NULL DEFAULT 'enabled' CHECK (state IN ('enabled', 'disabled')),
    min_token_issued_at INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
) STRICT;

-- "Is there an admin yet?" is asked on every account creation.
CREATE INDEX accounts_admins ON accounts (id) WHERE is_admin = 1;

-- Only the SHA-256 of a sign-in token is kept, so the database alone does not let anyone sign in.
CREATE TABLE login_tokens (
    token_hash BLOB    NOT NULL PRIMARY KEY,
    email      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX login_tokens_expires_at ON login_tokens (expires_at);

-- Membership means "owner", as in Reticulum. Rows go with their hub or account.
CREATE TABLE hub_role_memberships (
    hub_id     INTEGER NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (hub_id, account_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX hub_role_memberships_account ON hub_role_memberships (account_id);

-- Revoked invites are kept (state 'revoked') so an old link can be told apart from a mistyped one in logs.
CREATE TABLE hub_invites (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    hub_id     INTEGER NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    invite_sid TEXT    NOT NULL UNIQUE,
    state      TEXT    NOT NULL CHECK (state IN ('active', 'revoked')),
    created_at INTEGER NOT NULL
) STRICT;

-- At most one active invite per room.
CREATE UNIQUE INDEX hub_invites_one_active ON hub_invites (hub_id) WHERE state = 'active';

-- NULL when nobody (no signed-in account) created the room.
ALTER TABLE hubs ADD COLUMN created_by_account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL;
