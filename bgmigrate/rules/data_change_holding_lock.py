"""data-change-holding-lock: a data change in a transaction that already holds a lock which
blocks the app keeps that lock held for as long as the rows take."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.holds import long_holds
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import DataChange

_STATEMENTS = {
    "insert": "INSERT INTO {} … SELECT",
    "update": "UPDATE {}",
    "delete": "DELETE FROM {}",
}


def check(op: DataChange, ctx: Context) -> Iterator[Violation]:
    touched = (op.table, *op.reads)
    if all(ctx.is_new_relation(table) for table in touched):
        return  # it reads and writes only tables nobody else has rows in: it is short
    statement = _STATEMENTS[op.kind].format(op.table)
    for hold in long_holds(op, ctx):
        table, mode = hold.lock.table, hold.lock.mode
        yield Violation(
            message=(
                f"{statement} runs while {table} is locked {mode.value} in this transaction, "
                f"by {hold.taken_by}. Locks are held until COMMIT: {mode.blocks} on {table}, "
                "from both app versions, wait for the whole data change, as long as the rows "
                "it reads and writes take. Reported once per table and transaction."
            ),
            safe_alternative=(
                f"COMMIT after line {hold.last_line} and run the data change in a "
                "transaction of its own (a large one in batches: `bgmigrate apply PLAN --phase "
                "backfill`); for a new table's foreign key, create the table without it, copy "
                "the rows, then add the key NOT VALID and VALIDATE it in a later migration."
            ),
        )


RULE = Rule(
    name="data-change-holding-lock",
    category=Category.LOCKING,
    severity=Severity.WARNING,
    summary="A data change in a transaction that already holds a blocking lock keeps it held for the whole copy.",
    why="""\
Inside a transaction, locks are held until COMMIT. An `INSERT … SELECT`, `UPDATE` or `DELETE`
takes no lock that queues the app, but it lasts as long as the rows it reads and writes take;
when an earlier statement of the same transaction locked an existing table, that lock lasts
through it. The lock is easy to miss: `CREATE TABLE … REFERENCES users`, `ADD COLUMN …
REFERENCES users` and `ADD CONSTRAINT … FOREIGN KEY … REFERENCES users` take SHARE ROW
EXCLUSIVE on `users` (measured in `pg_locks`), which blocks every INSERT, UPDATE and DELETE on
`users` until COMMIT, so copying `users`' rows into the new table afterwards blocks every write
to `users` for the whole copy. Reported once per locked table and transaction, at the first
data change that makes the hold long, naming the statements that took the lock; a table
created earlier in the unit is exempt (empty, unused by the old version), and so is a data
change that touches only such tables. The statements of a `DO` block count as one
transaction.""",
    safe_alternative="""\
Commit the statement that takes the lock before the data change, and run the data change in a
transaction of its own (in batches for a large table). To split a table with a foreign key
back to the old one:

```sql
CREATE TABLE user_profiles (user_id bigint PRIMARY KEY, bio text);
INSERT INTO user_profiles (user_id, bio) SELECT id, bio FROM users;  -- no lock on users' writes
-- in a later migration:
ALTER TABLE user_profiles ADD CONSTRAINT user_profiles_user_id_fkey
  FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE user_profiles VALIDATE CONSTRAINT user_profiles_user_id_fkey;
```""",
    visits=(DataChange,),
    check=check,
    flagged=(
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "CREATE TABLE user_profiles (user_id bigint PRIMARY KEY REFERENCES users (id), "
            "bio text);\n"
            "INSERT INTO user_profiles (user_id, bio) SELECT id, bio FROM users;\nCOMMIT;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, bio text);",
            line=4,
            note="The foreign key locks users against writes until COMMIT; the copy keeps it.",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
            "REFERENCES users (id) NOT VALID;\n"
            "UPDATE orders SET user_id = NULL WHERE user_id = 0;\nCOMMIT;",
            before="CREATE TABLE users (id bigint PRIMARY KEY);\n"
            "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);",
            line=4,
            note="Both tables of the foreign key stay locked through the UPDATE.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\nDO $$\nBEGIN\n"
            "  ALTER TABLE orders ADD COLUMN buyer_id bigint REFERENCES users (id);\n"
            "  INSERT INTO order_buyers (order_id) SELECT id FROM orders;\nEND $$;",
            before="CREATE TABLE users (id bigint PRIMARY KEY);\n"
            "CREATE TABLE orders (id bigint PRIMARY KEY);\n"
            "CREATE TABLE order_buyers (order_id bigint);",
            line=5,
            note="A DO block is one transaction: orders and users stay locked through the copy.",
        ),
    ),
    passing=(
        Example(
            sql="BEGIN;\nCREATE TABLE users (id bigint PRIMARY KEY, bio text);\n"
            "CREATE TABLE user_profiles (user_id bigint PRIMARY KEY REFERENCES users (id), "
            "bio text);\n"
            "INSERT INTO user_profiles (user_id, bio) SELECT id, bio FROM users;\nCOMMIT;",
            note="The referenced table is new in the unit: nobody else writes to it.",
        ),
        Example(
            sql="SET lock_timeout = '2s';\n"
            "CREATE TABLE user_profiles (user_id bigint PRIMARY KEY REFERENCES users (id), "
            "bio text);\n"
            "INSERT INTO user_profiles (user_id, bio) SELECT id, bio FROM users;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, bio text);",
            note="Each statement commits on its own: the lock ends with the CREATE TABLE.",
        ),
        Example(
            sql="BEGIN;\nSET LOCAL lock_timeout = '2s';\n"
            "CREATE TABLE user_profiles (user_id bigint PRIMARY KEY REFERENCES users (id), "
            "bio text);\nCOMMIT;\n"
            "INSERT INTO user_profiles (user_id, bio) SELECT id, bio FROM users;",
            before="CREATE TABLE users (id bigint PRIMARY KEY, bio text);",
            note="The transaction that took the lock has committed before the copy.",
        ),
    ),
)
