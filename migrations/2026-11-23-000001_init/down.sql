DROP TABLE webhook_logs;
DROP TABLE leases;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE webhooks;
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE tenants;
