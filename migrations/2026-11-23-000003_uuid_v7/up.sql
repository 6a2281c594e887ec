-- UUID v7 made inside PostgreSQL (15 has no built-in), so that publishing can create an
-- event and all its deliveries in one statement: 48 bits of Unix milliseconds, then the
-- version and variant bits over random ones.
CREATE FUNCTION hookrelay_uuid_v7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(
        set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
            PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
            FROM 1 FOR 6), 52, 1), 53, 1),
        'hex')::uuid
$$;
