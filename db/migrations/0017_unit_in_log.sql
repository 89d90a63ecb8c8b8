-- An address may show the residential unit in the activity log ("a resident of Top 4"), never
-- the resident. The unit's name is copied into the entry when it is stored, and only when the
-- address shows it then.
ALTER TABLE addresses ADD COLUMN show_unit_in_log INTEGER NOT NULL DEFAULT 0 CHECK (show_unit_in_log IN (0, 1));
ALTER TABLE activity ADD COLUMN resident_unit TEXT NOT NULL DEFAULT '';
