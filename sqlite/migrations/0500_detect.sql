-- Detection: alerts (with the events that caused them and the actions
-- taken) and webhook deliveries that failed every attempt. Times are
-- INTEGER nanoseconds since the Unix epoch (UTC), as in 0001_core.

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY,
    tenant_id       INTEGER NOT NULL REFERENCES tenants (id),
    rule            TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    severity_rank   INTEGER NOT NULL, -- 1 info … 5 critical, for "this severity or higher"
    key             TEXT    NOT NULL,
    sim_id          INTEGER NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    count           INTEGER NOT NULL,
    first_event_at  INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    dry_run         INTEGER NOT NULL DEFAULT 0,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    resolved_at     INTEGER,
    resolved_by     TEXT,
    note            TEXT    NOT NULL DEFAULT '',
    events          TEXT    NOT NULL, -- JSON array of simguard.Event, oldest first
    actions         TEXT    NOT NULL DEFAULT '[]' -- JSON array of simguard.AlertAction
);
CREATE INDEX alerts_tenant ON alerts (tenant_id, id);
CREATE INDEX alerts_active ON alerts (id) WHERE state != 'resolved';
CREATE INDEX alerts_sim ON alerts (sim_id, id) WHERE sim_id != 0;

CREATE TABLE webhook_dead_letters (
    id         INTEGER PRIMARY KEY,
    webhook    TEXT    NOT NULL,
    body       BLOB    NOT NULL, -- the exact bytes that were signed
    attempts   INTEGER NOT NULL,
    last_error TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_dead_letters_webhook ON webhook_dead_letters (webhook, id);
