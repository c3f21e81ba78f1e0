-- Rooms. Timestamps are unix milliseconds (UTC), which sort and compare as plain integers and round-trip exactly
-- to the millisecond. STRICT makes SQLite refuse values of the wrong type instead of storing them silently.
-- AUTOINCREMENT so an id is never reused after a delete: ids may be referenced from logs and other tables.
CREATE TABLE hubs (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    hub_sid                  TEXT    NOT NULL UNIQUE,
    slug                     TEXT    NOT NULL DEFAULT '',
    name                     TEXT    NOT NULL,
    description              TEXT    NOT NULL DEFAULT '',
    entry_mode               TEXT    NOT NULL DEFAULT 'allow' CHECK (entry_mode IN ('allow', 'invite', 'deny')),
    room_size                INTEGER NOT NULL CHECK (room_size BETWEEN 0 AND 1000),
    member_permissions       INTEGER NOT NULL CHECK (member_permissions BETWEEN 0 AND 255),
    scene_ref                TEXT    NOT NULL DEFAULT '',
    creator_assignment_token TEXT    NOT NULL DEFAULT '',
    created_at               INTEGER NOT NULL,
    last_active_at           INTEGER NOT NULL
) STRICT;

-- Idle-room sweeps and "recently active" listings order by this.
CREATE INDEX hubs_last_active_at ON hubs (last_active_at);
