-- The usage meter's totals per calendar month (UTC), for the spend estimate and the monthly budget.
CREATE TABLE usage_months (
    month          TEXT NOT NULL PRIMARY KEY,
    user_seconds   REAL NOT NULL DEFAULT 0,
    server_seconds REAL NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;
