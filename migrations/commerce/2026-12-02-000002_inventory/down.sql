DROP TABLE inventory_ledger;
DROP FUNCTION inventory_ledger_is_append_only();
