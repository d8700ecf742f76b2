//! Queries of analytics.
