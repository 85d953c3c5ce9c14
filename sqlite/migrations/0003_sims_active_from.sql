-- A SIM can be activated between two times, not only "for 2h": before
-- active_from (Unix nanoseconds, NULL: no scheduled start) every service
-- is outside its window.
ALTER TABLE sims ADD COLUMN active_from INTEGER;
