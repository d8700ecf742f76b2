-- Inventory: every change of a variant's stock is an entry of its ledger,
-- written in the transaction that changes the counters (variants.on_hand,
-- variants.reserved), with the counters as they were left. Entries are never
-- edited; they go with their variant.
CREATE TABLE inventory_ledger (
    id UUID PRIMARY KEY,
    variant_id UUID NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    -- The change of on_hand.
    delta BIGINT NOT NULL CHECK (delta <> 0),
    reason TEXT NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 500),
    on_hand_after BIGINT NOT NULL,
    reserved_after BIGINT NOT NULL,
    -- Who made the change (an admin; a service for orders later).
    actor_issuer TEXT NOT NULL,
    actor_subject TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A variant's ledger, newest first (keyset pages).
CREATE INDEX inventory_ledger_variant_idx ON inventory_ledger (variant_id, created_at DESC, id DESC);

CREATE FUNCTION inventory_ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'inventory_ledger entries are never edited';
END;
$$;
CREATE TRIGGER inventory_ledger_append_only BEFORE UPDATE ON inventory_ledger
    FOR EACH ROW EXECUTE FUNCTION inventory_ledger_is_append_only();
