//! Queries of carts.
