"""Schemathesis hooks for Ayubi's contract run (.ci/schemathesis/run).

Idempotency-Key: a key names one request. Schemathesis draws keys from a small pool and
sends the same key with different bodies, which the API rightly refuses (422, "was already
used with a different request"). A well-formed key is replaced by a fresh one, so every
request is its own; malformed keys (the negative cases) are left as drawn.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.match(key):
        headers["Idempotency-Key"] = str(uuid.uuid4())
        case.headers = headers
