"""Schemathesis hooks of deploy/local/schemathesis.sh (SCHEMATHESIS_HOOKS).

tus PATCH bodies are raw bytes sent as `application/offset+octet-stream`: they
are serialized as schemathesis serializes `application/octet-stream`.
"""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
