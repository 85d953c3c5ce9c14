-- Diameter: the peers (MMEs) allowed to talk to the S13 EIR and the S6a
-- guard, and the operator's device list (diameter.go in the root package).

CREATE TABLE diameter_peers (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    origin_host TEXT    NOT NULL UNIQUE,
    realm       TEXT    NOT NULL,
    prefix      TEXT    NOT NULL,
    plmns       TEXT    NOT NULL, -- JSON array of "MCC-MNC"
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX diameter_peers_tenant ON diameter_peers (tenant_id, id);

-- One entry per tenant and device (14-digit TAC+SNR).
CREATE TABLE devices (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    imei       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    note       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, imei)
);
