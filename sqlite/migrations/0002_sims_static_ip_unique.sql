-- A static IP names one SIM: the gateway maps device addresses to SIMs and
-- RADIUS answers Framed-IP-Address from it. The policy snapshot refused
-- duplicates before; the store now refuses them at the write, so that a
-- duplicate can no longer be stored and then stop the control plane from
-- starting.
CREATE UNIQUE INDEX sims_static_ip ON sims (static_ip) WHERE static_ip IS NOT NULL;
