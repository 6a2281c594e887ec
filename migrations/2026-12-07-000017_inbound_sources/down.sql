ALTER TABLE events DROP COLUMN source_id, DROP COLUMN inbound_request_id, DROP COLUMN source_headers;
DROP TABLE inbound_dedupe;
DROP TABLE inbound_requests;
DROP TABLE sources;
