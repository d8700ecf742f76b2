//! End-to-end tests live in `tests/`; they need `E2E_GATEWAY_URL` (set by `make test`).
