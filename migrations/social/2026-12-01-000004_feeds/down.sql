DROP TABLE foryou_deliveries;
DROP TABLE foryou_entries;
DROP TABLE foryou_sessions;
DROP TABLE trending_entries;
DROP TABLE trending_snapshots;
