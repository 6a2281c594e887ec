-- Dispatcher processes that listen for wake-ups (issue 12, CPU per delivery). After a
-- publish, an API process wakes its own dispatcher directly and NOTIFYs the others; with
-- no other dispatcher alive, that NOTIFY (its own statement, and a wake-up of every
-- listening connection) was pure cost at every publish. Each dispatcher keeps its row
-- fresh while it listens (src/queue/pg.rs, `Registry`); an API process sends the NOTIFY
-- only while another process's row is fresh.
CREATE TABLE dispatchers (
    instance text PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
