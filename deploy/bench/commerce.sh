# The commerce scenarios of `make bench`, sourced by run.sh after the social
# ones: the stack is up (release), GW, TOKEN, OUT, DURATION, PREFIX, STACK and
# wrk_json are set. A commerce replica on a seeded database of its own serves
# them (through the gateway at /__bench/shop/). Writes COMMERCE_JSON.
SHOP_PORT=8096
SHOP_DB=commerce_bench
commerce_py() { python3 "$ROOT/deploy/bench/commerce.py" "$@"; }
shop_sql() { psql -v ON_ERROR_STOP=1 "$(db_url "$SHOP_DB")" "$@"; }

log "commerce: 100,000 products with attributes, categories and variants in a database of their own, served by a replica on :$SHOP_PORT"
psql "$(admin_url)" -qc "DROP DATABASE IF EXISTS $SHOP_DB" -c "CREATE DATABASE $SHOP_DB" >/dev/null
DATABASE_URL="$(db_url "$SHOP_DB")" "$ROOT/target/release/commerce" migrate >/dev/null 2>&1 || die "migrations of $SHOP_DB failed"
shop_sql -q >/dev/null <<'SQL' || die "seeding the shop failed"
-- Ten departments of two categories each.
INSERT INTO categories (id, slug, name, parent_id, position)
SELECT gen_random_uuid(), d, initcap(d), NULL, n
FROM unnest(ARRAY['audio','home','apparel','sports','kitchen','office','garden','toys','travel','beauty']) WITH ORDINALITY AS t(d, n);
INSERT INTO categories (id, slug, name, parent_id, position)
SELECT gen_random_uuid(), c.slug || '-' || k, initcap(c.slug) || ' ' || k, c.id, 0
FROM categories c CROSS JOIN unnest(ARRAY['basics','premium']) AS k;
CREATE TEMP TABLE words AS SELECT
  ARRAY['wireless','compact','classic','organic','rugged','slim','deluxe','portable','smart','vintage','ultralight','waterproof'] AS adj,
  ARRAY['headphones','speaker','kettle','jacket','sneakers','backpack','lamp','mug','keyboard','monitor','blender','tent',
        'blanket','watch','bottle','chair','desk','camera','charger','scarf','helmet','pillow','knife','sunglasses','notebook'] AS noun,
  ARRAY['Acme','Northwind','Globex','Initech','Umbrella','Stark','Wayne','Tyrell','Cyberdyne','Soylent',
        'Hooli','Vandelay','Wonka','Oscorp','Aperture','Massive','Virtucon','Gringotts','Monarch','Pied Piper'] AS brand,
  ARRAY['black','white','red','blue','green','grey','yellow','pink'] AS color,
  ARRAY['cotton','steel','bamboo','leather','aluminium','recycled plastic'] AS material;
INSERT INTO products (id, slug, title, description, status, attributes, options, created_at, updated_at)
SELECT gen_random_uuid(), 'p-' || g,
       initcap(w.adj[1 + g % 12]) || ' ' || w.noun[1 + (g / 12) % 25] || ' ' || g,
       'A ' || w.adj[1 + (g / 7) % 12] || ' ' || w.noun[1 + (g / 12) % 25] || ' made of ' || w.material[1 + g % 6]
         || ', by ' || w.brand[1 + g % 20] || '. Built for everyday use and backed by a two-year warranty.',
       'active',
       jsonb_build_object('brand', w.brand[1 + g % 20], 'color', w.color[1 + (g / 3) % 8],
                          'material', w.material[1 + g % 6], 'rating', (g % 50) / 10.0,
                          'recycled', g % 4 = 0, 'tags', jsonb_build_array(w.adj[1 + g % 12], w.noun[1 + (g / 12) % 25])),
       '[{"name": "Size", "values": ["S", "L"]}]'::jsonb,
       now() - make_interval(secs => g * 60), now()
FROM generate_series(1, 100000) AS g, words w;
-- The triggers that keep each product's prices, stock flag and categories on
-- its row would update 300,000 rows one by one: off for the seed, then filled
-- at once as the migrations fill them.
ALTER TABLE product_categories DISABLE TRIGGER product_categories_ids;
ALTER TABLE variants DISABLE TRIGGER variants_product_prices;
ALTER TABLE variants DISABLE TRIGGER variants_product_stock;
INSERT INTO product_categories (product_id, category_id, position)
SELECT p.id, c.id, 0
FROM products p
JOIN LATERAL (SELECT id FROM categories WHERE parent_id IS NOT NULL ORDER BY slug
              OFFSET (substr(p.slug, 3)::int % 20) LIMIT 1) c ON true;
INSERT INTO variants (id, product_id, sku, option_values, price_minor, on_hand, position)
SELECT gen_random_uuid(), p.id, 'SKU-' || substr(p.slug, 3) || '-' || s.size, jsonb_build_object('Size', s.size),
       500 + (substr(p.slug, 3)::int * 37) % 50000 + s.n * 300, (substr(p.slug, 3)::int % 5) * 3, s.n
FROM products p CROSS JOIN (VALUES ('S', 0), ('L', 1)) AS s(size, n);
-- Orders: eight variants with plenty of stock (one per wrk thread), one with the last ten units.
INSERT INTO products (id, slug, title, status) SELECT gen_random_uuid(), 'bench-order-' || n, 'Bench order ' || n, 'active'
FROM generate_series(0, 8) AS n;
INSERT INTO variants (id, product_id, sku, price_minor, on_hand)
SELECT gen_random_uuid(), id, 'BENCH-ORDER-' || substr(slug, 13), 1000, CASE WHEN slug = 'bench-order-8' THEN 10 ELSE 100000000 END
FROM products WHERE slug LIKE 'bench-order-%';
SELECT commerce_refresh_all_product_facets();
ALTER TABLE product_categories ENABLE TRIGGER product_categories_ids;
ALTER TABLE variants ENABLE TRIGGER variants_product_prices;
ALTER TABLE variants ENABLE TRIGGER variants_product_stock;
VACUUM ANALYZE;
SQL
"${STACK[@]}" replica commerce "$SHOP_PORT" "$SHOP_DB" || die "the seeded shop replica did not start"
SHOP="$GW/__bench/shop"

log "commerce: search with facets over 100,000 products (c=8): a plain query, a filtered one, a typo (and its word typed correctly)"
SEARCH_PLAIN="/api/products?q=wireless%20headphones"
SEARCH_FILTERED="/api/products?q=headphones&category=audio&minPrice=1000&maxPrice=30000&inStock=true&attr.brand=Acme&attr.brand=Globex&attr.color=black"
SEARCH_TYPO="/api/products?q=hedphones"
# The typo's reference: the same matches, found without typo alternatives, so
# the report tells what the typo tolerance costs from what so many matches do.
TYPO_WORD=headphones
SEARCH_TYPO_REF="/api/products?q=$TYPO_WORD"
for q in "$SEARCH_PLAIN" "$SEARCH_FILTERED" "$SEARCH_TYPO" "$SEARCH_TYPO_REF"; do
  curl -fsS "$SHOP$q" | python3 -c '
import json, sys
page = json.load(sys.stdin)
assert page["meta"]["total"] > 0 and page["items"], "no results"
assert page["facets"]["categories"], "no facets"
' || die "search $q found nothing"
done
# Not measured: a few seconds of the same load first. The replica's connections
# are new (catalog caches, statements) and the seeded pages never read by a
# search; the first seconds after a seed ran up to a third slower.
wrk -t2 -c8 -d3s "$SHOP$SEARCH_PLAIN" > /dev/null
wrk -t2 -c8 -d"${DURATION}s" --latency "$SHOP$SEARCH_PLAIN" > "$OUT/search-plain.txt"
wrk -t2 -c8 -d"${DURATION}s" --latency "$SHOP$SEARCH_FILTERED" > "$OUT/search-filtered.txt"
wrk -t2 -c8 -d"${DURATION}s" --latency "$SHOP$SEARCH_TYPO" > "$OUT/search-typo.txt"
wrk -t2 -c8 -d"${DURATION}s" --latency "$SHOP$SEARCH_TYPO_REF" > "$OUT/search-typo-ref.txt"
SEARCH_TOTALS="$(for q in "$SEARCH_PLAIN" "$SEARCH_FILTERED" "$SEARCH_TYPO" "$SEARCH_TYPO_REF"; do
  curl -fsS "$SHOP$q" | python3 -c 'import json,sys; print(json.load(sys.stdin)["meta"]["total"])'; done | paste -sd,)"

log "commerce: GET /api/products/{slug} and the replica's /health/live, both through the gateway (c=32)"
curl -fsS -o /dev/null "$SHOP/api/products/p-4242" || die "product by slug not answering"
wrk -t2 -c32 -d"${DURATION}s" --latency "$SHOP/health/live" > "$OUT/shop-live.txt"
wrk -t2 -c32 -d"${DURATION}s" --latency "$SHOP/api/products/p-4242" > "$OUT/product-slug.txt"

log "commerce: 200 concurrent orders for the last 10 units"
LAST_VARIANT="$(shop_sql -tAc "SELECT id FROM variants WHERE sku = 'BENCH-ORDER-8'")"
OVERSELL="$(commerce_py oversell "$SHOP" "$TOKEN" "$LAST_VARIANT" 200)" || die "oversell scenario failed"
LAST_STOCK="$(shop_sql -tAc "SELECT on_hand || ',' || reserved FROM variants WHERE sku = 'BENCH-ORDER-8'")"

log "commerce: uncontended order placement (8 connections, a variant each), and pgbench tpcb-like beside it"
shop_sql -tAc "SELECT id FROM variants WHERE sku LIKE 'BENCH-ORDER-%' AND sku <> 'BENCH-ORDER-8' ORDER BY sku" > "$OUT/order-variants.txt"
wrk -t8 -c8 -d"${DURATION}s" --latency -s "$ROOT/deploy/bench/commerce.lua" "$SHOP/api/orders" \
  -- order "$OUT/order-variants.txt" "$TOKEN" > "$OUT/orders.txt"
PGBENCH_TPCB_TPS="$(pgbench -b tpcb-like -n -c 8 -j 2 -T "$DURATION" "$(db_url bench)" 2>/dev/null | awk '/^tps/ {print $3; exit}')"

log "commerce: event ingestion through the gateway (batches of 100 product views), and the rollup's lag"
shop_sql -tAc "SELECT id FROM products WHERE slug ~ '^p-[0-9]+$' ORDER BY slug LIMIT 1000" > "$OUT/event-products.txt"
wrk -t2 -c16 -d"${DURATION}s" --latency -s "$ROOT/deploy/bench/commerce.lua" "$SHOP/api/analytics/events" \
  -- events "$OUT/event-products.txt" > "$OUT/events.txt"
# Lag: from the last accepted event until the hourly rollups count every view.
ROLLUP_LAG="$(commerce_py wait-sql "$(db_url "$SHOP_DB")" \
  "SELECT (SELECT COALESCE(SUM(views), 0) FROM analytics_hourly) >= (SELECT count(*) FROM analytics_events WHERE kind = 'product_view' AND counted)" 120)"

stop_pidfile "$PIDS/replica-commerce-$SHOP_PORT.pid" "commerce-$SHOP_PORT"
psql "$(admin_url)" -qc "DROP DATABASE IF EXISTS $SHOP_DB" >/dev/null

SEARCH_PLAIN_JSON="$(wrk_json < "$OUT/search-plain.txt")"
SEARCH_FILTERED_JSON="$(wrk_json < "$OUT/search-filtered.txt")"
SEARCH_TYPO_JSON="$(wrk_json < "$OUT/search-typo.txt")"
SEARCH_TYPO_REF_JSON="$(wrk_json < "$OUT/search-typo-ref.txt")"
SHOP_LIVE="$(wrk_json < "$OUT/shop-live.txt")"
PRODUCT_SLUG="$(wrk_json < "$OUT/product-slug.txt")"
ORDERS="$(wrk_json < "$OUT/orders.txt")"
EVENTS="$(wrk_json < "$OUT/events.txt")"
COMMERCE_JSON="$(python3 - <<PY
import json
plain, filtered, typo = json.loads('''$SEARCH_PLAIN_JSON'''), json.loads('''$SEARCH_FILTERED_JSON'''), json.loads('''$SEARCH_TYPO_JSON''')
typo_ref = json.loads('''$SEARCH_TYPO_REF_JSON''')
totals = [int(t) for t in "$SEARCH_TOTALS".split(",")]
live, slug = json.loads('''$SHOP_LIVE'''), json.loads('''$PRODUCT_SLUG''')
oversell, orders, events, lag = json.loads('''$OVERSELL'''), json.loads('''$ORDERS'''), json.loads('''$EVENTS'''), json.loads('''$ROLLUP_LAG''')
on_hand, reserved = (int(x) for x in "$LAST_STOCK".split(","))
pg = float("$PGBENCH_TPCB_TPS" or 0)
search = lambda w, total: {**w, "total": total, "p50TargetMs": 20, "p99TargetMs": 60}
print(json.dumps({
  "search": {"products": 100000, "concurrency": 8, "plain": search(plain, totals[0]),
             "filtered": search(filtered, totals[1]),
             "typo": {**search(typo, totals[2]), "typedCorrectly": {**typo_ref, "query": "$TYPO_WORD", "total": totals[3]}}},
  "productBySlug": {**slug, "healthLiveViaGateway": live, "ratio": slug["rps"] / live["rps"], "target": ">= 0.5"},
  "oversell": {**oversell, "units": 10, "onHandAfter": on_hand, "reservedAfter": reserved, "target": "placed == 10"},
  "orderPlacement": {**orders, "concurrency": 8, "pgbenchTpcbLikeTps": pg, "ratio": orders["rps"] / pg if pg else None, "target": ">= 0.2"},
  "eventIngestion": {**events, "eventsPerSec": events["rps"] * 100, "batch": 100, "rollupLagSeconds": lag["seconds"],
                     "rollupCaughtUp": lag["reached"], "target": ">= 5000 events/s, lag < 60 s"},
}))
PY
)"
