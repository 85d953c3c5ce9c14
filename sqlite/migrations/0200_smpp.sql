-- SMS firewall: the ESME accounts (customers' SMS applications) that may
-- bind to the SMPP proxy. system_id is unique across the installation: a
-- bind names no tenant. The password is kept only as a bcrypt hash.
-- Upstream SMSC routes are not here: they are the operator's
-- infrastructure and live in the serve configuration (docs/smpp.md).

CREATE TABLE smpp_accounts (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    system_id     TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    upstream      TEXT    NOT NULL DEFAULT '',
    mo_prefixes   TEXT, -- JSON array of number prefixes; NULL when empty
    max_binds     INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    version       INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX smpp_accounts_tenant ON smpp_accounts (tenant_id, id);
