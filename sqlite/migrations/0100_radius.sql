-- RADIUS: the NAS clients simguard answers, the data sessions it accounts
-- and the addresses it leases (radius.go in the root package).

CREATE TABLE radius_nas_clients (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    name       TEXT    NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL UNIQUE,
    secret     TEXT    NOT NULL, -- sealed by the caller (package sealed), never plaintext
    options    TEXT    NOT NULL, -- JSON: identity order, Message-Authenticator, CoA
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX radius_nas_clients_tenant ON radius_nas_clients (tenant_id, id);

-- A session is live while stop IS NULL; at most one live session per NAS
-- and Acct-Session-Id. sim_id is NULL for a SIM the policy did not know.
CREATE TABLE radius_sessions (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL,
    sim_id         INTEGER,
    nas            TEXT    NOT NULL,
    session_id     TEXT    NOT NULL,
    start          INTEGER NOT NULL,
    stop           INTEGER,
    last_update    INTEGER NOT NULL,
    input_octets   INTEGER NOT NULL,
    output_octets  INTEGER NOT NULL,
    input_packets  INTEGER NOT NULL,
    output_packets INTEGER NOT NULL,
    usage_reported INTEGER NOT NULL,
    detail         TEXT    NOT NULL, -- JSON: identity, device, APN, radio, location, address, cause
    disconnect     TEXT,             -- JSON of the last Disconnect-Request
    version        INTEGER NOT NULL
);
CREATE UNIQUE INDEX radius_sessions_live_key ON radius_sessions (nas, session_id) WHERE stop IS NULL;
CREATE INDEX radius_sessions_key ON radius_sessions (nas, session_id, id);
CREATE INDEX radius_sessions_sim ON radius_sessions (sim_id, id);
CREATE INDEX radius_sessions_tenant ON radius_sessions (tenant_id, id);
CREATE INDEX radius_sessions_live ON radius_sessions (id) WHERE stop IS NULL;

CREATE TABLE radius_leases (
    pool       TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    sim_id     INTEGER NOT NULL,
    tenant_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (pool, ip),
    UNIQUE (pool, sim_id)
);
CREATE INDEX radius_leases_sim ON radius_leases (sim_id);
