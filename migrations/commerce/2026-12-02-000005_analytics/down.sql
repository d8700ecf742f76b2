DROP TABLE analytics_rollup_state;
DROP TABLE search_hourly;
DROP TABLE analytics_hourly;
DROP TABLE analytics_view_dedupe;
DROP TABLE analytics_events;
