-- The language the caller said the code is in (a hint for the stages; detection still runs).

ALTER TABLE scans ADD COLUMN language_hint text;
