"""Password hashes of the backend's users, and the credentials the seeded users log in with.

Every seeded user `N` logs in as username `userN` with the demo password `DEMO_PASSWORD`
(`user1` .. `user500` with the default 500 users). The database stores only a hash:
PBKDF2-HMAC-SHA256 with a 16-byte salt per user, written `pbkdf2_sha256$<iterations>$<salt
hex>$<hash hex>` so that the cost can be raised later without invalidating stored hashes.

The cost is a choice for a load-test target, not a recommendation for a real shop. OWASP
asks for 600,000 iterations (about 0.4 s of CPU per login on the machine these figures come
from); a login would then measure the hash and nothing else, and seeding 500 users would
take minutes. `ITERATIONS` = 200 costs about 0.15 ms per hash here: seeding 500 users adds
about 75 ms, and an open-model run where every arrival logs in (1,000 logins/s) spends about
0.15 CPU-seconds a second on hashing, visible in a profile but not the bottleneck.
"""

from __future__ import annotations

import hashlib
import hmac

DEMO_PASSWORD = "perfctl-demo"
"""The password of every seeded user."""
ITERATIONS = 200
"""PBKDF2 iterations of a new hash (see the module docstring for why so few)."""
SALT_BYTES = 16
_SCHEME = "pbkdf2_sha256"


def username_of(user_id: int) -> str:
    """The username a seeded user logs in with: `user{N}`."""
    return f"user{user_id}"


def hash_password(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    """The stored form of a password: scheme, iterations, salt and hash."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"{_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash `hash_password` wrote (constant-time compare)."""
    try:
        scheme, iterations, salt, expected = stored.split("$")
        if scheme != _SCHEME:
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), bytes.fromhex(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)
