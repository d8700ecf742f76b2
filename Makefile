# Reelstack: the two commands are `make run` and `make test`.
.PHONY: run test down lint check e2e bench openapi infra

run: ## Build in release mode and run the whole stack in the foreground (Ctrl-C stops it)
	bash deploy/local/stack.sh run

test: ## Everything CI runs: lint, unit, integration and end-to-end tests
	bash deploy/local/test.sh

down: ## Stop a stack left running (pid files under .run/pids)
	bash deploy/local/stack.sh stop

lint: ## rustfmt and clippy, warnings denied
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

check: ## Fast type check while iterating
	cargo check --workspace --all-targets

infra: ## Only PostgreSQL and Redis (for cargo test by hand)
	bash deploy/local/infra.sh up

e2e: ## End-to-end tests against a running stack (tmdb-sim, not real TMDB): AUTH_BOOTSTRAP_ADMIN_EMAILS=e2e-admin@example.com make run
	bash -c 'source deploy/local/lib.sh && python_venv "$$RUN/tus-venv" "$$ROOT/deploy/local/tus-requirements.txt" tuspy'
	E2E_GATEWAY_URL=http://127.0.0.1:8080 E2E_ADMIN_EMAIL=e2e-admin@example.com cargo test -p e2e --tests -- --skip upstream_failures

bench: ## Benchmarks in release mode; reports under target/bench/
	bash deploy/bench/run.sh

openapi: ## Regenerate proto-docs/*.openapi.json from the code
	UPDATE_OPENAPI=1 cargo test -p auth --test api the_openapi_document
	UPDATE_OPENAPI=1 cargo test -p media-catalog --test api the_openapi_document
	UPDATE_OPENAPI=1 cargo test -p meeting-user-sync --test api the_openapi_document
	UPDATE_OPENAPI=1 cargo test -p social --test api the_openapi_document
	UPDATE_OPENAPI=1 cargo test -p commerce --test api the_openapi_document
