"""Settings from the environment (prefix CARTFLOW_), with safe defaults for a laptop demo.

Production refuses the default secret key: a known key would let anyone forge session tokens.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "cartflow-development-secret-change-me"  # noqa: S105 - refused in production
DEFAULT_DATABASE_URL = f"sqlite:///{Path('var') / 'cartflow.sqlite3'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CARTFLOW_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEFAULT_SECRET_KEY
    host: str = "127.0.0.1"
    port: int = 8000
    # Part 11 §11.300: sessions end after inactivity; 15 minutes suits a shared ward tablet.
    session_idle_minutes: int = 15
    session_max_hours: int = 12
    # Part 11 §11.300(d): repeated wrong passwords (log-in or signing) lock the account for a while.
    max_failed_logins: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_request_bytes: int = 1_000_000
    # Database connections per server process: `db_pool_size` kept open, up to `db_max_overflow`
    # more under load (SQLAlchemy's defaults).
    db_pool_size: int = Field(default=5, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    # Requests in the app at once per server process; 0: as many as the pool has connections
    # (`db_pool_size + db_max_overflow`), so that every admitted request can get a connection and a
    # worker thread (docs/operations.md, "Overload"). The others wait, at most
    # `admission_queue` of them and `admission_wait_seconds` each, then get 503 with Retry-After.
    admission_limit: int = Field(default=0, ge=0, le=1000)
    admission_queue: int = Field(default=200, ge=0, le=100_000)
    admission_wait_seconds: float = Field(default=10.0, gt=0, le=600)
    # The language when neither the user's profile nor the browser names ru or en.
    default_locale: Literal["ru", "en"] = "en"
    # Times are stored in UTC; a page not about one center or site shows them in this zone.
    display_timezone: str = "Europe/Moscow"

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "CARTFLOW_SECRET_KEY must be set to a private value in production "
                "(the default development key is public)"
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("CARTFLOW_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def admitted_requests(self) -> int:
        return self.admission_limit or self.db_pool_size + self.db_max_overflow


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
