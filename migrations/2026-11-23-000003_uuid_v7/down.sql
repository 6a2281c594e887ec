DROP FUNCTION hookrelay_uuid_v7();
