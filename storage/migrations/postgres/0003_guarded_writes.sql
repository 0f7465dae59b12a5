-- omadm_abort raises an error with the given SQLSTATE. The storage backend
-- writes everything a DM message changes in one pipelined implicit
-- transaction (storage.EffectsWriter); a guard that finds nothing to change
-- (session version moved, job already terminal, device gone) calls this
-- function from a CASE so that the whole pipeline is rolled back, with no
-- BEGIN/COMMIT round trips. VOLATILE keeps the planner from evaluating it
-- before the guard decides.
CREATE OR REPLACE FUNCTION omadm_abort(code text, msg text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg;
END
$$;
