//! Queries of images.
