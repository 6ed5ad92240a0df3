-- Masked evidence of a finding (a secret's kind and last characters), never the secret itself.

ALTER TABLE findings ADD COLUMN evidence text NOT NULL DEFAULT '';
