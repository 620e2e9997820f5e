-- Up Migration

-- Servers cache who a user is and which groups they belong to. Any change to those rows, by the API, by another
-- instance or by an operator's SQL, announces itself on the `access_changed` channel when its transaction
-- commits, so every instance drops what it cached. Payload: "<kind>:<uuid>".
CREATE FUNCTION notify_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  kind text := TG_ARGV[0];
  id_column text := TG_ARGV[1];
  new_id text := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) ->> id_column END;
  old_id text := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) ->> id_column END;
BEGIN
  IF new_id IS NOT NULL THEN
    PERFORM pg_notify('access_changed', kind || ':' || new_id);
  END IF;
  IF old_id IS NOT NULL AND old_id IS DISTINCT FROM new_id THEN
    PERFORM pg_notify('access_changed', kind || ':' || old_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER users_access_changed AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION notify_access_change('user', 'id');
CREATE TRIGGER memberships_access_changed AFTER INSERT OR UPDATE OR DELETE ON memberships
  FOR EACH ROW EXECUTE FUNCTION notify_access_change('member', 'user_id');
CREATE TRIGGER groups_access_changed AFTER UPDATE OR DELETE ON groups
  FOR EACH ROW EXECUTE FUNCTION notify_access_change('group', 'id');

-- Down Migration
DROP TRIGGER groups_access_changed ON groups;
DROP TRIGGER memberships_access_changed ON memberships;
DROP TRIGGER users_access_changed ON users;
DROP FUNCTION notify_access_change();
