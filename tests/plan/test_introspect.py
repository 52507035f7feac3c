import psycopg
import pytest

from bgmigrate.plan.identifiers import QualifiedName
from bgmigrate.plan.introspect import SchemaSourceError, introspect, redact_dsn
from bgmigrate.plan.schema import SchemaLookupError

SCHEMA = """
CREATE ROLE bgmigrate_reader;
CREATE TABLE users (
    id serial PRIMARY KEY,
    email varchar(255) NOT NULL CHECK (char_length(email) > 3),
    "User Email" text COLLATE "C",
    bio text DEFAULT 'none'
);
CREATE UNIQUE INDEX users_email_key ON users (email);
ALTER TABLE users ADD CONSTRAINT users_email_uq UNIQUE USING INDEX users_email_key;
CREATE INDEX users_lower_email ON users (lower(email)) WHERE bio IS NOT NULL;
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_email varchar(255) REFERENCES users (email) ON UPDATE CASCADE,
    quantity int NOT NULL
);
ALTER TABLE orders ADD CONSTRAINT orders_quantity_positive CHECK (quantity > 0) NOT VALID;
CREATE VIEW user_emails WITH (security_barrier = true) AS SELECT id, email FROM users;
CREATE VIEW user_emails_upper AS SELECT upper(email) AS e FROM user_emails;
GRANT SELECT ON user_emails TO bgmigrate_reader;
GRANT SELECT, INSERT ON users TO bgmigrate_reader;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER users_touch BEFORE UPDATE OF bio ON users FOR EACH ROW EXECUTE FUNCTION touch();
"""


@pytest.fixture
def schema(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute("DROP ROLE IF EXISTS bgmigrate_reader")
        connection.execute(SCHEMA)
    yield introspect(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as connection:
        connection.execute("DROP OWNED BY bgmigrate_reader; DROP ROLE bgmigrate_reader")


def test_columns_keep_type_modifiers_defaults_identity_and_collation(schema):
    users = schema.table(QualifiedName("public", "users"))
    email = users.column("email")
    assert (email.type, email.not_null) == ("character varying(255)", True)
    assert users.column("id").default == "nextval('public.users_id_seq'::regclass)"
    assert users.column("id").owned_sequence == QualifiedName("public", "users_id_seq")
    assert users.column("User Email").collation == 'pg_catalog."C"'
    orders = schema.table(QualifiedName("public", "orders"))
    assert orders.column("id").identity == "always"
    assert users.primary_key == ("id",)


def test_indexes_and_constraints_name_the_columns_they_use(schema):
    users = schema.table(QualifiedName("public", "users"))
    by_name = {index.name.name: index for index in users.indexes_using("email")}
    # ADD CONSTRAINT … USING INDEX gives the index the constraint's name.
    assert set(by_name) == {"users_email_uq", "users_lower_email"}
    assert by_name["users_email_uq"].constraint == "users_email_uq"
    assert by_name["users_lower_email"].partial and by_name["users_lower_email"].columns == (None,)
    assert by_name["users_lower_email"].uses == {"email", "bio"}
    kinds = {c.name: c.kind for c in users.constraints_on("email")}
    assert kinds == {"users_email_check": "check", "users_email_uq": "unique"}
    orders = schema.table(QualifiedName("public", "orders"))
    check = next(c for c in orders.constraints if c.name == "orders_quantity_positive")
    assert not check.validated


def test_foreign_keys_of_other_tables_are_listed_on_the_referenced_table(schema):
    users = schema.table(QualifiedName("public", "users"))
    (foreign,) = users.foreign_keys_referencing("email")
    assert foreign.table == QualifiedName("public", "orders")
    assert foreign.definition == (
        "FOREIGN KEY (user_email) REFERENCES public.users(email) ON UPDATE CASCADE"
    )


def test_views_carry_definition_options_grants_and_dependents(schema):
    users = schema.table(QualifiedName("public", "users"))
    (view,) = users.views_using("email")
    assert view.name == QualifiedName("public", "user_emails")
    assert "FROM public.users" in view.definition
    assert view.options == ("security_barrier=true",)
    assert [g.sql(view.name.sql) for g in view.grants] == [
        "GRANT SELECT ON public.user_emails TO bgmigrate_reader"
    ]
    assert view.dependents == (QualifiedName("public", "user_emails_upper"),)
    assert {g.privilege for g in users.grants} == {"SELECT", "INSERT"}


def test_triggers_list_their_update_of_columns(schema):
    users = schema.table(QualifiedName("public", "users"))
    (trigger,) = users.triggers
    assert trigger.name == "users_touch" and trigger.columns == ("bio",)


def test_resolve_prefers_public_and_hints_at_case(schema):
    assert schema.resolve(("users",)) == QualifiedName("public", "users")
    with pytest.raises(SchemaLookupError, match="no table 'customers'"):
        schema.resolve(("customers",))
    with pytest.raises(SchemaLookupError, match='did you mean "User Email"'):
        schema.table(QualifiedName("public", "users")).column("user email")


def test_introspection_is_read_only(fresh_db):
    # The transaction is READ ONLY: any write would fail; an unreachable server is a clean error.
    with pytest.raises(SchemaSourceError, match="cannot read the schema"):
        introspect("postgresql://nobody:secret@127.0.0.1:1/none")


def test_redact_dsn_drops_the_password():
    assert "secret" not in redact_dsn("postgresql://u:secret@localhost/db")
