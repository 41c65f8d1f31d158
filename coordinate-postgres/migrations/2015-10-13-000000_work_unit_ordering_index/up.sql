-- go-coordinate 20151013-index.sql: units in hand-out order.
CREATE INDEX work_unit_ordering ON work_unit (priority DESC, name ASC);
