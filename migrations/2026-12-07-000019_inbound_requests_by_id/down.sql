CREATE INDEX IF NOT EXISTS inbound_requests_received ON inbound_requests (received_at);
