-- What people bring into rooms and keep (docs/content.md): pinned room objects (Reticulum's room_objects), uploaded
-- avatars and uploaded scenes. file_id names an upload by its id; the uploads service keeps the file while a row
-- here refers to it (refs pin:<hub>:<object>, avatar:<sid>, scene:<sid>), so there is no foreign key to it.
-- Times are unix milliseconds. An account that goes away leaves its pins, avatars and scenes with no account.
CREATE TABLE room_objects (
    id         INTEGER PRIMARY KEY AUTOINCREMENT, -- first pin order, kept across re-pins
    hub_id     INTEGER NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    object_id  TEXT    NOT NULL CHECK (length(object_id) BETWEEN 1 AND 128),
    gltf_node  TEXT    NOT NULL CHECK (json_valid(gltf_node) AND length(gltf_node) <= 16384),
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    file_id    TEXT,
    updated_at INTEGER NOT NULL,
    UNIQUE (hub_id, object_id)
) STRICT;

CREATE TABLE avatars (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    avatar_sid TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    file_id    TEXT    NOT NULL,
    account_id INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    featured   INTEGER NOT NULL DEFAULT 0 CHECK (featured IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX avatars_account ON avatars (account_id);
CREATE INDEX avatars_featured ON avatars (id) WHERE featured = 1;

CREATE TABLE scenes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_sid      TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    attributions   TEXT    NOT NULL DEFAULT '',
    allow_remixing INTEGER NOT NULL DEFAULT 0 CHECK (allow_remixing IN (0, 1)),
    file_id        TEXT    NOT NULL,
    account_id     INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;
