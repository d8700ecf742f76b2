DROP TABLE signing_keys;
DROP TABLE password_resets;
DROP TABLE email_verifications;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
