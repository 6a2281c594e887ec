-- API key scopes (SPEC "Multi-tenancy and auth"): 'all' (every route a logged-in user
-- has) or 'publish' (publishing and reading back its events only).
ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'all' CHECK (scope IN ('all', 'publish'));
