//! Queries of orders.
