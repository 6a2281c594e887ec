CREATE INDEX leases_webhook_idx ON leases (webhook_id);
CREATE INDEX events_created_idx ON events (created_at);
CREATE INDEX webhook_logs_created_idx ON webhook_logs (created_at);
CREATE UNIQUE INDEX webhook_logs_seq_idx ON webhook_logs (seq);
CREATE INDEX webhook_logs_tenant_idx ON webhook_logs (tenant_id, id);

DELETE FROM webhook_logs l WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.id = l.delivery_id);
ALTER TABLE webhook_logs ADD CONSTRAINT webhook_logs_webhook_id_fkey
    FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE;
ALTER TABLE webhook_logs ADD CONSTRAINT webhook_logs_delivery_id_fkey
    FOREIGN KEY (delivery_id) REFERENCES deliveries (id) ON DELETE CASCADE;
ALTER TABLE webhook_logs ADD CONSTRAINT webhook_logs_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
