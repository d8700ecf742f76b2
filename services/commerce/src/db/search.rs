//! Queries of search.
