DROP INDEX IF EXISTS attempt_retention;
