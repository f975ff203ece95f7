"""Generated migrations applied to a database under a write load (`nox -s
online`): each change a user makes to schema.sql goes through `migrate diff`
and is applied while writers keep calling the repositories."""
